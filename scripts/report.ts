/**
 * Writes the pilot report (src/report: one self-contained HTML page) for an exported dataset or a folder
 * written by npm run generate.
 *
 *   npm run report -- --dataset export.zip [--real <folder of <class>/ real images>] [--thresholds t.json] --out report.html
 *
 * Records: an export zip's metadata.jsonl (readExportZip; bad lines are skipped and listed) or a generate
 * folder's metadata.jsonl (every image counts as accepted: nothing was reviewed). Accepted images without
 * classifier features in their record (a generate folder) are embedded with the evaluation classifier here and
 * judged as the studio's worker judges them (QualityJudge). Real images are read with scripts/evaluate.ts's
 * loaders (listReal, realWindows): split by tile_group when --groups or <real>/manifest_extra.csv gives one, by
 * file otherwise; the downstream check is the studio's (downstreamCheck on classifier features).
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { downstreamCheck } from '../src/core/quality/quality';
import { QualityJudge } from '../src/core/quality/imageQuality';
import { parseProvenanceRecord, RecordError } from '../src/dataset/record';
import { readExportZip } from '../src/dataset/zip';
import { qualityNumbers } from '../src/report/evaluation';
import { renderReport } from '../src/report/html';
import { checks, modelsOf, verdict } from '../src/report/summary';
import { DEFAULT_THRESHOLDS, parseThresholds, ThresholdError, type Thresholds } from '../src/report/thresholds';
import type { DownstreamNumbers, ReportInput, ReportRecord } from '../src/report/types';
import { listReal, readGroups, readSynthetic, realWindows, UsageError } from './evaluate';
import { DEFAULT_CLASSIFIER, loadClassifier } from './lib/classifier';

const USAGE = `usage: npm run report -- --dataset <exported .zip | npm run generate output folder> --out report.html
       [--real <folder of <class>/ real images (+ <stem>_mask.png, manifest_extra.csv)>] [--groups manifest_extra.csv]
       [--thresholds file.json] [--model <model folder, for the citation of a generate folder>] [--seeds 5]
       [--real-per-class 50] [--classifier ${DEFAULT_CLASSIFIER}] [--threads 1]`;

export interface ReportArgs {
  dataset: string;
  out: string;
  real?: string;
  groups?: string;
  thresholds: Thresholds;
  thresholdsSource: string;
  model?: string;
  seeds: number;
  realPerClass: number;
  classifier: string;
  threads: number;
}

const posInt = (name: string, v: string | undefined, dflt: number) => {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${name} must be an integer >= 1, got "${v}"\n${USAGE}`);
  return n;
};

export function parseReportArgs(argv: string[]): ReportArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        dataset: { type: 'string' }, out: { type: 'string' }, real: { type: 'string' }, groups: { type: 'string' }, thresholds: { type: 'string' },
        model: { type: 'string' }, seeds: { type: 'string' }, 'real-per-class': { type: 'string' }, classifier: { type: 'string' }, threads: { type: 'string' },
      },
      strict: true,
    }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${USAGE}`);
  }
  if (!values.dataset) throw new UsageError(`--dataset is required\n${USAGE}`);
  if (!values.out) throw new UsageError(`--out is required\n${USAGE}`);
  if (!existsSync(values.dataset)) throw new UsageError(`--dataset ${values.dataset} does not exist; accepted: an exported .zip or a folder written by npm run generate`);
  if (values.real !== undefined && (!existsSync(values.real) || !statSync(values.real).isDirectory()))
    throw new UsageError(`--real ${values.real} is not a folder; accepted: a folder of <class>/ subfolders of real images`);
  const groups = values.groups ?? (values.real !== undefined && existsSync(join(values.real, 'manifest_extra.csv')) ? join(values.real, 'manifest_extra.csv') : undefined);
  if (groups !== undefined && !existsSync(groups)) throw new UsageError(`--groups ${groups} does not exist; accepted: a CSV with columns image and tile_group (manifest_extra.csv)`);
  let thresholds = DEFAULT_THRESHOLDS;
  if (values.thresholds !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(values.thresholds, 'utf8'));
    } catch (e) {
      throw new UsageError(`--thresholds ${values.thresholds} is not a readable JSON file (${(e as Error).message}); accepted: a JSON object such as {"minAcceptedPerClass": 50}`);
    }
    try {
      thresholds = parseThresholds(raw);
    } catch (e) {
      if (e instanceof ThresholdError) throw new UsageError(`--thresholds ${values.thresholds}: ${e.message}`);
      throw e;
    }
  }
  return {
    dataset: values.dataset, out: values.out, real: values.real, groups, thresholds,
    thresholdsSource: values.thresholds === undefined ? 'the defaults' : `from ${basename(values.thresholds)}`,
    model: values.model, seeds: posInt('seeds', values.seeds, 5), realPerClass: posInt('real-per-class', values['real-per-class'], 50),
    classifier: values.classifier ?? DEFAULT_CLASSIFIER, threads: posInt('threads', values.threads, 1),
  };
}

interface Loaded {
  records: ReportRecord[];
  reviewed: boolean;
  kind: string;
  skipped: string[];
}

/** The records of an export zip or of a generate folder (ids: the zip's, or the PNG's name without .png). */
export function readRecords(path: string): Loaded {
  if (statSync(path).isFile()) {
    const ds = readExportZip(new Uint8Array(readFileSync(path)), { skipBad: true });
    return { records: ds.items, reviewed: true, kind: 'exported zip', skipped: ds.skipped.map((s) => `metadata.jsonl line ${s.line}: ${s.problem}`) };
  }
  const meta = join(path, 'metadata.jsonl');
  if (!existsSync(meta)) throw new UsageError(`--dataset ${path} has no metadata.jsonl; accepted: an exported .zip or a folder written by npm run generate (metadata.jsonl beside images/)`);
  const records: ReportRecord[] = [];
  const skipped: string[] = [];
  readFileSync(meta, 'utf8').split('\n').forEach((l, i) => {
    if (!l.trim()) return;
    try {
      const raw = JSON.parse(l) as { file?: unknown };
      const provenance = parseProvenanceRecord(raw, { extra: ['file', 'mask'] });
      const file = typeof raw.file === 'string' ? raw.file : '';
      records.push({ id: basename(file, '.png') || `line ${i + 1}`, className: provenance.className, status: 'accepted', provenance, file });
    } catch (e) {
      skipped.push(`metadata.jsonl line ${i + 1}: ${e instanceof RecordError ? e.message : 'not valid JSON'}`);
    }
  });
  if (!records.length) throw new UsageError(`--dataset ${path}: metadata.jsonl holds no usable record${skipped.length ? ` (first problem: ${skipped[0]})` : ''}`);
  return { records, reviewed: false, kind: 'npm run generate folder (not reviewed)', skipped };
}

/** The training-data citation of a generate folder's model: from --model or public/models/<id>, when its sha256 matches. */
function manifestCitation(modelDir: string | undefined): (id: string, sha: string) => string | undefined {
  return (id, sha) => {
    for (const dir of [modelDir, join('public/models', id)]) {
      const mf = dir && join(dir, 'manifest.json');
      if (!mf || !existsSync(mf)) continue;
      const m = JSON.parse(readFileSync(mf, 'utf8')) as { sha256?: string; training?: { citation?: string } };
      if (m.sha256 === sha && m.training?.citation) return m.training.citation;
    }
    return undefined;
  };
}

export async function buildReport(a: ReportArgs, log: (s: string) => void = (s) => process.stderr.write(`${s}\n`), now = new Date().toISOString()): Promise<{ html: string; input: ReportInput }> {
  const loaded = readRecords(a.dataset);
  for (const s of loaded.skipped) log(`report: record left out: ${s}`);
  const clf = await loadClassifier(a.classifier, a.threads);
  try {
    const m = clf.manifest;
    const classes = [...m.classes];
    const judge = new QualityJudge(m.id, classes, clf.reference);
    // Accepted records without features (a generate folder) are embedded here, as the studio's worker does.
    const need = loaded.records.filter((r) => r.status === 'accepted' && !r.quality && judge.knows(r.className));
    if (need.length) {
      const syn = readSynthetic(a.dataset, m.width, m.height);
      const byName = new Map(syn.images.map((s) => [`${s.className}/${basename(s.name, '.png')}`, s.pixels]));
      const have = need.filter((r) => byName.has(`${r.className}/${r.id}`));
      const e = await clf.embed(have.map((r) => byName.get(`${r.className}/${r.id}`) as Uint8Array));
      have.forEach((r, i) => (r.quality = judge.judge(r.className, e.logits[i] as Float32Array, e.features[i] as Float32Array)));
      log(`report: embedded ${have.length} accepted images with ${m.id}${have.length < need.length ? `; ${need.length - have.length} had no readable image` : ''}`);
    }
    const quality = qualityNumbers(loaded.records, classes, clf.reference, m.id);
    quality.method += loaded.reviewed ? ' Features: as recorded with each image (the studio\'s worker), else from onnxruntime-node here.' : ' Features: from onnxruntime-node here.';

    let downstream: ReportInput['downstream'] = { available: false, why: 'no real images were given (npm run report -- ... --real <folder of <class>/ real images>)' };
    if (a.real) {
      const groups = a.groups ? readGroups(a.groups) : null;
      const list = listReal(a.real, classes, groups, 0.2, 0);
      if (!list.images.length) throw new UsageError(`--real ${a.real} holds no images in class folders named ${classes.join(', ')}`);
      const rw = realWindows(list.images, classes, a.realPerClass, m.width, 0, 16);
      for (const s of rw.skipped) log(`report: real image left out: ${s.item}: ${s.why}`);
      const re = await clf.embed(rw.pixels);
      const pick = (test: boolean) => {
        const ii = rw.labels.flatMap((_, i) => (rw.test[i] === test ? [i] : []));
        return { features: ii.map((i) => re.features[i] as Float32Array), labels: ii.map((i) => rw.labels[i] as number) };
      };
      const realTrain = pick(false);
      const realTest = pick(true);
      const syn = loaded.records.filter((r) => r.status === 'accepted' && r.quality && classes.includes(r.className));
      if (!realTrain.features.length || !realTest.features.length) {
        downstream = { available: false, why: `the split left ${realTrain.features.length} training and ${realTest.features.length} held-out real windows; both must be non-empty` };
      } else {
        const result = downstreamCheck({
          realTrain, realTest, classes: classes.length, classNames: classes, seeds: a.seeds,
          synthetic: { features: syn.map((r) => Float32Array.from(r.quality?.features ?? [])), labels: syn.map((r) => classes.indexOf(r.className)) },
        });
        const held = list.images.filter((i) => i.test);
        const value: DownstreamNumbers = {
          result, classes, split: groups ? 'tile_group' : 'file',
          heldOutImages: held.map((i) => relative(a.real as string, i.path)),
          heldOutGroups: [...new Set(held.map((i) => i.group))].sort(),
          testPerClass: classes.map((_, ci) => realTest.labels.filter((l) => l === ci).length),
          trainPerClass: classes.map((_, ci) => realTrain.labels.filter((l) => l === ci).length),
          realSource: `Real images: ${list.images.length} files under ${basename(a.real)} (${list.images.length - held.length} training-side, ${held.length} held out; split ${groups ? `by tile_group from ${basename(a.groups as string)}` : 'by file: no manifest_extra.csv, so photos of one part may sit on both sides and the real-only score is optimistic'}, test fraction 0.2, split seed 0: the classifier's and denoiser's validation split), ${a.realPerClass} windows per class and side drawn from them (counts in the table are windows).`,
        };
        downstream = { available: true, value };
      }
    }
    const input: ReportInput = {
      generatedAt: now, source: `${basename(a.dataset)} (${loaded.kind})`, reviewed: loaded.reviewed, classes, records: loaded.records,
      quality: { available: true, value: quality }, downstream, models: modelsOf(loaded.records, manifestCitation(a.model)), thresholds: a.thresholds, thresholdsSource: a.thresholdsSource,
    };
    return { html: renderReport(input), input };
  } finally {
    await clf.release();
  }
}

const isMain = import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('scripts/report.ts');
if (isMain) {
  try {
    const a = parseReportArgs(process.argv.slice(2));
    const { html, input } = await buildReport(a);
    writeFileSync(a.out, html);
    const v = verdict(checks(input));
    console.log(`report: ${a.out} (${(html.length / 1024).toFixed(0)} KiB): ${v.kind === 'go' ? 'GO' : v.kind === 'no-go' ? `NO-GO (${v.failed.join(', ')})` : `no decision yet (not measured: ${v.missing.join(', ')})`}`);
  } catch (e) {
    console.error(`report: ${(e as Error).message}`);
    process.exit(e instanceof UsageError ? 2 : 1);
  }
}
