import { describe, expect, it } from 'vitest';
import { generateImage, pngText } from './generate';
import type { DenoiseBatch, DenoiseFn } from '../model/denoiser';
import { parseManifest, type ModelManifest } from '../model/manifest';
import { makeAlphasCumprod } from './schedule';
import type { GenerateRequest } from '../model/protocol';
import { decodeToGray } from '../formats/image';
import { readFileSync } from 'node:fs';

// A small manifest (16x16) so the loop runs fast; same contract as the real one.
const raw = JSON.parse(readFileSync('public/models/magtile-defect-64/manifest.json', 'utf8'));
raw.image.width = 16;
raw.image.height = 16;
const m: ModelManifest = parseManifest(raw);
const N = 16 * 16;
const ac = makeAlphasCumprod(m.schedule);

/** A "perfect" v-prediction model for a fixed clean image x0: v = alpha*eps - sigma*x0 with eps implied by x_t. */
function oracle(x0: Float32Array): DenoiseFn & { calls: DenoiseBatch[] } {
  const calls: DenoiseBatch[] = [];
  const fn = async (b: DenoiseBatch) => {
    calls.push({ ...b, sample: b.sample.slice(), classLabels: b.classLabels.slice() });
    const out = new Float32Array(b.sample.length);
    for (let k = 0; k < b.batch; k++) {
      const a = Math.sqrt(ac[b.timestep[k] as number] as number);
      const s = Math.sqrt(1 - (ac[b.timestep[k] as number] as number));
      for (let i = 0; i < N; i++) {
        const xt = b.sample[k * N + i] as number;
        const eps = (xt - a * (x0[i] as number)) / s;
        out[k * N + i] = a * eps - s * (x0[i] as number);
      }
    }
    return out;
  };
  return Object.assign(fn, { calls });
}

const x0 = Float32Array.from({ length: N }, (_, i) => Math.sin(i * 0.3) * 0.8);
const base: GenerateRequest = {
  className: 'Crack', prompt: '', seed: 42, sampler: 'dpmpp2m', steps: 10, guidance: 2, eta: 0, timestepSpacing: 'trailing', clipSample: true,
};

describe('generateImage', () => {
  it('recovers the clean image when the model is exact, for every sampler', async () => {
    for (const sampler of ['ddpm', 'ddim', 'dpmpp2m', 'consistency'] as const) {
      const r = await generateImage(m, null, oracle(x0), { ...base, sampler }, 'wasm');
      for (let i = 0; i < N; i++) expect(Math.abs((r.pixels[i] as number) - Math.round(((x0[i] as number) + 1) * 127.5))).toBeLessThanOrEqual(1);
    }
  });

  it('is byte-identical for the same seed and differs for another seed', async () => {
    const noisy: DenoiseFn = async (b) => b.sample.map((v, i) => 0.5 * v + 0.01 * Math.cos(i)); // not an oracle: output depends on the noise
    const a = await generateImage(m, null, noisy, base, 'wasm');
    const b = await generateImage(m, null, noisy, base, 'wasm');
    const c = await generateImage(m, null, noisy, { ...base, seed: 43 }, 'wasm');
    expect(Buffer.from(a.png).equals(Buffer.from(b.png))).toBe(true);
    expect(Buffer.from(a.png).equals(Buffer.from(c.png))).toBe(false);
  });

  it('runs guidance as one batch-of-2 call [class ; null] per step, and batch 1 at guidance 1', async () => {
    const f = oracle(x0);
    await generateImage(m, null, f, base, 'wasm');
    expect(f.calls).toHaveLength(10);
    expect(f.calls.every((c) => c.batch === 2 && c.classLabels[0] === 2n && c.classLabels[1] === BigInt(m.nullClassIndex))).toBe(true);
    const g = oracle(x0);
    const r1 = await generateImage(m, null, g, { ...base, guidance: 1 }, 'wasm');
    expect(g.calls.every((c) => c.batch === 1)).toBe(true);
    expect(r1.provenance.modelEvaluations).toBe(10);
  });

  it('records modelEvaluations: a guided batch of 2 counts 2 (in provenance and the PNG parameters)', async () => {
    const r = await generateImage(m, null, oracle(x0), { ...base, steps: 20, timestepSpacing: 'linspace', guidanceInterval: [0.28, 5.42] }, 'wasm');
    const guided = r.provenance.modelEvaluations as number;
    expect(guided).toBeGreaterThan(20);
    expect(guided).toBeLessThan(40);
    expect(JSON.parse(pngText(r.provenance)['dds:params'] as string).modelEvaluations).toBe(guided);
  });

  it('refuses guidance other than 1 on a distilled model, naming the guidance built in', async () => {
    const student = parseManifest({
      ...raw, defaults: { sampler: 'consistency', steps: 4, guidance: 1, timestepSpacing: 'trailing' },
      distillation: { teacher: { id: 't', version: '1', sha256: 'e'.repeat(64) }, guidanceBakedIn: 1.5, teacherSampler: { sampler: 'dpmpp2m', steps: 20, timestepSpacing: 'linspace' }, previewSteps: 1, method: 'trajectory-endpoint' },
    });
    const req: GenerateRequest = { ...base, sampler: 'consistency', steps: 4, guidance: 2 };
    await expect(generateImage(student, null, oracle(x0), req, 'wasm')).rejects.toThrowError(/guidance must be 1 for model .*guidance 1\.5 built into its weights/);
    const f = oracle(x0);
    const r = await generateImage(student, null, f, { ...req, guidance: 1 }, 'wasm');
    expect(f.calls.map((c) => c.batch)).toEqual([1, 1, 1, 1]);
    expect(r.provenance.modelEvaluations).toBe(4);
  });

  it('guides only the steps whose noise level is inside guidanceInterval; the others are one batch-1 call', async () => {
    // The output depends on the label, so guided and unguided steps differ.
    const calls: DenoiseBatch[] = [];
    const labelled: DenoiseFn = async (b) => {
      calls.push({ ...b, classLabels: b.classLabels.slice() });
      const out = new Float32Array(b.sample.length);
      for (let k = 0; k < b.batch; k++)
        for (let i = 0; i < N; i++) out[k * N + i] = 0.5 * (b.sample[k * N + i] as number) + (b.classLabels[k] === BigInt(m.nullClassIndex) ? 0 : 0.1);
      return out;
    };
    const interval = [0.28, 5.42] as const;
    const r = await generateImage(m, null, labelled, { ...base, steps: 20, timestepSpacing: 'linspace', guidanceInterval: interval }, 'wasm');
    expect(calls).toHaveLength(20);
    const sigma = (t: number) => Math.sqrt((1 - (ac[t] as number)) / (ac[t] as number));
    for (const c of calls) {
      const s = sigma(c.timestep[0] as number);
      const inside = s > interval[0] && s <= interval[1];
      expect(c.batch, `t=${c.timestep[0]} sigma=${s}`).toBe(inside ? 2 : 1);
      expect(c.classLabels[0]).toBe(2n);
    }
    const guided = calls.filter((c) => c.batch === 2).length;
    expect(guided).toBeGreaterThan(0);
    expect(guided).toBeLessThan(20);
    expect(r.provenance.guidanceInterval).toEqual(interval);
    expect(JSON.parse(pngText(r.provenance)['dds:params'] ?? '{}').guidanceInterval).toEqual(interval);

    // An interval no step falls in gives exactly the unguided image; guidance at every step a different one.
    calls.length = 0;
    const none = await generateImage(m, null, labelled, { ...base, guidanceInterval: [1e6, 1e7] }, 'wasm');
    expect(calls.every((c) => c.batch === 1)).toBe(true);
    const unguided = await generateImage(m, null, labelled, { ...base, guidance: 1 }, 'wasm');
    expect(none.pixels).toEqual(unguided.pixels);
    const all = await generateImage(m, null, labelled, base, 'wasm');
    expect(all.pixels).not.toEqual(unguided.pixels);
    expect(all.provenance.guidanceInterval).toBeUndefined();
  });

  it('refuses a guidance interval that is not [low, high] with 0 <= low < high', async () => {
    for (const bad of [[2, 1], [-1, 3], [0, Number.NaN]] as const)
      await expect(generateImage(m, null, oracle(x0), { ...base, guidanceInterval: bad }, 'wasm')).rejects.toThrow(/guidanceInterval must .*0 <= low < high|guidanceInterval must be two finite numbers/);
  });

  it('keeps the known image exactly where keepMask is 1 (inpainting)', async () => {
    const known = Uint8Array.from({ length: N }, (_, i) => (i * 37) % 256);
    const keep = Uint8Array.from({ length: N }, (_, i) => (i % 16 < 8 ? 1 : 0));
    const noisy: DenoiseFn = async (b) => b.sample.map((v) => 0.3 * v);
    const r = await generateImage(m, null, noisy, { ...base, knownImage: known, keepMask: keep }, 'wasm');
    let inside = 0;
    for (let i = 0; i < N; i++) {
      if (keep[i]) expect(r.pixels[i]).toBe(known[i]);
      else if (r.pixels[i] !== known[i]) inside++;
    }
    expect(inside).toBeGreaterThan(N / 4);
    expect(r.provenance.inpainting).toBe(true);
  });

  it('reports progress for every step and stops within one step of a cancel', async () => {
    const steps: number[] = [];
    await generateImage(m, null, oracle(x0), base, 'wasm', { onProgress: (p) => steps.push(p.step) });
    expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const f = oracle(x0);
    let seen = 0;
    await expect(
      generateImage(m, null, f, base, 'wasm', { onProgress: () => seen++, isCancelled: () => seen >= 3 }),
    ).rejects.toMatchObject({ name: 'aborted' });
    expect(f.calls).toHaveLength(3);
  });

  it('rejects bad requests with a message naming the field and the accepted values', async () => {
    const f = oracle(x0);
    await expect(generateImage(m, null, f, { ...base, className: 'Rust' }, 'wasm')).rejects.toThrow(/"Rust" is not a class.*classes are Blowhole, Break, Crack, Fray, Uneven, Free/);
    await expect(generateImage(m, null, f, { ...base, defectMask: new Uint8Array(10) }, 'wasm')).rejects.toThrow(/defectMask has 10 pixels; the model takes 16x16 = 256/);
    await expect(generateImage(m, null, f, { ...base, sampler: 'euler' as never }, 'wasm')).rejects.toThrow(/accepted: ddpm, ddim, dpmpp2m/);
    await expect(generateImage(m, null, f, { ...base, steps: 0 }, 'wasm')).rejects.toThrow(/steps must be an integer from 1/);
    expect(f.calls).toHaveLength(0);
  });

  it('writes the generation parameters into the PNG tEXt chunks and the mask it used', async () => {
    const mask = Uint8Array.from({ length: N }, (_, i) => (i === 17 ? 1 : 0));
    const r = await generateImage(m, null, oracle(x0), { ...base, defectMask: mask, prompt: 'thin crack' }, 'wasm');
    const png = decodeToGray(r.png);
    expect(png.text['dds:model']).toContain(m.sha256);
    expect(JSON.parse(png.text['dds:params'] as string)).toMatchObject({ seed: 42, className: 'Crack', prompt: 'thin crack', maskSource: 'given' });
    expect(Array.from(decodeToGray(r.maskPng).pixels).filter((v) => v === 255)).toHaveLength(1);
  });
});
