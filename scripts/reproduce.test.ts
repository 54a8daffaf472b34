import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateOnPhoto } from '../src/core/diffusion/tiled';
import { decodeImage, encodeGrayPng } from '../src/core/formats/image';
import type { Provenance } from '../src/core/model/protocol';
import { runGenerate } from './generate';
import { modelLoader, parseReproduceArgs, readRecorded, reproduce, summarise, UsageError, type ModelFor, type RecordedEntry, type RecordedImage } from './reproduce';

/** The entries of a folder every record of which must be readable. */
const readable = (entries: RecordedEntry[]): RecordedImage[] =>
  entries.map((e) => {
    if ('problem' in e) throw new Error(e.problem);
    return e;
  });

const MODEL = 'public/models/magtile-defect-64';

describe('reproduce arguments', () => {
  it('needs --dataset and --model and refuses bad values, saying what is accepted', () => {
    expect(() => parseReproduceArgs(['--model', MODEL])).toThrow(/--dataset is required/);
    expect(() => parseReproduceArgs(['--dataset', 'x'])).toThrow(/--model is required/);
    expect(() => parseReproduceArgs(['--dataset', 'x', '--model', MODEL, '--backend', 'cuda'])).toThrow(/accepted: native, wasm/);
    expect(() => parseReproduceArgs(['--dataset', 'x', '--model', MODEL, '--tolerance', '0.5'])).toThrow(UsageError);
    expect(parseReproduceArgs(['--dataset', 'x', '--model', MODEL])).toEqual({ dataset: 'x', model: MODEL, threads: 0, tolerance: 0 });
    expect(() => readRecorded('/no/such/place')).toThrow(/does not exist; accepted: an exported .zip/);
  });
});

describe('reproduce from recorded provenance', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ddstudio-repro-'));
  // Backend and thread count as each item records them (the generate.ts runs below record native, 1).
  const models = modelLoader(MODEL, undefined, 0);
  beforeAll(async () => {
    const base = { model: MODEL, classNames: ['Crack'], eta: 0, clip: true, prompt: '', backend: 'native' as const, threads: 1, out: join(tmp, 'gen'), steps: 3 };
    await runGenerate({ ...base, seeds: [3, 4] }, () => {});
    // A given mask (not drawn from the library) and guidance at every step.
    const mask = new Uint8Array(64 * 64);
    for (let x = 10; x < 50; x++) mask[30 * 64 + x] = 255;
    writeFileSync(join(tmp, 'line.png'), encodeGrayPng(mask, 64, 64));
    await runGenerate({ ...base, classNames: ['Blowhole'], seeds: [7], mask: join(tmp, 'line.png'), guidanceInterval: 'all' }, () => {});
  }, 60_000);
  afterAll(async () => {
    await models.release();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('makes every image of a generate.ts folder again, bit for bit', async () => {
    const items = readable(readRecorded(join(tmp, 'gen')));
    expect(items.map((i) => i.provenance.maskSource)).toEqual(['library', 'library', 'given']);
    const out = await reproduce(models.modelFor, items, undefined, 0);
    expect(out).toEqual(items.map((i) => expect.objectContaining({ name: i.name, status: 'reproduced', maxDiff: 0, pixelsDiffering: 0, maskMatches: true, backend: 'native', threads: 1 })));
    expect(summarise(out, 0)).toMatchObject({ items: 3, checked: 3, reproduced: 3, bitExact: 3, differs: 0 });
  });

  it('reports a bad record or a failing item per item and goes on with the rest (issue 16: no raw TypeError)', async () => {
    const dir = join(tmp, 'bad');
    cpSync(join(tmp, 'gen'), dir, { recursive: true });
    const meta = readFileSync(join(dir, 'metadata.jsonl'), 'utf8');
    writeFileSync(join(dir, 'metadata.jsonl'), `${meta.trimEnd()}\n{"file": "images/Crack/none.png", "mask": "masks/Crack/none.png"}\nnot json\n`);
    const entries = readRecorded(dir);
    expect(entries.slice(3)).toEqual([
      { name: 'images/Crack/none.png', problem: expect.stringMatching(/metadata\.jsonl line 4, field className: missing; expected a string$/) },
      { name: expect.stringMatching(/metadata\.jsonl line 5$/), problem: expect.stringMatching(/metadata\.jsonl line 5 is not valid JSON$/) },
    ]);
    const [first, second] = readable(entries.slice(0, 2));
    const failing: ModelFor = async (p) => {
      if (p.seed === second!.provenance.seed) throw new TypeError("Cannot read properties of undefined (reading 'backend')");
      return models.modelFor(p);
    };
    const out = await reproduce(failing, [first!, second!, ...entries.slice(3)], undefined, 0);
    expect(out.map((o) => o.status)).toEqual(['reproduced', 'not checked', 'not checked', 'not checked']);
    expect(out[1]).toMatchObject({ why: "failed: Cannot read properties of undefined (reading 'backend')" });
    expect(summarise(out, 0)).toMatchObject({ items: 4, checked: 1, reproduced: 1, notChecked: 3 });
  });

  it('finds a record that does not describe its image, and says why an item cannot be checked', async () => {
    const [a, b, c] = readable(readRecorded(join(tmp, 'gen')));
    const wrongSeed = { ...a!, provenance: { ...a!.provenance, seed: a!.provenance.seed + 100 } };
    const wrongMask = { ...c!, maskPng: b!.maskPng };
    const otherModel = { ...b!, provenance: { ...b!.provenance, modelSha256: '0'.repeat(64) } };
    const out = await reproduce(models.modelFor, [wrongSeed, wrongMask, otherModel], undefined, 0);
    expect(out[0]).toMatchObject({ status: 'differs', maskMatches: false });
    expect((out[0] as { maxDiff: number }).maxDiff).toBeGreaterThan(10);
    expect(out[1]).toMatchObject({ status: 'differs', maskMatches: false });
    expect(out[2]).toMatchObject({ status: 'not checked', why: expect.stringMatching(/^made with magtile-defect-64 .* \(sha256 000000000000…\); --model is magtile-defect-64/) });
    expect(summarise(out, 0)).toMatchObject({ checked: 2, reproduced: 0, differs: 2, notChecked: 1 });
  });

  it('makes photo items again (one window; a tiled crack) from the photo and the recorded windows, and refuses another photo', async () => {
    const W = 150, H = 120;
    const photoPixels = Uint8Array.from({ length: W * H }, (_, i) => 90 + ((i * 7) % 40));
    const photos = join(tmp, 'photos');
    rmSync(photos, { recursive: true, force: true });
    mkdirSync(photos);
    writeFileSync(join(photos, 'part.png'), encodeGrayPng(photoPixels, W, H));
    const mask = new Uint8Array(W * H);
    for (let y = 50; y < 56; y++) for (let x = 60; x < 75; x++) mask[y * W + x] = 1;
    const photo = { ...decodeImage(readFileSync(join(photos, 'part.png'))), name: 'part.png' };
    const req = { className: 'Crack', prompt: '', seed: 21, sampler: 'dpmpp2m' as const, steps: 3, guidance: 1.5, guidanceInterval: [0.28, 5.42] as const, eta: 0, timestepSpacing: 'linspace' as const, clipSample: true };
    const model = await models.modelFor({ backend: 'native', threads: 1 } as Provenance);
    const r = await generateOnPhoto(model.manifest, model.maskLibrary, model.denoise, req, photo, mask, 'native', {}, 6);
    const item = { name: 'photo-item', provenance: { ...r.provenance, threads: 1 }, png: r.png, maskPng: r.maskPng };
    expect(await reproduce(models.modelFor, [item], photos, 0)).toEqual([expect.objectContaining({ status: 'reproduced', maxDiff: 0, maskMatches: true })]);
    expect(await reproduce(models.modelFor, [item], undefined, 0)).toEqual([expect.objectContaining({ status: 'not checked', why: 'made on photo part.png; pass the folder holding it with --photos' })]);
    // A crack taller than a window: tiled, denoised jointly, and made again from the recorded windows and tiling.
    const tall = new Uint8Array(W * H);
    for (let y = 8; y < 112; y++) for (let x = 70; x < 76; x++) tall[y * W + x + Math.round(6 * Math.sin(y / 15))] = 1;
    const t = await generateOnPhoto(model.manifest, model.maskLibrary, model.denoise, req, photo, tall, 'native');
    expect(t.provenance.tiling).toBeDefined();
    expect(t.provenance.windows!.length).toBeGreaterThan(1);
    const tiled = { name: 'tiled-item', provenance: { ...t.provenance, threads: 1 }, png: t.png, maskPng: t.maskPng };
    expect(await reproduce(models.modelFor, [tiled], photos, 0)).toEqual([expect.objectContaining({ status: 'reproduced', maxDiff: 0, pixelsDiffering: 0, maskMatches: true })]);
    // Made again window by window (as if the tiling were not recorded), it is another image.
    const { tiling: _t, ...untiled } = tiled.provenance;
    expect(await reproduce(models.modelFor, [{ ...tiled, provenance: untiled }], photos, 0)).toEqual([expect.objectContaining({ status: 'differs' })]);
    writeFileSync(join(photos, 'part.png'), encodeGrayPng(photoPixels.map((v) => v + 1), W, H));
    expect(await reproduce(models.modelFor, [item], photos, 0)).toEqual([expect.objectContaining({ status: 'not checked', why: expect.stringMatching(/part.png is not the photo it was made on/) })]);
  });
});

describe('reproduce: the distilled student (consistency sampling draws fresh seeded noise at every step)', () => {
  const STUDENT = 'public/models/magtile-defect-64-fast';
  const tmp = mkdtempSync(join(tmpdir(), 'ddstudio-repro-fast-'));
  const models = modelLoader(STUDENT, undefined, 0);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('makes window items (4 steps and the 1-step preview) and a tiled photo item again bit for bit', async () => {
    const base = { model: STUDENT, classNames: ['Fray'], eta: 0, clip: true, prompt: '', backend: 'native' as const, threads: 1, out: join(tmp, 'gen') };
    await runGenerate({ ...base, seeds: [5, 6] }, () => {});
    await runGenerate({ ...base, seeds: [7], steps: 1 }, () => {});
    const items = readable(readRecorded(join(tmp, 'gen')));
    expect(items.map((i) => [i.provenance.sampler, i.provenance.modelEvaluations])).toEqual([['consistency', 4], ['consistency', 4], ['consistency', 1]]);
    const out = await reproduce(models.modelFor, items, undefined, 0);
    expect(out.map((o) => [o.status, 'maxDiff' in o ? o.maxDiff : null])).toEqual([['reproduced', 0], ['reproduced', 0], ['reproduced', 0]]);

    const W = 160, H = 140;
    const photos = join(tmp, 'photos');
    mkdirSync(photos, { recursive: true });
    writeFileSync(join(photos, 'tile.png'), encodeGrayPng(Uint8Array.from({ length: W * H }, (_, i) => 100 + ((i * 13) % 31)), W, H));
    const photo = { ...decodeImage(readFileSync(join(photos, 'tile.png'))), name: 'tile.png' };
    const mask = new Uint8Array(W * H);
    for (let y = 20; y < 120; y++) for (let x = 40; x < 130; x++) if ((x - 85) ** 2 / 45 ** 2 + (y - 70) ** 2 / 50 ** 2 < 1) mask[y * W + x] = 1;
    const model = await models.modelFor({ backend: 'native', threads: 1 } as Provenance);
    const d = model.manifest.defaults;
    const req = { className: 'Fray', prompt: '', seed: 3, sampler: d.sampler, steps: d.steps, guidance: d.guidance, eta: 0, timestepSpacing: d.timestepSpacing, clipSample: true };
    const r = await generateOnPhoto(model.manifest, model.maskLibrary, model.denoise, req, photo, mask, 'native');
    expect(r.provenance.windows!.length).toBeGreaterThan(1);
    const item = { name: 'fray-on-photo', provenance: { ...r.provenance, threads: 1 }, png: r.png, maskPng: r.maskPng };
    expect(await reproduce(models.modelFor, [item], photos, 0)).toEqual([expect.objectContaining({ status: 'reproduced', maxDiff: 0, maskMatches: true })]);
  });
});
