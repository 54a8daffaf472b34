import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseManifest } from './manifest';
import { buildRequest, requestFromRecord, MAX_STEPS } from './request';
import { validateRequest } from '../diffusion/generate';

const manifest = parseManifest(JSON.parse(readFileSync('public/models/magtile-defect-64/manifest.json', 'utf8')));
const d = manifest.defaults;

describe('buildRequest', () => {
  it('fills what is left out from the manifest and the project defaults', () => {
    const r = buildRequest(manifest, { className: 'Crack', seed: 7 });
    expect(r).toEqual({
      className: 'Crack', prompt: '', seed: 7, sampler: d.sampler, steps: d.steps, guidance: d.guidance,
      ...(d.guidanceInterval ? { guidanceInterval: d.guidanceInterval } : {}),
      eta: 0, timestepSpacing: d.timestepSpacing, clipSample: true,
    });
    expect(d.guidanceInterval).toBeDefined(); // the shipped default guides in an interval, so the case above is not vacuous
    expect(() => validateRequest(manifest, r)).not.toThrow();
  });

  it("keeps what is given; 'all' guides every step", () => {
    const mask = new Uint8Array(64 * 64);
    const r = buildRequest(manifest, {
      className: 'Fray', seed: 3, prompt: 'p', sampler: 'ddim', steps: 50, guidance: 3, guidanceInterval: 'all', eta: 0.5,
      timestepSpacing: 'trailing', clipSample: false, defectMask: mask, previewIntervalMs: 150,
    });
    expect(r).toEqual({ className: 'Fray', prompt: 'p', seed: 3, sampler: 'ddim', steps: 50, guidance: 3, eta: 0.5, timestepSpacing: 'trailing', clipSample: false, defectMask: mask, previewIntervalMs: 150 });
    expect('guidanceInterval' in r).toBe(false);
    expect(buildRequest(manifest, { className: 'Fray', seed: 3, guidanceInterval: [0.1, 2] }).guidanceInterval).toEqual([0.1, 2]);
  });

  it('a record without an interval is remade guided at every step, not at the manifest interval', () => {
    const rec = { className: 'Crack', prompt: '', seed: 1, sampler: 'dpmpp2m' as const, steps: 20, guidance: 1.5, eta: 0, timestepSpacing: 'linspace' as const, clipSample: true };
    expect('guidanceInterval' in requestFromRecord(manifest, rec)).toBe(false);
    expect(requestFromRecord(manifest, { ...rec, guidanceInterval: [0.28, 5.42] }).guidanceInterval).toEqual([0.28, 5.42]);
  });

  it('the step limit is the one validateRequest applies', () => {
    expect(MAX_STEPS).toBe(manifest.schedule.numTrainTimesteps);
    expect(() => validateRequest(manifest, buildRequest(manifest, { className: 'Crack', seed: 1, steps: MAX_STEPS }))).not.toThrow();
    expect(() => validateRequest(manifest, buildRequest(manifest, { className: 'Crack', seed: 1, steps: MAX_STEPS + 1 }))).toThrow(/steps must be an integer from 1 to 1000/);
  });
});
