import { describe, expect, it } from 'vitest';
import { maskBbox } from './coco';
import { placeRealMask } from './photoMask';
import { Rng } from '../diffusion/rng';

describe('a real mask on another photo', () => {
  it('keeps its size in pixels and its place on the part: a defect on the left edge lands on the left edge (or the right, flipped)', () => {
    const src = { width: 400, height: 300, pixels: new Uint8Array(400 * 300) };
    for (let y = 100; y < 180; y++) for (let x = 0; x < 20; x++) src.pixels[y * 400 + x] = 1;
    const sides = new Set<string>();
    for (let s = 0; s < 16; s++) {
      const out = placeRealMask(src, 200, 250, new Rng(s)) as Uint8Array;
      const [x, y, w, h] = maskBbox(out, 200, 250) as [number, number, number, number];
      expect([w, h]).toEqual([20, 80]);
      expect(x === 0 || x + w === 200).toBe(true);
      expect(Math.abs(y + h / 2 - (140 / 300) * 250) <= 1 || Math.abs(y + h / 2 - (160 / 300) * 250) <= 1).toBe(true);
      sides.add(x === 0 ? 'left' : 'right');
    }
    expect(sides).toEqual(new Set(['left', 'right']));
  });

  it('crops a mask larger than the photo and gives null for an empty one', () => {
    const big = { width: 300, height: 300, pixels: new Uint8Array(300 * 300).fill(1) };
    expect(placeRealMask(big, 100, 80, new Rng(1))?.every((v) => v === 1)).toBe(true);
    expect(placeRealMask({ width: 10, height: 10, pixels: new Uint8Array(100) }, 100, 80, new Rng(1))).toBeNull();
  });
});
