/**
 * Writes the pilot report (src/report: one self-contained HTML page) for an exported dataset or a folder
 * written by npm run generate.
 *
 *   npm run report -- --dataset export.zip [--real <folder of <class>/ real images>] [--thresholds t.json]
 *       [--protocol final.json] --out report.html
 *
 * Records: an export zip's metadata.jsonl (readExportZip; bad lines are skipped and listed) or a generate
 * folder's metadata.jsonl (every image counts as accepted: nothing was reviewed). The numbers are npm run
 * evaluate's: the accepted images read with its readSynthetic and embedded here, real images listed, split and
 * drawn with its listReal / realWindows (tile groups from --groups or <real>/manifest_extra.csv, the
 * classifier's own held-out groups where it knows them), all through evaluateFromEmbeddings (evaluateDataset,
 * the function the studio's panels call); src/report/evaluation.ts turns that into the report's numbers.
 * The "Downstream protocol" section shows the report npm run downstream writes (final.json / dev.json): the one
 * --protocol names, else the downstream.json of the --model folder or of the embedded model (public/models/<id>,
 * same sha256) the records name, labelled as that model's numbers; else it says the protocol was not run.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { REAL_WINDOW_DEFAULTS, type EvalReal } from '../src/core/quality/evaluateDataset';
import { parseProvenanceRecord, RecordError } from '../src/dataset/record';
import { readExportZip } from '../src/dataset/zip';
import { reportQuality } from '../src/report/evaluation';
import { renderReport } from '../src/report/html';
import { MODEL_PROTOCOL_FILE, parseProtocolText, ProtocolError, type ProtocolNumbers } from '../src/report/protocol';
import { checks, modelsOf, verdict } from '../src/report/summary';
import { DEFAULT_THRESHOLDS, parseThresholds, ThresholdError, type Thresholds } from '../src/report/thresholds';
import type { DownstreamNumbers, ReportInput, ReportRecord } from '../src/report/types';
import { listReal, readGroups, readSynthetic, realWindows, UsageError, type RealImage } from './evaluate';
import { evaluateFromEmbeddings, type EmbeddedSynthetic } from './lib/evaluateReport';
import { DEFAULT_CLASSIFIER, loadClassifier } from './lib/classifier';

const USAGE = `usage: npm run report -- --dataset <exported .zip | npm run generate output folder> --out report.html
       [--real <folder of <class>/ real images (+ <stem>_mask.png)>] [--groups manifest_extra.csv (default: in --real or its parent)]
       [--thresholds file.json] [--model <model folder, for the citation of a generate folder>] [--seeds 5]
       [--protocol <final.json or dev.json of npm run downstream> (default: the model's ${MODEL_PROTOCOL_FILE}, when it ships one)]
       [--real-per-class 50] [--classifier ${DEFAULT_CLASSIFIER}] [--threads 1]`;

export interface ReportArgs {
  dataset: string;
  out: string;
  real?: string;
  groups?: string;
  thresholds: Thresholds;
  thresholdsSource: string;
  model?: string;
  /** The protocol report --protocol named (parsed and checked). */
  protocol?: ProtocolNumbers;
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
        model: { type: 'string' }, protocol: { type: 'string' }, seeds: { type: 'string' }, 'real-per-class': { type: 'string' }, classifier: { type: 'string' }, threads: { type: 'string' },
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
  // as npm run evaluate: manifest_extra.csv in --real or its parent when --groups is not given
  const groups = values.groups ?? (values.real === undefined ? undefined : [join(values.real, 'manifest_extra.csv'), join(dirname(values.real.replace(/\/+$/, '')), 'manifest_extra.csv')].find((p) => existsSync(p)));
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
  let protocol: ProtocolNumbers | undefined;
  if (values.protocol !== undefined) {
    const accepted = 'accepted: the final.json or dev.json that npm run downstream writes';
    let text: string;
    try {
      text = readFileSync(values.protocol, 'utf8');
    } catch (e) {
      throw new UsageError(`--protocol ${values.protocol} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); ${accepted}`);
    }
    try {
      protocol = parseProtocolText(text, { kind: 'file', file: basename(values.protocol) });
    } catch (e) {
      if (e instanceof ProtocolError) throw new UsageError(`--protocol ${values.protocol}: ${e.message}`);
      throw e;
    }
  }
  return {
    dataset: values.dataset, out: values.out, real: values.real, groups, thresholds, protocol,
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

/** A field of a model folder's manifest.json (undefined: no such file, not JSON, or no such field). */
function manifestField(dir: string, key: 'id' | 'sha256'): string | undefined {
  try {
    const v = (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown>)[key];
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** A model folder's downstream.json, labelled as that model's numbers; null when it has none. */
function modelProtocol(dir: string, modelId: string): ReportInput['protocol'] | null {
  const file = join(dir, MODEL_PROTOCOL_FILE);
  if (!existsSync(file)) return null;
  try {
    return { available: true, value: parseProtocolText(readFileSync(file, 'utf8'), { kind: 'model', modelId, file }) };
  } catch (e) {
    return { available: false, why: `${file} could not be read: ${(e as Error).message}` };
  }
}

/**
 * The report's protocol numbers: --protocol's file; else the --model folder's downstream.json; else that of the
 * first embedded model (public/models/<id>, its manifest's sha256 the records' one) the records name that ships one.
 */
export function protocolFor(a: Pick<ReportArgs, 'protocol' | 'model'>, records: readonly ReportRecord[]): ReportInput['protocol'] {
  if (a.protocol) return { available: true, value: a.protocol };
  const looked: string[] = [];
  if (a.model) {
    const found = modelProtocol(a.model, manifestField(a.model, 'id') ?? basename(a.model));
    if (found) return found;
    looked.push(a.model);
  }
  const seen = new Set<string>();
  for (const { provenance: p } of records) {
    if (seen.has(p.modelSha256) || !/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(p.modelId)) continue;
    seen.add(p.modelSha256);
    const dir = join('public/models', p.modelId);
    if (manifestField(dir, 'sha256') !== p.modelSha256) continue;
    const found = modelProtocol(dir, p.modelId);
    if (found) return found;
    looked.push(dir);
  }
  return { available: false, why: `no protocol report was given (--protocol <file.json>) and ${looked.length ? `no ${MODEL_PROTOCOL_FILE} is in ${looked.join(', ')}` : 'the images name no embedded model (public/models/<id>) that ships one'}` };
}

export async function buildReport(a: ReportArgs, log: (s: string) => void = (s) => process.stderr.write(`${s}\n`), now = new Date().toISOString()): Promise<{ html: string; input: ReportInput }> {
  const loaded = readRecords(a.dataset);
  for (const s of loaded.skipped) log(`report: record left out: ${s}`);
  const clf = await loadClassifier(a.classifier, a.threads);
  try {
    const m = clf.manifest;
    const classes = [...m.classes];
    // As npm run evaluate does it: the accepted images (all of a generate folder) through the classifier here.
    const syn = readSynthetic(a.dataset, m.width, m.height);
    for (const s of syn.skipped) log(`report: not evaluated: ${s.item}: ${s.why}`);
    const known = syn.images.filter((im) => classes.includes(im.className));
    const se = await clf.embed(known.map((i) => i.pixels));
    const photos = known.flatMap((im, i) => (im.background ? [i] : []));
    const be = await clf.embed(photos.map((i) => known[i]?.background as Uint8Array));
    const bgOf = new Map(photos.map((i, k) => [i, be.features[k] as Float32Array]));
    const embedded: EmbeddedSynthetic[] = known.map((im, i) => ({ className: im.className, name: im.name, region: im.region, logits: se.logits[i] as Float32Array, features: se.features[i] as Float32Array, backgroundFeatures: bgOf.get(i) ?? null }));

    let real: EvalReal | null = null;
    let list: ReturnType<typeof listReal> | null = null;
    let rw: ReturnType<typeof realWindows> | null = null;
    const groups = a.groups ? readGroups(a.groups) : null;
    if (a.real) {
      list = listReal(a.real, classes, groups, REAL_WINDOW_DEFAULTS.testFraction, REAL_WINDOW_DEFAULTS.splitSeed, m);
      if (!list.images.length) throw new UsageError(`--real ${a.real} holds no images in class folders named ${classes.join(', ')}`);
      rw = realWindows(list.images, classes, a.realPerClass, m.width, REAL_WINDOW_DEFAULTS.windowSeed, REAL_WINDOW_DEFAULTS.jitter);
      for (const s of rw.skipped) log(`report: real image left out: ${s.item}: ${s.why}`);
      real = { features: (await clf.embed(rw.pixels)).features, labels: rw.labels, test: rw.test, groups: rw.source.map((k) => (list as { images: RealImage[] }).images[k]?.group as string) };
    }
    const ev = await evaluateFromEmbeddings(classes, clf.reference, embedded, real, { downstreamSeeds: a.seeds });
    const quality = reportQuality(ev, clf.reference, m.id, `embedded here with onnxruntime-node from the ${known.length} accepted images (as npm run evaluate does)`);

    let downstream: ReportInput['downstream'] = { available: false, why: 'no real images were given (npm run report -- ... --real <folder of <class>/ real images>)' };
    const d = ev.downstream;
    if (d && 'skipped' in d) downstream = { available: false, why: d.skipped };
    else if (d && list && rw && real && a.real) {
      const root = a.real;
      const src = rw.source.map((k) => list.images[k] as RealImage);
      const heldImages = list.images.filter((i) => i.test).length;
      const value: DownstreamNumbers = {
        result: d, classes, split: groups ? 'tile_group' : 'file',
        heldOutImages: [...new Set(src.filter((_, i) => rw.test[i]).map((im) => relative(root, im.path)))].sort(),
        heldOutGroups: [...list.split.heldOutGroups].sort(),
        testPerClass: classes.map((_, ci) => rw.labels.filter((l, i) => l === ci && rw.test[i]).length),
        trainPerClass: classes.map((_, ci) => rw.labels.filter((l, i) => l === ci && !rw.test[i]).length),
        realSource: `Real images: ${list.images.length} files under ${basename(root)} (${list.images.length - heldImages} on the training side, ${heldImages} held out; groups ${groups ? `by tile_group from ${basename(a.groups as string)}` : 'by file: no manifest_extra.csv, so photos of one part may sit on both sides and the real-only score is optimistic'}; ${list.split.text}); ${a.realPerClass} windows per class and side drawn from them as npm run evaluate draws them (the counts in the table are windows, the list below the held-out images they came from).`,
      };
      downstream = { available: true, value };
    }
    const protocol = protocolFor(a, loaded.records);
    log(`report: downstream protocol: ${protocol.available ? (protocol.value.origin.kind === 'model' ? `the model's, ${protocol.value.origin.file}` : protocol.value.origin.file) : `not shown: ${protocol.why}`}`);
    const input: ReportInput = {
      generatedAt: now, source: `${basename(a.dataset)} (${loaded.kind})`, reviewed: loaded.reviewed, classes, records: loaded.records,
      quality: { available: true, value: quality }, downstream, protocol, models: modelsOf(loaded.records, manifestCitation(a.model)), thresholds: a.thresholds, thresholdsSource: a.thresholdsSource,
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
