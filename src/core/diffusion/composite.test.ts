import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { connectedRegions, cropWindow, generateInWindows, planWindows } from './composite';
import { DEFAULT_TILING, generateOnPhoto, generateTiled } from './tiled';
import type { DenoiseFn } from '../model/denoiser';
import { parseManifest } from '../model/manifest';
import type { GenerateRequest } from '../model/protocol';

const m = parseManifest(JSON.parse(readFileSync('public/models/magtile-defect-64/manifest.json', 'utf8')));
const W = 200, H = 150;
const photo = { width: W, height: H, name: 'tile.png', pixels: Uint8Array.from({ length: W * H }, (_, i) => (i * 13) % 251) };
const req: GenerateRequest = { className: 'Crack', prompt: '', seed: 5, sampler: 'ddim', steps: 3, guidance: 2, eta: 0, timestepSpacing: 'trailing', clipSample: true };
const darken: DenoiseFn = async (b) => b.sample.map((v) => 0.2 * v - 0.3);

function paint(rects: [number, number, number, number][]): Uint8Array {
  const mask = new Uint8Array(W * H);
  for (const [x0, y0, x1, y1] of rects) for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) mask[y * W + x] = 1;
  return mask;
}

describe('photo windows', () => {
  it('finds 8-connected regions', () => {
    const mask = paint([[10, 10, 12, 12], [12, 12, 14, 14], [100, 100, 101, 101]]);
    expect(connectedRegions(mask, W, H).map((r) => [r.x0, r.y0, r.x1, r.y1])).toEqual([[10, 10, 14, 14], [100, 100, 101, 101]]);
  });

  it('gives distant regions their own windows, clamped inside the photo', () => {
    const wins = planWindows(paint([[2, 2, 8, 6], [180, 130, 195, 145]]), W, H, 64, 4);
    expect(wins).toHaveLength(2);
    for (const w of wins) {
      expect(w.x).toBeGreaterThanOrEqual(0);
      expect(w.y).toBeGreaterThanOrEqual(0);
      expect(w.x + w.size).toBeLessThanOrEqual(W);
      expect(w.y + w.size).toBeLessThanOrEqual(H);
    }
    expect(wins[0]).toMatchObject({ x: 0, y: 0 });
  });

  it('refuses an empty mask and a too-small photo, saying what is accepted', () => {
    expect(() => planWindows(new Uint8Array(W * H), W, H, 64, 4)).toThrow(/mask is empty/);
    expect(() => planWindows(new Uint8Array(50 * 50), 50, 50, 64, 4)).toThrow(/at least 64x64/);
  });

  it('covers a region larger than a window with overlapping tiles whose holes hold every painted pixel', () => {
    // The case: a 21x134 crack on a 240x289 tile (refused before tiling).
    const TW = 240, TH = 289;
    const mask = new Uint8Array(TW * TH);
    for (let y = 100; y < 234; y++) for (let x = 110; x < 131; x++) if (Math.abs(x - 120 - ((y - 100) * 10) / 134) < 3) mask[y * TW + x] = 1;
    const wins = planWindows(mask, TW, TH, 64, 4);
    expect(wins.length).toBeGreaterThan(1);
    const inHoles = (x: number, y: number) => wins.some((w) => x >= w.x + w.hole.x0 && x < w.x + w.hole.x1 && y >= w.y + w.hole.y0 && y < w.y + w.hole.y1);
    for (let i = 0; i < TW * TH; i++) if (mask[i]) expect(inHoles(i % TW, Math.floor(i / TW))).toBe(true);
    for (const w of wins) {
      expect(w.x >= 0 && w.y >= 0 && w.x + 64 <= TW && w.y + 64 <= TH).toBe(true);
      expect(w.hole.x0 <= w.hole.x1 && w.hole.x1 <= 64 && w.hole.y0 <= w.hole.y1 && w.hole.y1 <= 64).toBe(true);
    }
    // Neighbouring tiles overlap by at least half a window: along the crack the tile rows are at most 32 apart.
    const ys = [...new Set(wins.map((w) => w.y))].sort((a, b) => a - b);
    for (let k = 1; k < ys.length; k++) expect((ys[k] as number) - (ys[k - 1] as number)).toBeLessThanOrEqual(32);
    // The tiles reach photo context past the region plus margin on every side.
    expect(Math.min(...wins.map((w) => w.y))).toBeLessThanOrEqual(100 - 4 - 16);
    expect(Math.max(...wins.map((w) => w.y + 64))).toBeGreaterThanOrEqual(234 + 4 + 16);
    // A thin vertical crack regenerates a band a few tiles wide, not the whole width of the photo.
    let holePixels = 0;
    for (let i = 0; i < TW * TH; i++) if (inHoles(i % TW, Math.floor(i / TW))) holePixels++;
    expect(holePixels).toBeLessThan(50 * 150);
  });

  it('a diagonal stroke gets holes along it, not its whole bounding box', () => {
    const mask = new Uint8Array(W * H);
    for (let t = 0; t < 140; t++) for (let d = -1; d <= 1; d++) mask[(5 + Math.round(t * 0.9)) * W + 30 + t + d] = 1;
    const wins = planWindows(mask, W, H, 64, 4);
    let holePixels = 0;
    for (let i = 0; i < W * H; i++) {
      const x = i % W, y = Math.floor(i / W);
      if (wins.some((w) => x >= w.x + w.hole.x0 && x < w.x + w.hole.x1 && y >= w.y + w.hole.y0 && y < w.y + w.hole.y1)) holePixels++;
    }
    expect(holePixels).toBeLessThan(0.6 * 148 * 134);
  });

  it('changes only the holes: every pixel outside them is the photo, the mask is exactly the painted one', async () => {
    const mask = paint([[20, 20, 30, 24], [150, 100, 160, 110]]);
    const r = await generateOnPhoto(m, null, darken, req, photo, mask, 'wasm');
    expect([r.width, r.height]).toEqual([W, H]);
    expect(Array.from(r.mask)).toEqual(Array.from(mask));
    const wins = r.provenance.windows ?? [];
    expect(wins).toHaveLength(2);
    let changed = 0;
    for (let i = 0; i < W * H; i++) {
      const x = i % W, y = Math.floor(i / W);
      const inHole = wins.some((w) => x >= w.x + w.hole.x0 && x < w.x + w.hole.x1 && y >= w.y + w.hole.y0 && y < w.y + w.hole.y1);
      if (!inHole) expect(r.pixels[i]).toBe(photo.pixels[i]);
      else if (r.pixels[i] !== photo.pixels[i]) changed++;
    }
    expect(changed).toBeGreaterThan(50);
    expect(r.provenance.basePhoto).toMatchObject({ name: 'tile.png', width: W, height: H });
  });

  it('refuses a mask painted on another photo size', async () => {
    await expect(generateOnPhoto(m, null, darken, req, photo, new Uint8Array(10), 'wasm')).rejects.toThrow(/the mask is 10 pixels but the photo is 200x150/);
  });

  it('records the guidance interval, and the recorded windows regenerate the same bytes whatever margin made them', async () => {
    const mask = paint([[20, 20, 30, 24], [150, 100, 160, 110]]);
    const guided = { ...req, guidanceInterval: [0.28, 5.42] as const };
    const r = await generateOnPhoto(m, null, darken, guided, photo, mask, 'wasm', {}, 9);
    expect(r.provenance.guidanceInterval).toEqual([0.28, 5.42]);
    const again = await generateTiled(m, darken, guided, photo, mask, r.provenance.windows ?? [], 'wasm', {}, r.provenance.tiling);
    expect(again.png).toEqual(r.png);
    const withMargin4 = await generateOnPhoto(m, null, darken, guided, photo, mask, 'wasm');
    expect(withMargin4.provenance.windows).not.toEqual(r.provenance.windows);
  });

  it('the older window-by-window path still makes items without a tiling record, window k with its own seed', async () => {
    const mask = paint([[20, 20, 30, 24], [150, 100, 160, 110]]);
    const wins = planWindows(mask, W, H, 64, 4);
    const legacy = await generateInWindows(m, null, darken, req, photo, mask, wins, 'wasm');
    expect(legacy.provenance.tiling).toBeUndefined();
    const joint = await generateTiled(m, darken, req, photo, mask, wins, 'wasm', {}, { ...DEFAULT_TILING, feather: 0 });
    expect(joint.provenance.tiling).toEqual({ method: 'multidiffusion', weighting: 'tent', rowsPerCall: 32, feather: 0, reach: 4 });
    // Two windows sharing no rows: window 0's pixels come first on the joint canvas, so it draws the noise the
    // older path's window 0 drew from the same seed; window 1 had a seed of its own there.
    const w0 = wins[0]!, w1 = wins[1]!;
    const px = (r: typeof legacy, win: typeof w0) => Array.from(cropWindow(r.pixels, W, win));
    expect(px(joint, w0)).toEqual(px(legacy, w0));
    expect(px(joint, w1)).not.toEqual(px(legacy, w1));
  });

  it('refuses a recorded window that does not fit the photo or the model, saying what is accepted', async () => {
    const mask = paint([[20, 20, 30, 24]]);
    const off = { x: W - 10, y: 0, size: 64, hole: { x0: 0, y0: 0, x1: 8, y1: 8 } };
    await expect(generateInWindows(m, null, darken, req, photo, mask, [off], 'wasm')).rejects.toThrow(/does not fit: windows must be 64x64 inside the 200x150 photo/);
    const badHole = { x: 0, y: 0, size: 64, hole: { x0: 10, y0: 0, x1: 70, y1: 8 } };
    await expect(generateInWindows(m, null, darken, req, photo, mask, [badHole], 'wasm')).rejects.toThrow(/with the hole inside the window/);
  });
});
