import { describe, expect, it } from 'vitest';
import { buildCoco, decodeCocoRle, encodeCocoRle, maskBbox } from './coco';

describe('COCO RLE', () => {
  it('encodes column-major runs starting with zeros (known answer)', () => {
    // 3x2 (w=3, h=2), row-major:
    // 0 1 1
    // 0 0 1
    const m = Uint8Array.from([0, 1, 1, 0, 0, 1]);
    // column-major order: (x0: 0,0) (x1: 1,0) (x2: 1,1) -> 0,0,1,0,1,1 -> runs [2,1,1,2]
    expect(encodeCocoRle(m, 3, 2)).toEqual({ size: [2, 3], counts: [2, 1, 1, 2] });
  });

  it('starts with an empty zero run when the first pixel is set', () => {
    // 2x2 row-major [1 0 / 1 0]: first column is all ones -> [0, 2, 2]; [1 1 / 0 0] alternates -> [0, 1, 1, 1, 1]
    expect(encodeCocoRle(Uint8Array.from([1, 0, 1, 0]), 2, 2).counts).toEqual([0, 2, 2]);
    expect(encodeCocoRle(Uint8Array.from([1, 1, 0, 0]), 2, 2).counts).toEqual([0, 1, 1, 1, 1]);
  });

  it('round-trips random masks', () => {
    let s = 12345;
    for (let k = 0; k < 20; k++) {
      const w = 1 + (k % 7) * 5, h = 1 + (k % 5) * 7;
      const m = Uint8Array.from({ length: w * h }, () => ((s = (s * 1103515245 + 12345) >>> 0) >> 16) & 1);
      expect(decodeCocoRle(encodeCocoRle(m, w, h))).toEqual(m);
    }
  });

  it('computes bbox and builds one annotation per non-empty mask with categories from the classes', () => {
    const m = new Uint8Array(16);
    m[5] = 1; // (1,1)
    m[10] = 1; // (2,2)
    expect(maskBbox(m, 4, 4)).toEqual([1, 1, 2, 2]);
    const coco = buildCoco(
      [
        { id: 'a', fileName: 'images/Crack/a.png', width: 4, height: 4, className: 'Crack', mask: m },
        { id: 'b', fileName: 'images/Free/b.png', width: 4, height: 4, className: 'Free', mask: new Uint8Array(16) },
      ],
      ['Blowhole', 'Crack', 'Free'],
      '2026-01-01',
    );
    expect(coco.categories.map((c) => [c.id, c.name])).toEqual([[1, 'Blowhole'], [2, 'Crack'], [3, 'Free']]);
    expect(coco.images).toHaveLength(2);
    expect(coco.annotations).toHaveLength(1);
    expect(coco.annotations[0]).toMatchObject({ image_id: 1, category_id: 2, area: 2, bbox: [1, 1, 2, 2], iscrowd: 0 });
  });
});
