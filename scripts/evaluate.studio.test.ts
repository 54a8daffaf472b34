/**
 * The studio and `npm run evaluate` print the same numbers for the same inputs: both go through
 * src/core/quality/evaluateDataset.ts with the same defaults; the studio from its items (quality computed at
 * generation by QualityJudge, as the worker does) and a chosen folder (studioEvaluation.ts), the CLI from the
 * classifier's outputs and the same folder on disk (evaluate.ts, scripts/lib/evaluateReport.ts).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/diffusion/rng';
import { decodeImage, encodeGrayPng } from '../src/core/formats/image';
import { parseClassifierManifest } from '../src/core/quality/classifierManifest';
import { evaluateDataset, REAL_WINDOW_DEFAULTS } from '../src/core/quality/evaluateDataset';
import { parseReferenceFeatures } from '../src/core/quality/features';
import { chooseHeldOut } from '../src/core/quality/heldOut';
import { QualityJudge } from '../src/core/quality/imageQuality';
import { drawRealWindows, loadedReal } from '../src/core/quality/realWindows';
import type { DatasetItem } from '../src/dataset/types';
import { qualityRows, realFolderImages, studioSamples } from '../src/features/quality/studioEvaluation';
import { listReal, parseEvaluateArgs, readGroups, realWindows, runEvaluate } from './evaluate';
import { evaluateFromEmbeddings, formatEvaluation, r4 } from './lib/evaluateReport';
import { missing } from './lib/needs';

const CLASSIFIER = 'public/models/magtile-classifier-64';
const DATA = '../shared/datasets/magnetic-tile';
const manifest = parseClassifierManifest(JSON.parse(readFileSync(join(CLASSIFIER, 'manifest.json'), 'utf8')));
const ref = parseReferenceFeatures(JSON.parse(readFileSync(join(CLASSIFIER, 'reference_features.json'), 'utf8')));
const classes = manifest.classes;

describe('studio and npm run evaluate print the same numbers', () => {
  it('for the same classifier outputs: quality table and downstream check', async () => {
    const rng = new Rng(11);
    // fixed classifier outputs for 30 images of three classes (near each class's reference, noisy logits)
    const syn = ['Crack', 'Blowhole', 'Uneven'].flatMap((cls, j) => Array.from({ length: 10 }, (_, k) => ({
      className: cls, name: `${cls}-${k}`, region: 'window' as const, backgroundFeatures: null,
      features: Float32Array.from(ref.classes[cls]!.features[k * 3]!, (v) => Math.max(0, v + 0.4 * rng.gaussian())),
      logits: Float32Array.from(classes, (_, c) => (c === classes.indexOf(cls) ? 2 : 0) + rng.gaussian() + (k === 0 && c === j ? 3 : 0)),
    })));
    const real = { features: [] as Float32Array[], labels: [] as number[], test: [] as boolean[] };
    classes.forEach((c, ci) => ref.classes[c]!.features.slice(40, 64).forEach((f, k) => {
      real.features.push(f);
      real.labels.push(ci);
      real.test.push(k % 4 === 0);
    }));

    // CLI: what runEvaluate does after embedding, and the JSON it prints
    const cli = formatEvaluation(await evaluateFromEmbeddings(classes, ref, syn, real, {}), real, null, 'test') as Record<string, any>;

    // studio: items as the worker makes them (QualityJudge on the same outputs), then the panels' code
    const judge = new QualityJudge(manifest.id, classes, ref);
    const items = syn.map((s, k) => ({ id: s.name, status: 'accepted', className: s.className, provenance: {}, quality: judge.judge(s.className, s.logits, s.features), createdAt: String(k) }) as unknown as DatasetItem);
    const ev = await evaluateDataset({ classes, reference: ref, samples: studioSamples(items, classes), real });
    const rows = qualityRows(ev, {});
    for (const row of rows) {
      const c = cli.perClass[row.cls];
      if (!row.n) {
        expect(c).toBeUndefined();
        continue;
      }
      expect(row.n).toBe(c.n);
      expect(r4(row.consistency)).toBe(c.labelConsistency);
      expect([r4(row.kid?.mean), r4(row.kid?.std)]).toEqual([c.kid.mean, c.kid.std]);
      expect([r4(row.realKid?.mean), r4(row.realKid?.std)]).toEqual([c.realKid.mean, c.realKid.std]);
      expect([r4(row.diversity), r4(row.realDiversity)]).toEqual([c.diversity.synthetic, c.diversity.real]);
      expect(c.kid.subsets).toBe(50);
    }
    expect(rows.filter((r) => r.n).map((r) => r.cls)).toEqual(['Blowhole', 'Crack', 'Uneven']);
    expect(rows.find((r) => r.cls === 'Crack')?.consistency).toBeLessThan(1); // the planted inconsistent one counts on both sides
    const d = ev.downstream as Exclude<typeof ev.downstream, null | { skipped: string }>;
    expect([r4(d.macroF1RealOnly.mean), r4(d.macroF1WithSynth.mean), r4(d.delta.mean), r4(d.delta.std)])
      .toEqual([cli.downstream.macroF1RealOnly.mean, cli.downstream.macroF1WithSynth.mean, cli.downstream.delta.mean, cli.downstream.delta.std]);
    expect(d.perClass.map((p) => r4(p.f1WithSynth))).toEqual(classes.map((c) => cli.downstream.perClass[c].f1WithSynth));
  });
});

describe.skipIf(missing(existsSync(DATA), DATA))('the shipped data: held out as the classifier was', () => {
  const train = join(DATA, 'train');
  const csv = join(DATA, 'manifest_extra.csv');

  it('evaluate and the studio hold out the classifier\'s heldOutGroups, and draw the same real windows', async () => {
    const cli = listReal(train, classes, readGroups(csv), 0.2, 0, manifest);
    expect(cli.split.source).toBe('classifier');
    expect(cli.split.heldOutGroups).toEqual(manifest.heldOutGroups);

    // the studio's listing of the same folder (paths relative to the chosen folder, as webkitRelativePath)
    const paths = classes.flatMap((c) => readdirSync(join(train, c)).map((f) => `train/${c}/${f}`));
    const folder = realFolderImages(paths, classes, readFileSync(csv, 'utf8'));
    const split = chooseHeldOut(folder.images, manifest, REAL_WINDOW_DEFAULTS.testFraction, REAL_WINDOW_DEFAULTS.splitSeed);
    expect(split.heldOutGroups).toEqual(manifest.heldOutGroups);
    const held = new Set(split.heldOutGroups);
    const images = folder.images.map((i) => ({ ...i, test: held.has(i.group) }));
    expect(images.filter((i) => i.test).map((i) => `${i.className}/${i.name}`).sort()).toEqual(cli.images.filter((i) => i.test).map((i) => relative(train, i.path)).sort());

    // the same windows, from the CLI's reader and the studio's (3 per class and side)
    const read = (p: string) => decodeImage(new Uint8Array(readFileSync(join(DATA, p))), p);
    const studio = await drawRealWindows(images, classes, 3, 64, 0, 16, async (i) => {
      const m = folder.masks.get(i.path);
      return loadedReal(read(i.path), m ? read(m) : null, m ?? i.path);
    });
    const fromCli = realWindows(cli.images, classes, 3, 64, 0, 16);
    expect(studio.labels).toEqual(fromCli.labels);
    expect(studio.test).toEqual(fromCli.test);
    expect(studio.pixels).toEqual(fromCli.pixels);
  });

  it('npm run evaluate reports the classifier\'s heldOutGroups for the shipped folder (manifest_extra.csv found beside it)', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ddstudio-eval-shipped-'));
    try {
      mkdirSync(join(tmp, 'images', 'Crack'), { recursive: true });
      for (let k = 0; k < 3; k++) writeFileSync(join(tmp, 'images', 'Crack', `m${k}.png`), encodeGrayPng(Uint8Array.from({ length: 4096 }, (_, i) => (i * (k + 1)) % 200), 64, 64));
      const a = parseEvaluateArgs(['--dataset', tmp, '--real', train, '--real-per-class', '2', '--seeds', '1', '--kid-subsets', '2']);
      expect(a.groups).toBe(csv);
      const out = (await runEvaluate(a, () => {})) as Record<string, any>;
      expect(out.downstream.heldOutGroups).toEqual(manifest.heldOutGroups);
      expect(out.downstream.heldOutFrom).toBe('classifier');
      expect(out.downstream.split).toMatch(/the classifier's own held-out tile groups \(26 of its 26/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

