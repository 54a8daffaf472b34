import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missing } from '../../../scripts/lib/needs';
import { Rng } from '../diffusion/rng';
import { maskBbox } from './coco';
import { decodeMaskPng } from './image';
import { decodePartMask, drawPartMask, parsePartMaskLibrary, PART_MASKS_FORMAT, type PartMask } from './partMasks';

const shipped = parsePartMaskLibrary(JSON.parse(readFileSync(resolve('public/models/magtile-defect-64/part_masks.json'), 'utf8')));
const dataRoot = resolve('../shared/datasets/magnetic-tile/train');
const area = (p: Uint8Array) => p.reduce((s, v) => s + v, 0);

describe('part_masks.json', () => {
  it('the shipped library has real whole-part masks for every defect class', () => {
    expect(Object.keys(shipped.classes).sort()).toEqual(['Blowhole', 'Break', 'Crack', 'Fray', 'Uneven']);
    for (const list of Object.values(shipped.classes)) {
      expect(list.length).toBeGreaterThan(10);
      for (const m of list) expect(area(decodePartMask(m).pixels)).toBeGreaterThan(0);
    }
    // Fray and Uneven cover a large part of their tiles, Blowholes a tiny one (the dataset README's numbers)
    const meanFrac = (c: string) => {
      const l = shipped.classes[c] as PartMask[];
      return l.reduce((s, m) => s + area(decodePartMask(m).pixels) / (m.width * m.height), 0) / l.length;
    };
    expect(meanFrac('Fray')).toBeGreaterThan(0.05);
    expect(meanFrac('Blowhole')).toBeLessThan(0.01);
  });

  it.skipIf(missing(existsSync(dataRoot), 'the magnetic-tile dataset (../shared/datasets/magnetic-tile)'))('each stored mask is exactly a mask file of the dataset', () => {
    const files = readdirSync(join(dataRoot, 'Crack')).filter((f) => f.endsWith('_mask.png'));
    const real = files.map((f) => decodeMaskPng(new Uint8Array(readFileSync(join(dataRoot, 'Crack', f)))));
    for (const m of shipped.classes['Crack'] as PartMask[]) {
      const d = decodePartMask(m);
      expect(real.some((r) => r.width === d.width && r.height === d.height && r.pixels.every((v, i) => v === d.pixels[i]))).toBe(true);
    }
  });

  it('draws a seeded real mask at native scale on a photo', () => {
    const a = drawPartMask(shipped, 'Fray', 240, 289, new Rng(7));
    const b = drawPartMask(shipped, 'Fray', 240, 289, new Rng(7));
    expect(a.index).toBe(b.index);
    expect(a.mask).toEqual(b.mask);
    const src = decodePartMask(shipped.classes['Fray']?.[a.index] as PartMask);
    const [, , bw, bh] = maskBbox(a.mask, 240, 289) as number[];
    const [, , sw, sh] = maskBbox(src.pixels, src.width, src.height) as number[];
    // not resized: the same box (or cropped to the photo when the source part was larger)
    expect(bw).toBe(Math.min(sw as number, 240));
    expect(bh).toBe(Math.min(sh as number, 289));
    const seen = new Set(Array.from({ length: 12 }, (_, s) => drawPartMask(shipped, 'Fray', 240, 289, new Rng(s)).index));
    expect(seen.size).toBeGreaterThan(3);
  });

  it('refuses a class it has no masks of, naming the ones it has', () => {
    expect(() => drawPartMask(shipped, 'Free', 100, 100, new Rng(1))).toThrow(/no masks of class Free; it has: Blowhole, Break/);
  });

  it('says which mask is malformed and what is accepted', () => {
    const good = { width: 4, height: 3, bbox: [1, 1, 2, 2], runs: [0, 4] };
    const lib = (m: unknown) => ({ format: PART_MASKS_FORMAT, formatVersion: 1, classes: { Crack: [good, m] } });
    expect(decodePartMask(parsePartMaskLibrary(lib(good)).classes['Crack']?.[0] as PartMask).pixels).toEqual(
      Uint8Array.from([0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0]),
    );
    expect(() => parsePartMaskLibrary(lib({ ...good, runs: [1, 2] }))).toThrow(/classes\.Crack\[1\] runs add up to 3, expected 4/);
    expect(() => parsePartMaskLibrary(lib({ ...good, bbox: [3, 0, 2, 1] }))).toThrow(/classes\.Crack\[1\] bbox must be \[x, y, w, h\] inside its 4x3 part/);
    expect(() => parsePartMaskLibrary({ ...lib(good), formatVersion: 2 })).toThrow(/reads version 1/);
    expect(() => parsePartMaskLibrary({ classes: {} })).toThrow(/must be \{"format": "defect-diffusion-part-masks"/);
  });
});
