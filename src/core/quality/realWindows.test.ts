import { describe, expect, it } from 'vitest';
import { Rng } from '../diffusion/rng';
import { cropRealWindow, drawRealWindows, drawRealWindowsSync, groupOf, loadedReal, parseGroupsCsv, type RealImage } from './realWindows';

const gray = (w: number, h: number, f: (x: number, y: number) => number) => ({ width: w, height: h, pixels: Uint8Array.from({ length: w * h }, (_, i) => f(i % w, Math.floor(i / w))) });

describe('real windows', () => {
  it('reads the tile groups CSV (quoted fields, paths reduced to the file name) and names a bad one', () => {
    const g = parseGroupsCsv('split,image,tile_group\ntrain,"train/Crack/a,1.jpg",G1\ntrain,train/Crack/b.jpg,"G ""2"""\n');
    expect([...g]).toEqual([['a,1.jpg', 'G1'], ['b.jpg', 'G "2"']]);
    expect(() => parseGroupsCsv('image,group\n')).toThrow(/has columns image, group; accepted: a CSV with columns image and tile_group/);
    expect(groupOf('Crack', 'x.jpg', g)).toBe('Crack/x.jpg');
    expect(groupOf('Crack', 'b.jpg', g)).toBe('G "2"');
  });

  it('crops around a defect pixel (+- jitter), reflection-pads a small image, refuses a mask of another size', () => {
    const img = gray(200, 100, (x, y) => (x + y) % 256);
    const mask = gray(200, 100, (x, y) => (x === 150 && y === 60 ? 255 : 0));
    const l = loadedReal(img, mask, 'm');
    expect(Array.from(l.defects)).toEqual([60 * 200 + 150]);
    for (let s = 0; s < 5; s++) {
      const w = cropRealWindow(l, 64, new Rng(s), 0);
      expect(w[32 * 64 + 32]).toBe((150 + 60) % 256); // centred on the defect
    }
    const small = cropRealWindow(loadedReal(gray(40, 30, (x) => x), null, 's'), 64, new Rng(1), 16);
    expect(small[45]).toBe(2 * 39 - 45); // column 45 reflects to 33
    expect(() => loadedReal(img, gray(10, 10, () => 0), 'bad_mask.png')).toThrow(/bad_mask.png: mask is 10x10, image is 200x100; they must match/);
  });

  it('the synchronous and asynchronous readers draw the same windows; an unreadable image is left out with why', async () => {
    const images: RealImage[] = ['a', 'b', 'c', 'broken'].map((n, k) => ({ className: 'Crack', name: `${n}.png`, path: `Crack/${n}.png`, group: n, test: k === 2 || k === 3 }));
    const load = (r: RealImage) => {
      if (r.name === 'broken.png') throw new Error('not an image');
      return loadedReal(gray(80, 70, (x, y) => (x * 3 + y * (r.name.charCodeAt(0) - 96)) % 256), null, r.path);
    };
    const a = drawRealWindowsSync(images, ['Blowhole', 'Crack'], 6, 64, 3, 16, load);
    const b = await drawRealWindows(images, ['Blowhole', 'Crack'], 6, 64, 3, 16, async (r) => load(r));
    expect(b).toEqual(a);
    expect(a.labels).toEqual(new Array(12).fill(1));
    expect(a.test).toEqual([...new Array(6).fill(false), ...new Array(6).fill(true)]);
    expect(a.skipped).toEqual([{ item: 'Crack/broken.png', why: 'not an image' }]);
    expect(new Set(a.source.slice(6))).toEqual(new Set([2])); // the held-out side had only c readable
  });
});
