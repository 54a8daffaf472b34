import { describe, expect, it } from 'vitest';
import type { PhotoWindow } from '../model/protocol';
import { backgroundOnly, judgedRegion, memorisedRegion, regeneratedMask } from './region';

const S = 64;
const win = (x: number, y: number, hole: [number, number, number, number]): PhotoWindow => ({ x, y, size: S, hole: { x0: hole[0], y0: hole[1], x1: hole[2], y1: hole[3] } });
const photo = { basePhoto: { name: 'p.png', sha256: '0', width: 200, height: 120 } };

describe('the region a photo item is judged on', () => {
  it('is its first window, cut from the photo, not the photo\'s centre', () => {
    const w = 200, h = 120;
    const px = Uint8Array.from({ length: w * h }, (_, i) => (i % w) + Math.floor(i / w)); // value = x + y
    const r = judgedRegion({ width: w, height: h, pixels: px }, { ...photo, windows: [win(10, 30, [20, 20, 40, 40]), win(100, 30, [0, 0, 8, 8])] }, S, 'p');
    expect(r.region).toBe('photo window');
    expect(r.pixels[0]).toBe(10 + 30);
    expect(r.pixels[5 * S + 7]).toBe(17 + 35);
    expect(r.background).not.toBeNull();
    // a larger image without windows: its centre; a window-sized one: itself; smaller: refused
    expect(judgedRegion({ width: w, height: h, pixels: px }, null, S, 'p').pixels[0]).toBe(68 + 28);
    expect(judgedRegion({ width: S, height: S, pixels: px.slice(0, S * S) }, null, S, 'w').region).toBe('window');
    expect(() => judgedRegion({ width: 16, height: 16, pixels: px.slice(0, 256) }, null, S, 'tiny')).toThrow(/tiny is 16x16; the classifier needs at least 64x64/);
    expect(() => judgedRegion({ width: w, height: h, pixels: px }, { ...photo, windows: [win(150, 30, [0, 0, 8, 8])] }, S, 'p')).toThrow(/lies outside the 200x120 image/);
  });

  it('the regenerated mask is the union of every window\'s hole inside this window', () => {
    const m = regeneratedMask([win(0, 0, [10, 10, 20, 20]), win(32, 0, [0, 0, 4, 64])], win(0, 0, [10, 10, 20, 20]));
    expect(m[10 * S + 10]).toBe(1);
    expect(m[19 * S + 19]).toBe(1);
    expect(m[20 * S + 20]).toBe(0);
    expect(m[0 * S + 32]).toBe(1); // the second window's hole starts at photo x 32
    expect(m[63 * S + 35]).toBe(1);
    expect(m[0 * S + 36]).toBe(0);
    expect(m.reduce((a, b) => a + b, 0)).toBe(100 + 4 * 64);
  });

  it('background-only: the regenerated pixels are replaced from the photo around them, the rest untouched', () => {
    const px = Uint8Array.from({ length: S * S }, (_, i) => 2 * (i % S) + Math.floor(i / S)); // a linear ramp
    const mask = new Uint8Array(S * S);
    const regenerated = Uint8Array.from(px);
    for (let y = 20; y < 40; y++) for (let x = 10; x < 30; x++) {
      mask[y * S + x] = 1;
      regenerated[y * S + x] = 255; // whatever the model put there
    }
    const bg = backgroundOnly(regenerated, mask, S);
    for (let i = 0; i < S * S; i++) expect(bg[i]).toBe(px[i]); // a ramp is interpolated exactly
    // a hole through the whole window (nothing of the photo left): the mean of what there is, else mid-gray
    expect(new Set(backgroundOnly(regenerated, new Uint8Array(S * S).fill(1), S))).toEqual(new Set([128]));
  });

  it('memorised only when the regenerated pixels make it near a real window, not the photo around them', () => {
    expect(memorisedRegion(0.1, 0.5)).toBe('memorised'); // a window item near a real window
    expect(memorisedRegion(0.9, 0.5)).toBe('not memorised');
    expect(memorisedRegion(0.1, 0.5, 2.0)).toBe('memorised'); // photo item: the background alone is far
    expect(memorisedRegion(0.1, 0.5, 0.2)).toBe('background near real'); // the photo itself is near a real window
    expect(memorisedRegion(0.1, 0.5, null)).toBe('not judged');
  });
});
