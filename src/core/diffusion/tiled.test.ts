import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateInWindows, planWindows, regeneratedArea } from './composite';
import { chessboardDepth } from '../quality/seam';
import type { DenoiseBatch, DenoiseFn } from '../model/denoiser';
import { guidanceApplies } from './guidance';
import { parseManifest } from '../model/manifest';
import { createSampler } from './samplers';
import type { GenerateRequest, PhotoWindow } from '../model/protocol';
import { buildCanvas, DEFAULT_TILING, fuseOutputs, generateOnPhoto, generateTiled, parseTiling, windowWeights } from './tiled';

const m = parseManifest(JSON.parse(readFileSync('public/models/magtile-defect-64/manifest.json', 'utf8')));
const W = 240, H = 289;
const photo = { width: W, height: H, name: 'tile.png', pixels: Uint8Array.from({ length: W * H }, (_, i) => 60 + ((i * 13) % 97)) };
const req: GenerateRequest = { className: 'Crack', prompt: '', seed: 5, sampler: 'dpmpp2m', steps: 4, guidance: 2, guidanceInterval: [0.28, 5.42], eta: 0, timestepSpacing: 'linspace', clipSample: true };

/**
 * A fake network that reads every input of its row, so that a window given another row's sample, mask, known
 * image, keep mask or label gives another answer, and where in the window a pixel is, so that overlapping windows
 * disagree (as a real network's do) and the fusion weights matter; row by row, so the batch does not matter.
 */
const fake: DenoiseFn = async (b: DenoiseBatch) => {
  const n = b.sample.length / b.batch;
  const out = new Float32Array(b.sample.length);
  for (let r = 0; r < b.batch; r++) {
    const lab = Number(b.classLabels[r]);
    for (let j = 0; j < n; j++) {
      const i = r * n + j;
      out[i] = 0.3 * (b.sample[i] as number) - 0.2 + 0.05 * lab + 0.3 * (b.defectMask[i] as number) + 0.2 * (b.knownImage[i] as number) - 0.1 * (b.keepMask[i] as number) + 0.1 * ((j % 64) / 64 - 0.5) + 0.1 * (Math.floor(j / 64) / 64 - 0.5);
    }
  }
  return out;
};

/** A 21x134 crack, the refused case, as a wavy 5-pixel-wide stroke. */
function crack(): Uint8Array {
  const mask = new Uint8Array(W * H);
  for (let y = 100; y < 234; y++) for (let x = 100; x < 140; x++) if (Math.abs(x - 110 - 8 * Math.sin((y - 100) / 20)) < 2.5) mask[y * W + x] = 1;
  return mask;
}

const inHoles = (wins: readonly PhotoWindow[], i: number) => {
  const x = i % W, y = Math.floor(i / W);
  return wins.some((w) => x >= w.x + w.hole.x0 && x < w.x + w.hole.x1 && y >= w.y + w.hole.y0 && y < w.y + w.hole.y1);
};

describe('MultiDiffusion fusion', () => {
  it('averages overlapping windows with the weights and takes a single window as is', () => {
    const size = 64;
    const wins: PhotoWindow[] = [{ x: 0, y: 0, size, hole: { x0: 10, y0: 10, x1: 20, y1: 20 } }, { x: 32, y: 0, size, hole: { x0: 0, y0: 0, x1: 0, y1: 0 } }];
    const canvas = buildCanvas(100, wins, size);
    expect(canvas.photoIndex.length).toBe(96 * 64);
    const weights = windowWeights(size, 'tent');
    expect(weights[0]).toBeCloseTo(1 / 1024, 12);
    expect(weights[32 * 64 + 32]).toBe(1);
    const per = new Float32Array(2 * size * size);
    per.fill(1, 0, size * size);
    per.fill(3, size * size);
    const fused = fuseOutputs(per, canvas, weights);
    // canvas pixel (x, y) is index y * 96 + x; x = 40 is window 0's column 40 and window 1's column 8
    const wa = (weights[5 * 64 + 40] as number), wb = (weights[5 * 64 + 8] as number);
    expect(fused[5 * 96 + 40]).toBeCloseTo((wa * 1 + wb * 3) / (wa + wb), 6);
    expect(fused[5 * 96 + 10]).toBe(1);
    expect(fused[5 * 96 + 90]).toBe(3);
    const uniform = fuseOutputs(per, canvas, windowWeights(size, 'uniform'));
    expect(uniform[5 * 96 + 40]).toBe(2);
    // keep mask: 0 exactly on the hole
    expect(canvas.keep[15 * 96 + 15]).toBe(0);
    expect(canvas.keep[25 * 96 + 15]).toBe(1);
  });
});

describe('joint (tiled) generation on a photo', () => {
  it('a single window makes the bytes the one-window-at-a-time path makes', async () => {
    const mask = new Uint8Array(W * H);
    for (let y = 50; y < 60; y++) for (let x = 70; x < 85; x++) mask[y * W + x] = 1;
    const wins = planWindows(mask, W, H, 64, 4);
    expect(wins).toHaveLength(1);
    for (const r of [req, { ...req, sampler: 'ddpm' as const, timestepSpacing: 'trailing' as const }, { ...req, guidance: 1 }]) {
      const joint = await generateTiled(m, fake, r, photo, mask, wins, 'wasm', {}, { ...DEFAULT_TILING, feather: 0 });
      const legacy = await generateInWindows(m, null, fake, r, photo, mask, wins, 'wasm');
      expect(joint.png).toEqual(legacy.png);
      expect(joint.provenance.modelEvaluations).toBe(legacy.provenance.modelEvaluations);
      expect(joint.provenance.tiling).toBeUndefined();
    }
  });

  it('a region taller than a window: no refusal, only the holes change, the mask is the painted one, the tiling is recorded', async () => {
    const mask = crack();
    const r = await generateOnPhoto(m, null, fake, req, photo, mask, 'wasm');
    const wins = r.provenance.windows ?? [];
    expect(wins.length).toBeGreaterThan(3);
    expect(r.provenance.tiling).toEqual({ method: 'multidiffusion', weighting: 'tent', rowsPerCall: 32, feather: 6, reach: 4 });
    expect(Array.from(r.mask)).toEqual(Array.from(mask));
    let changed = 0;
    for (let i = 0; i < W * H; i++) {
      if (!inHoles(wins, i)) expect(r.pixels[i]).toBe(photo.pixels[i]);
      else if (r.pixels[i] !== photo.pixels[i]) changed++;
    }
    expect(changed).toBeGreaterThan(1000);
    // guided steps: 2 rows per window, unguided: 1
    const { guidedSteps } = countSteps();
    expect(r.provenance.modelEvaluations).toBe(wins.length * (2 * guidedSteps + (req.steps - guidedSteps)));
    expect(new TextDecoder('latin1').decode(r.png)).toContain('"tiling":{"method":"multidiffusion"');
  });

  it('same seed, same bytes; another seed, another image; rows per call change nothing but the calls', async () => {
    const mask = crack();
    const a = await generateOnPhoto(m, null, fake, req, photo, mask, 'wasm');
    const wins = a.provenance.windows ?? [];
    const b = await generateTiled(m, fake, req, photo, mask, wins, 'wasm', {}, a.provenance.tiling);
    expect(b.png).toEqual(a.png);
    const c = await generateTiled(m, fake, { ...req, seed: 6 }, photo, mask, wins, 'wasm');
    expect(c.pixels).not.toEqual(a.pixels);
    let calls = 0;
    const counting: DenoiseFn = async (x) => {
      calls++;
      expect(x.batch).toBeLessThanOrEqual(3);
      return fake(x);
    };
    const d = await generateTiled(m, counting, req, photo, mask, wins, 'wasm', {}, { ...DEFAULT_TILING, rowsPerCall: 3 });
    expect(d.pixels).toEqual(a.pixels);
    const { guidedSteps } = countSteps();
    expect(calls).toBe(guidedSteps * Math.ceil((2 * wins.length) / 3) + (req.steps - guidedSteps) * Math.ceil(wins.length / 3));
    const u = await generateTiled(m, fake, req, photo, mask, wins, 'wasm', {}, { ...DEFAULT_TILING, weighting: 'uniform' });
    expect(u.pixels).not.toEqual(a.pixels);
  });

  it('is jointly denoised: each window sees the canvas its neighbours changed', async () => {
    // With a network whose output depends on where a window sits, separately denoised windows would disagree in
    // their overlap; jointly, every window is fed the same fused canvas, so overlapping rows see identical samples.
    const mask = crack();
    const wins = planWindows(mask, W, H, 64, 4);
    const seen: Float32Array[] = [];
    const spy: DenoiseFn = async (b) => {
      seen.push(b.sample.slice());
      return fake(b);
    };
    await generateTiled(m, spy, { ...req, steps: 2, guidance: 1 }, photo, mask, wins, 'wasm');
    const canvas = buildCanvas(W, wins, 64);
    // at the second step, every window's crop agrees with the others' on shared canvas pixels
    const step2 = seen[1] as Float32Array;
    const value = new Map<number, number>();
    wins.forEach((_, k) => {
      const idx = canvas.windowIndex[k] as Int32Array;
      for (let j = 0; j < 64 * 64; j++) {
        const c = idx[j] as number, v = step2[k * 4096 + j] as number;
        const prev = value.get(c);
        if (prev !== undefined) expect(v).toBe(prev);
        else value.set(c, v);
      }
    });
  });

  it('feathers: far from the painted defect a hole is the photo again, and its edge is pulled towards the photo', async () => {
    // a diagonal stroke: its tiles' holes are blocks with corners far from it
    const mask = new Uint8Array(W * H);
    for (let t = 0; t < 130; t++) for (let d = -1; d <= 1; d++) mask[(60 + t) * W + 50 + t + d] = 1;
    const wins = planWindows(mask, W, H, 64, 4);
    const soft = await generateTiled(m, fake, req, photo, mask, wins, 'wasm');
    const hard = await generateTiled(m, fake, req, photo, mask, wins, 'wasm', {}, { ...DEFAULT_TILING, feather: 0 });
    const area = regeneratedArea(wins, W, H);
    const depth = chessboardDepth(area, W, H, false);
    const fromDefect = chessboardDepth(Uint8Array.from(mask, (v) => 1 - v), W, H, false);
    const { feather = 0, reach = 0 } = DEFAULT_TILING;
    let far = 0, edgeSoft = 0, edgeHard = 0, edgeN = 0;
    for (let i = 0; i < W * H; i++) {
      if (!area[i]) continue;
      if ((fromDefect[i] as number) >= reach + feather + 1) {
        far++;
        expect(soft.pixels[i]).toBe(photo.pixels[i]);
      }
      if (depth[i] === 1 && (fromDefect[i] as number) > 2) {
        edgeN++;
        edgeSoft += Math.abs((soft.pixels[i] as number) - (photo.pixels[i] as number));
        edgeHard += Math.abs((hard.pixels[i] as number) - (photo.pixels[i] as number));
      }
    }
    expect(far).toBeGreaterThan(100);
    expect(edgeN).toBeGreaterThan(100);
    expect(edgeSoft / edgeN).toBeLessThan(0.5 * (edgeHard / edgeN));
    // the painted pixels are regenerated in full either way
    for (let i = 0; i < W * H; i++) if (mask[i]) expect(soft.pixels[i] === photo.pixels[i] && hard.pixels[i] !== photo.pixels[i]).toBe(false);
  });

  it('stops between model calls when cancelled, and refuses a bad tiling', async () => {
    const mask = crack();
    const wins = planWindows(mask, W, H, 64, 4);
    let n = 0;
    await expect(generateTiled(m, fake, req, photo, mask, wins, 'wasm', { isCancelled: () => n++ > 2 })).rejects.toMatchObject({ name: 'aborted' });
    await expect(generateTiled(m, fake, req, photo, mask, wins, 'wasm', {}, { ...DEFAULT_TILING, rowsPerCall: 1 })).rejects.toThrow(/rowsPerCall must be an integer from 2/);
    await expect(generateTiled(m, fake, req, photo, mask, [], 'wasm')).rejects.toThrow(/no windows/);
    await expect(generateTiled(m, fake, req, photo, mask, wins, 'wasm', {}, { ...DEFAULT_TILING, feather: 2.5 })).rejects.toThrow(/tiling.feather must be an integer from 0 to 64/);
    // a recorded tiling read back from JSON
    expect(parseTiling(JSON.parse(JSON.stringify(DEFAULT_TILING)))).toEqual(DEFAULT_TILING);
    expect(() => parseTiling({ ...DEFAULT_TILING, extra: 1 })).toThrow(/unknown field "extra"/);
    expect(() => parseTiling({ ...DEFAULT_TILING, rowsPerCall: 0 })).toThrow(/rowsPerCall must be an integer from 2 to 256/);
    expect(() => parseTiling('multidiffusion')).toThrow(/must be an object/);
  });
});

function countSteps(): { guidedSteps: number } {
  const s = createSampler(req.sampler, { schedule: m.schedule, numInferenceSteps: req.steps, timestepSpacing: req.timestepSpacing });
  const guidedSteps = s.timesteps.filter((t) => guidanceApplies(s.alphasCumprod[t] as number, req.guidanceInterval)).length;
  expect(guidedSteps).toBeGreaterThan(0);
  expect(guidedSteps).toBeLessThan(req.steps);
  return { guidedSteps };
}
