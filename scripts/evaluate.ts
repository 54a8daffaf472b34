/**
 * Scores a synthetic dataset with the embedded evaluation classifier and prints one JSON object.
 *
 *   npm run evaluate -- --dataset out/ --real ../shared/datasets/magnetic-tile/train \
 *     --groups ../shared/datasets/magnetic-tile/manifest_extra.csv [--seeds 5]
 *
 * --dataset: see scripts/lib/syntheticSet.ts (an exported zip or a folder; photo items are judged on their
 *   generated region).
 * --real: a folder of class subfolders of real grayscale images (PNG or baseline JPEG, any size) with optional
 *   <stem>_mask.png defect masks; windows drawn as training/ddstudio/data.py `crop` does
 *   (src/core/quality/realWindows.ts), --real-per-class per class on each side of the split.
 * --groups: tile_group per image (manifest_extra.csv); default: manifest_extra.csv in --real or its parent, as
 *   data.py finds it; without one, each file is its own group.
 *
 * The numbers are src/core/quality/evaluateDataset.ts evaluateDataset's, the function the studio's quality and
 * downstream panels call with the same defaults. The held-out real images (downstream check) are chosen by
 * src/core/quality/heldOut.ts: groups the classifier's manifest records go where the classifier had them
 * (heldOutGroups: the shipped data's held-out groups are the classifier's), groups it never saw are split by
 * the training pipeline's rule (--test-fraction, --split-seed). The report lists the heldOutGroups.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeImage, decodeToGray } from '../src/core/formats/image';
import { chooseHeldOut, type ClassifierSplit, type HeldOutChoice } from '../src/core/quality/heldOut';
import { drawRealWindowsSync, groupOf, loadedReal, parseGroupsCsv, type RealImage as CoreRealImage, type RealWindows } from '../src/core/quality/realWindows';
import { EVALUATION_DEFAULTS, REAL_WINDOW_DEFAULTS } from '../src/core/quality/evaluateDataset';
import { DEFAULT_CLASSIFIER, loadClassifier } from './lib/classifier';
import { DEFINITIONS, evaluateFromEmbeddings, formatEvaluation } from './lib/evaluateReport';
import { DatasetError, readSynthetic } from './lib/syntheticSet';
import { QualityJudge } from '../src/core/quality/imageQuality';

export { readSynthetic, type SyntheticImage } from './lib/syntheticSet';

export class UsageError extends Error {}

const USAGE = `usage: npm run evaluate -- --dataset <exported .zip | folder with images/<class>/*.png> --real <folder of <class>/ images (+ <stem>_mask.png)>
       [--groups manifest_extra.csv (columns image, tile_group; default: the one in --real or its parent)] [--seeds 5] [--real-per-class 50] [--test-fraction 0.2]
       [--split-seed 0] [--window-seed 0] [--jitter 16] [--kid-subsets 50] [--classifier ${DEFAULT_CLASSIFIER}] [--threads 1]`;

export interface EvaluateArgs {
  dataset: string;
  real: string;
  /** --groups, or manifest_extra.csv found in --real or its parent (groupsFound) */
  groups?: string;
  groupsFound: boolean;
  seeds: number;
  realPerClass: number;
  testFraction: number;
  splitSeed: number;
  windowSeed: number;
  jitter: number;
  kidSubsets: number;
  classifier: string;
  threads: number;
}

function int(name: string, v: string | undefined, min: number, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got "${v}"\n${USAGE}`);
  return n;
}

export function parseEvaluateArgs(argv: string[]): EvaluateArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        dataset: { type: 'string' }, real: { type: 'string' }, groups: { type: 'string' }, seeds: { type: 'string' },
        'real-per-class': { type: 'string' }, 'test-fraction': { type: 'string' }, 'split-seed': { type: 'string' },
        'window-seed': { type: 'string' }, jitter: { type: 'string' }, 'kid-subsets': { type: 'string' },
        classifier: { type: 'string' }, threads: { type: 'string' },
      },
      strict: true,
    }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${USAGE}`);
  }
  if (!values.dataset) throw new UsageError(`--dataset is required\n${USAGE}`);
  if (!values.real) throw new UsageError(`--real is required\n${USAGE}`);
  if (!existsSync(values.dataset)) throw new UsageError(`--dataset ${values.dataset} does not exist; accepted: an exported .zip or a folder with images/<class>/*.png`);
  if (!existsSync(values.real) || !statSync(values.real).isDirectory()) throw new UsageError(`--real ${values.real} is not a folder; accepted: a folder of <class>/ subfolders of images`);
  if (values.groups !== undefined && !existsSync(values.groups)) throw new UsageError(`--groups ${values.groups} does not exist; accepted: a CSV with columns image and tile_group (manifest_extra.csv)`);
  let groups = values.groups;
  const found = groups === undefined ? [join(values.real, 'manifest_extra.csv'), join(dirname(values.real.replace(/\/+$/, '')), 'manifest_extra.csv')].find((p) => existsSync(p)) : undefined;
  groups ??= found;
  const tf = Number(values['test-fraction'] ?? String(REAL_WINDOW_DEFAULTS.testFraction));
  if (!(Number.isFinite(tf) && tf > 0 && tf < 1)) throw new UsageError(`--test-fraction must be a number between 0 and 1 (exclusive), got "${values['test-fraction']}"`);
  return {
    dataset: values.dataset,
    real: values.real,
    groups,
    groupsFound: found !== undefined,
    seeds: int('seeds', values.seeds, 1, EVALUATION_DEFAULTS.downstreamSeeds),
    realPerClass: int('real-per-class', values['real-per-class'], 1, REAL_WINDOW_DEFAULTS.realPerClass),
    testFraction: tf,
    splitSeed: int('split-seed', values['split-seed'], 0, REAL_WINDOW_DEFAULTS.splitSeed),
    windowSeed: int('window-seed', values['window-seed'], 0, REAL_WINDOW_DEFAULTS.windowSeed),
    jitter: int('jitter', values.jitter, 0, REAL_WINDOW_DEFAULTS.jitter),
    kidSubsets: int('kid-subsets', values['kid-subsets'], 1, EVALUATION_DEFAULTS.kidSubsets),
    classifier: values.classifier ?? DEFAULT_CLASSIFIER,
    threads: int('threads', values.threads, 1, 1),
  };
}


// ---------------------------------------------------------------------------------------------------------
// Real images

const IMAGE_EXTS = ['.jpg', '.jpeg', '.png'];

export interface RealImage extends CoreRealImage {
  maskPath: string | null;
}

/** tile_group per image basename, from a CSV with columns image and tile_group (as data.py _groups). */
export function readGroups(path: string): Map<string, string> {
  try {
    return parseGroupsCsv(readFileSync(path, 'utf8'), `--groups ${path}`);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/**
 * The class folders' images with their groups and side of the split (heldOut.ts chooseHeldOut with the
 * classifier's recorded split, when given).
 */
export function listReal(root: string, classes: readonly string[], groups: Map<string, string> | null, fraction: number, seed: number, classifier: ClassifierSplit | null = null): { images: RealImage[]; ignored: string[]; ungrouped: number; split: HeldOutChoice } {
  const images: RealImage[] = [];
  const ignored: string[] = [];
  let ungrouped = 0;
  for (const c of readdirSync(root).sort()) {
    if (!statSync(join(root, c)).isDirectory()) continue;
    if (!classes.includes(c)) {
      ignored.push(c);
      continue;
    }
    for (const f of readdirSync(join(root, c)).sort()) {
      if (!IMAGE_EXTS.includes(extname(f).toLowerCase()) || f.includes('_mask')) continue;
      const mp = join(root, c, `${f.slice(0, -extname(f).length)}_mask.png`);
      if (groups && !groups.has(f)) ungrouped++;
      images.push({ className: c, name: f, path: join(root, c, f), maskPath: existsSync(mp) ? mp : null, group: groupOf(c, f, groups), test: false });
    }
  }
  const ordered = [...images].sort((a, b) => classes.indexOf(a.className) - classes.indexOf(b.className));
  const split = chooseHeldOut(ordered, classifier, fraction, seed);
  const held = new Set(split.heldOutGroups);
  for (const im of images) im.test = held.has(im.group);
  return { images, ignored, ungrouped, split };
}

function loadReal(r: RealImage) {
  const img = decodeImage(new Uint8Array(readFileSync(r.path)), r.path);
  return loadedReal(img, r.maskPath ? decodeToGray(new Uint8Array(readFileSync(r.maskPath))) : null, r.maskPath ?? r.path);
}

/** src/core/quality/realWindows.ts drawRealWindows, reading the images from disk. */
export function realWindows(images: readonly RealImage[], classes: readonly string[], perClass: number, size: number, windowSeed: number, jitter: number): RealWindows {
  return drawRealWindowsSync(images, classes, perClass, size, windowSeed, jitter, (r) => loadReal(r as RealImage));
}

// ---------------------------------------------------------------------------------------------------------

export async function runEvaluate(a: EvaluateArgs, log: (s: string) => void = (s) => process.stderr.write(`${s}\n`)): Promise<Record<string, unknown>> {
  const clf = await loadClassifier(a.classifier, a.threads);
  try {
    const m = clf.manifest;
    const classes = m.classes;
    if (m.width !== m.height) throw new UsageError(`classifier ${m.id} takes ${m.width}x${m.height} windows; only square windows are supported`);

    const syn = readSynthetic(a.dataset, m.width, m.height);
    const unknown = [...new Set(syn.images.map((i) => i.className))].filter((c) => !classes.includes(c));
    if (unknown.length) throw new UsageError(`--dataset has classes ${unknown.join(', ')}, which classifier ${m.id} does not know; accepted: ${classes.join(', ')}`);
    log(`evaluate: ${syn.images.length} synthetic images (${syn.kind}${syn.photoItems ? `, ${syn.photoItems} on photos judged on their first window` : ''})`);
    for (const s of syn.skipped) log(`evaluate: not evaluated: ${s.item}: ${s.why}`);
    const se = await clf.embed(syn.images.map((i) => i.pixels));
    const photos = syn.images.flatMap((im, i) => (im.background ? [i] : []));
    const be = await clf.embed(photos.map((i) => syn.images[i]?.background as Uint8Array));
    const bgOf = new Map(photos.map((i, k) => [i, be.features[k] as Float32Array]));

    const groups = a.groups ? readGroups(a.groups) : null;
    const list = listReal(a.real, classes, groups, a.testFraction, a.splitSeed, m);
    if (!list.images.length) throw new UsageError(`--real ${a.real} holds no images in class folders named ${classes.join(', ')}`);
    const rw = realWindows(list.images, classes, a.realPerClass, m.width, a.windowSeed, a.jitter);
    log(`evaluate: ${rw.pixels.length} real windows from ${list.images.length} images; ${list.split.text}`);
    for (const s of rw.skipped) log(`evaluate: real image left out: ${s.item}: ${s.why}`);
    const re = await clf.embed(rw.pixels);
    const real = { features: re.features, labels: rw.labels, test: rw.test, groups: rw.source.map((k) => list.images[k]?.group as string) };

    const ev = await evaluateFromEmbeddings(classes, clf.reference,
      syn.images.map((im, i) => ({ className: im.className, name: im.name, region: im.region, logits: se.logits[i] as Float32Array, features: se.features[i] as Float32Array, backgroundFeatures: bgOf.get(i) ?? null })),
      real, { kidSubsets: a.kidSubsets, downstreamSeeds: a.seeds });

    // classifier sanity on the real windows (should be near the manifest's validation accuracy on the test side)
    const realAcc = (test: boolean): Record<string, number | null> =>
      Object.fromEntries(classes.map((c, ci) => {
        const ii = rw.labels.flatMap((l, i) => (l === ci && rw.test[i] === test ? [i] : []));
        const logits = (i: number) => Array.from(re.logits[i] as Float32Array);
        return [c, ii.length ? Number((ii.filter((i) => logits(i).indexOf(Math.max(...logits(i))) === ci).length / ii.length).toPrecision(4)) : null];
      }));
    const groupText = a.groups ? `tile_group from ${a.groups}${a.groupsFound ? ' (found beside --real)' : ''} (${list.ungrouped} images not listed there are their own group)` : 'file (no manifest_extra.csv: exposures of one physical tile can land on both sides, which inflates the real-only score)';
    const report = formatEvaluation(ev, real, list.split, `groups by ${groupText}; ${list.split.text}`);
    // Each image's flags as the studio's worker sets them (its "Auto-reject flagged" gate): the same judge.
    const judge = new QualityJudge(m.id, classes, clf.reference);
    const images = syn.images.map((im, i) => {
      const q = judge.judge(im.className, se.logits[i] as Float32Array, se.features[i] as Float32Array, bgOf.get(i));
      return { className: im.className, name: im.name, predicted: q.predictedClass, flags: q.flags };
    });
    return {
      classifier: { id: m.id, version: m.version, sha256: m.sha256 },
      dataset: { path: a.dataset, kind: syn.kind, n: syn.images.length, centreCropped: syn.cropped, photoItems: syn.photoItems, notEvaluated: syn.skipped },
      real: {
        path: a.real,
        images: { train: list.images.filter((i) => !i.test).length, test: list.images.filter((i) => i.test).length },
        ignoredFolders: list.ignored,
        leftOut: rw.skipped,
        windowsPerClassPerSide: a.realPerClass,
        windowSeed: a.windowSeed,
        classifierAccuracyOnRealWindows: { train: realAcc(false), test: realAcc(true) },
      },
      ...report,
      images,
      definitions: { ...DEFINITIONS, images: 'per image: the class the classifier predicts and the studio\'s quality flags (inconsistent, memorised, outlier), as its "Auto-reject flagged" uses them; npm run downstream -- --gate <this report> leaves the flagged ones out' },
    };
  } finally {
    await clf.release();
  }
}

const isMain = import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('scripts/evaluate.ts');
if (isMain) {
  try {
    const out = await runEvaluate(parseEvaluateArgs(process.argv.slice(2)));
    console.log(JSON.stringify(out, null, 2));
  } catch (e) {
    console.error(`evaluate: ${(e as Error).message}`);
    process.exit(e instanceof UsageError || e instanceof DatasetError ? 2 : 1);
  }
}
