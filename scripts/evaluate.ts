/**
 * Scores a synthetic dataset with the embedded evaluation classifier and prints one JSON object.
 *
 *   npm run evaluate -- --dataset out/ --real ../shared/datasets/magnetic-tile/train \
 *     --groups ../shared/datasets/magnetic-tile/manifest_extra.csv [--seeds 5]
 *
 * --dataset: an exported zip (images/<class>/<id>.png of the accepted items, read with readExportZip) or a
 *   folder holding images/<class>/*.png (what scripts/generate.ts writes) or <class>/*.png. Images larger than
 *   the classifier's window are centre-cropped (counted in the output); smaller ones are refused.
 * --real: a folder of class subfolders of real grayscale images (PNG or baseline JPEG, any size; an image
 *   smaller than the window is reflection-padded as training/ddstudio/data.py does), with optional
 *   <stem>_mask.png defect masks. Real windows are drawn as training/ddstudio/data.py `crop` does: centred on a
 *   random defect pixel (+- jitter) when the mask has one, else a random window; seeded, --real-per-class per
 *   class on each side of the train/test split.
 *
 * Per synthetic class: n; label consistency (share the classifier assigns to the requested class) and
 * confidence (mean softmax probability of the requested class); KID against the shipped reference features of
 * the class; diversity (mean pairwise feature distance) against the reference's; memorised count (nearest
 * distance to a same-class reference feature or real window under memorisationThreshold); outlier share
 * (outlierScore above the 99th percentile of the reference windows' own scores). Plus the downstream check
 * (src/core/quality/quality.ts downstreamCheck) on real windows split by tile_group (--groups; src/core/quality/split.ts, the
 * TypeScript copy of training/ddstudio/data.py split_by_group, pinned to it by training/reference/split_reference.json)
 * or, without --groups, by file (each file its own group, as data.py does without a manifest). With the defaults (--split-seed 0 --test-fraction 0.2) the test groups are the
 * classifier's and the denoiser's held-out validation groups.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { unzipSync } from 'fflate';
import { validationGroups } from '../src/core/quality/split';
import { decodeImage, decodeToGray, type Gray } from '../src/core/formats/image';
import {
  argmax,
  classStats,
  downstreamCheck,
  DOWNSTREAM_DEFAULTS,
  kid,
  meanPairwiseDistance,
  memorisationThreshold,
  nearestDistances,
  outlierScore,
  outlierThreshold,
  percentile,
} from '../src/core/quality/quality';
import { deriveSeed, Rng } from '../src/core/diffusion/rng';
import { readExportZip } from '../src/dataset/zip';
import { DEFAULT_CLASSIFIER, loadClassifier } from './lib/classifier';

export class UsageError extends Error {}

const USAGE = `usage: npm run evaluate -- --dataset <exported .zip | folder with images/<class>/*.png> --real <folder of <class>/ images (+ <stem>_mask.png)>
       [--groups manifest_extra.csv (columns image, tile_group)] [--seeds 5] [--real-per-class 50] [--test-fraction 0.2]
       [--split-seed 0] [--window-seed 0] [--jitter 16] [--kid-subsets 50] [--classifier ${DEFAULT_CLASSIFIER}] [--threads 1]`;

export interface EvaluateArgs {
  dataset: string;
  real: string;
  groups?: string;
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
  const tf = Number(values['test-fraction'] ?? '0.2');
  if (!(Number.isFinite(tf) && tf > 0 && tf < 1)) throw new UsageError(`--test-fraction must be a number between 0 and 1 (exclusive), got "${values['test-fraction']}"`);
  return {
    dataset: values.dataset,
    real: values.real,
    groups: values.groups,
    seeds: int('seeds', values.seeds, 1, 5),
    realPerClass: int('real-per-class', values['real-per-class'], 1, 50),
    testFraction: tf,
    splitSeed: int('split-seed', values['split-seed'], 0, 0),
    windowSeed: int('window-seed', values['window-seed'], 0, 0),
    jitter: int('jitter', values.jitter, 0, 16),
    kidSubsets: int('kid-subsets', values['kid-subsets'], 1, 50),
    classifier: values.classifier ?? DEFAULT_CLASSIFIER,
    threads: int('threads', values.threads, 1, 1),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Synthetic set

export interface SyntheticImage {
  className: string;
  name: string;
  pixels: Uint8Array;
}

function centreCrop(g: Gray, w: number, h: number, name: string): { pixels: Uint8Array; cropped: boolean } {
  if (g.width === w && g.height === h) return { pixels: g.pixels, cropped: false };
  if (g.width < w || g.height < h) throw new UsageError(`${name} is ${g.width}x${g.height}; the classifier needs at least ${w}x${h}`);
  const top = Math.floor((g.height - h) / 2);
  const left = Math.floor((g.width - w) / 2);
  const out = new Uint8Array(w * h);
  for (let r = 0; r < h; r++) out.set(g.pixels.subarray((top + r) * g.width + left, (top + r) * g.width + left + w), r * w);
  return { pixels: out, cropped: true };
}

export function readSynthetic(path: string, w: number, h: number): { images: SyntheticImage[]; kind: string; cropped: number; skipped: { item: string; why: string }[] } {
  const raw: { className: string; name: string; png: Uint8Array }[] = [];
  const skipped: { item: string; why: string }[] = [];
  let kind: string;
  if (statSync(path).isFile()) {
    const bytes = new Uint8Array(readFileSync(path));
    let files: Record<string, Uint8Array>;
    try {
      files = unzipSync(bytes);
    } catch (e) {
      throw new UsageError(`--dataset ${path} is not a readable zip (${(e as Error).message}); accepted: an exported .zip or a folder with images/<class>/*.png`);
    }
    if (files['metadata.jsonl']) {
      kind = 'exported zip (accepted items)';
      const ds = readExportZip(bytes, { skipBad: true });
      for (const s of ds.skipped) skipped.push({ item: `metadata.jsonl line ${s.line}${s.id !== undefined ? ` (${s.id})` : ''}`, why: s.problem });
      for (const it of ds.items) if (it.status === 'accepted') raw.push({ className: it.className, name: it.id, png: (ds.images.get(it.id) as { png: Uint8Array }).png });
    } else {
      kind = 'zip (images/<class>/*.png)';
      for (const [p, b] of Object.entries(files)) {
        const m = /^images\/([^/]+)\/([^/]+\.png)$/i.exec(p);
        if (m) raw.push({ className: m[1] as string, name: m[2] as string, png: b });
      }
    }
  } else {
    const root = existsSync(join(path, 'images')) ? join(path, 'images') : path;
    kind = root === path ? 'folder (<class>/*.png)' : 'folder (images/<class>/*.png)';
    for (const c of readdirSync(root).sort()) {
      if (!statSync(join(root, c)).isDirectory()) continue;
      for (const f of readdirSync(join(root, c)).sort())
        if (f.toLowerCase().endsWith('.png') && !f.includes('_mask')) raw.push({ className: c, name: f, png: new Uint8Array(readFileSync(join(root, c, f))) });
    }
  }
  if (!raw.length) throw new UsageError(`--dataset ${path} holds no images; accepted: an exported .zip or a folder with images/<class>/*.png`);
  let cropped = 0;
  const images = raw.flatMap((r) => {
    // One unreadable or too small image is reported and left out; the others are evaluated.
    try {
      const c = centreCrop(decodeToGray(r.png), w, h, `${r.className}/${r.name}`);
      if (c.cropped) cropped++;
      return [{ className: r.className, name: r.name, pixels: c.pixels }];
    } catch (e) {
      skipped.push({ item: `${r.className}/${r.name}`, why: (e as Error).message });
      return [];
    }
  });
  if (!images.length) throw new UsageError(`--dataset ${path}: none of its ${raw.length} images could be read (first: ${skipped[0]?.item}: ${skipped[0]?.why})`);
  return { images, kind, cropped, skipped };
}

// ---------------------------------------------------------------------------------------------------------
// Real windows

const IMAGE_EXTS = ['.jpg', '.jpeg', '.png'];

/** tile_group per image basename, from a CSV with columns image and tile_group (as data.py _groups). */
export function readGroups(path: string): Map<string, string> {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/).filter((l) => l.trim());
  const split = (l: string): string[] => {
    const out: string[] = [];
    let cur = '';
    let q = false;
    for (let i = 0; i < l.length; i++) {
      const ch = l[i] as string;
      if (q) {
        if (ch === '"' && l[i + 1] === '"') {
          cur += '"';
          i++;
        } else if (ch === '"') q = false;
        else cur += ch;
      } else if (ch === '"') q = true;
      else if (ch === ',') {
        out.push(cur);
        cur = '';
      } else cur += ch;
    }
    out.push(cur);
    return out;
  };
  const head = split(lines[0] ?? '');
  const ii = head.indexOf('image');
  const gi = head.indexOf('tile_group');
  if (ii < 0 || gi < 0) throw new UsageError(`--groups ${path} has columns ${head.join(', ')}; accepted: a CSV with columns image and tile_group`);
  const m = new Map<string, string>();
  for (const l of lines.slice(1)) {
    const r = split(l);
    if (r[ii] && r[gi]) m.set(basename(r[ii] as string), r[gi] as string);
  }
  return m;
}


export interface RealImage {
  className: string;
  path: string;
  maskPath: string | null;
  group: string;
  test: boolean;
}

export function listReal(root: string, classes: readonly string[], groups: Map<string, string> | null, fraction: number, seed: number): { images: RealImage[]; ignored: string[]; ungrouped: number } {
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
      const stem = f.slice(0, -extname(f).length);
      const mp = join(root, c, `${stem}_mask.png`);
      let group = groups?.get(f);
      if (group === undefined) {
        if (groups) ungrouped++;
        group = `${c}/${f}`; // data.py: without a manifest entry a file is its own group
      }
      images.push({ className: c, path: join(root, c, f), maskPath: existsSync(mp) ? mp : null, group, test: false });
    }
  }
  // split_by_group walks classes in the model's order (it matters only for a group shared by two classes)
  const ordered = [...images].sort((a, b) => classes.indexOf(a.className) - classes.indexOf(b.className));
  const val = validationGroups(ordered, fraction, seed);
  for (const im of images) im.test = val.has(im.group);
  return { images, ignored, ungrouped };
}

interface Loaded {
  img: Gray;
  defects: Int32Array; // flat indices (row-major, as np.argwhere) of mask pixels > 127
}

function reflect(i: number, n: number): number {
  // numpy pad mode "reflect" (edge not repeated), for i in [0, 2n - 2]
  return i < n ? i : 2 * (n - 1) - i;
}

function loadReal(r: RealImage): Loaded {
  const img = decodeImage(new Uint8Array(readFileSync(r.path)), r.path);
  let mask = new Uint8Array(img.width * img.height);
  if (r.maskPath) {
    const m = decodeToGray(new Uint8Array(readFileSync(r.maskPath)));
    if (m.width !== img.width || m.height !== img.height)
      throw new UsageError(`${r.maskPath}: mask is ${m.width}x${m.height}, image is ${img.width}x${img.height}; they must match`);
    mask = Uint8Array.from(m.pixels, (v) => (v > 127 ? 1 : 0));
  }
  const defects: number[] = [];
  for (let i = 0; i < mask.length; i++) if (mask[i]) defects.push(i);
  return { img, defects: Int32Array.from(defects) };
}

/** data.py crop(): reflection-pad small images, centre on a random defect pixel +- jitter, else a random window. */
export function cropWindow(l: Loaded, size: number, rng: Rng, jitter: number): Uint8Array {
  let { width: w, height: h, pixels } = l.img;
  const srcW = w;
  if (h < size || w < size) {
    const nh = Math.max(h, size);
    const nw = Math.max(w, size);
    const p = new Uint8Array(nw * nh);
    for (let r = 0; r < nh; r++) for (let c = 0; c < nw; c++) p[r * nw + c] = pixels[reflect(r, h) * srcW + reflect(c, w)] as number;
    pixels = p;
    w = nw;
    h = nh;
  }
  const randint = (lo: number, hi: number) => lo + Math.floor(rng.nextFloat() * (hi - lo + 1)); // inclusive
  let top: number;
  let left: number;
  if (l.defects.length) {
    const k = l.defects[Math.floor(rng.nextFloat() * l.defects.length)] as number;
    const r = Math.floor(k / srcW) + randint(-jitter, jitter);
    const c = (k % srcW) + randint(-jitter, jitter);
    top = Math.min(Math.max(r - Math.floor(size / 2), 0), h - size);
    left = Math.min(Math.max(c - Math.floor(size / 2), 0), w - size);
  } else {
    top = randint(0, h - size);
    left = randint(0, w - size);
  }
  const out = new Uint8Array(size * size);
  for (let r = 0; r < size; r++) out.set(pixels.subarray((top + r) * w + left, (top + r) * w + left + size), r * size);
  return out;
}

export interface RealWindows {
  pixels: Uint8Array[];
  labels: number[];
  test: boolean[];
  /** Real images that could not be used (unreadable, a mask of another size), with why; the rest go on. */
  skipped: { item: string; why: string }[];
}

/**
 * perClass windows per class on each side of the split (fewer only when a side has no images). Class ci, side
 * s (0 train, 1 test) uses Rng(deriveSeed(windowSeed, 2 ci + s)), so classes and sides are independent streams.
 */
export function realWindows(images: readonly RealImage[], classes: readonly string[], perClass: number, size: number, windowSeed: number, jitter: number): RealWindows {
  const out: RealWindows = { pixels: [], labels: [], test: [], skipped: [] };
  classes.forEach((c, ci) => {
    const cache = new Map<string, Loaded>();
    for (const side of [0, 1]) {
      const pool = images.filter((r) => r.className === c && r.test === (side === 1));
      const rng = new Rng(deriveSeed(windowSeed, 2 * ci + side));
      for (let k = 0; k < perClass && pool.length; k++) {
        const at = Math.floor(rng.nextFloat() * pool.length);
        const r = pool[at] as RealImage;
        let l = cache.get(r.path);
        if (!l) {
          try {
            l = loadReal(r);
          } catch (e) {
            // One bad real image is reported and left out; the draw goes on from the others.
            out.skipped.push({ item: r.path, why: (e as Error).message });
            pool.splice(at, 1);
            k--;
            continue;
          }
          cache.set(r.path, l);
        }
        out.pixels.push(cropWindow(l, size, rng, jitter));
        out.labels.push(ci);
        out.test.push(side === 1);
      }
    }
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------------

const r4 = (x: number | null | undefined): number | null => (x === null || x === undefined || !Number.isFinite(x) ? null : Number(x.toPrecision(4)));

function softmax(l: Float32Array): number[] {
  const mx = Math.max(...l);
  const e = Array.from(l, (v) => Math.exp(v - mx));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

export async function runEvaluate(a: EvaluateArgs, log: (s: string) => void = (s) => process.stderr.write(`${s}\n`)): Promise<Record<string, unknown>> {
  const clf = await loadClassifier(a.classifier, a.threads);
  try {
    const m = clf.manifest;
    const classes = m.classes;
    const size = m.width;
    if (m.width !== m.height) throw new UsageError(`classifier ${m.id} takes ${m.width}x${m.height} windows; only square windows are supported`);
    const ref = clf.reference;
    const memo = memorisationThreshold(ref);

    // synthetic
    const syn = readSynthetic(a.dataset, m.width, m.height);
    const unknown = [...new Set(syn.images.map((i) => i.className))].filter((c) => !classes.includes(c));
    if (unknown.length) throw new UsageError(`--dataset has classes ${unknown.join(', ')}, which classifier ${m.id} does not know; accepted: ${classes.join(', ')}`);
    log(`evaluate: ${syn.images.length} synthetic images (${syn.kind})`);
    for (const s of syn.skipped) log(`evaluate: not evaluated: ${s.item}: ${s.why}`);
    const se = await clf.embed(syn.images.map((i) => i.pixels));
    const synLabels = syn.images.map((i) => classes.indexOf(i.className));

    // real
    const groups = a.groups ? readGroups(a.groups) : null;
    const list = listReal(a.real, classes, groups, a.testFraction, a.splitSeed);
    if (!list.images.length) throw new UsageError(`--real ${a.real} holds no images in class folders named ${classes.join(', ')}`);
    const rw = realWindows(list.images, classes, a.realPerClass, size, a.windowSeed, a.jitter);
    log(`evaluate: ${rw.pixels.length} real windows from ${list.images.length} images`);
    for (const s of rw.skipped) log(`evaluate: real image left out: ${s.item}: ${s.why}`);
    const re = await clf.embed(rw.pixels);

    const perClass: Record<string, unknown> = {};
    let nAll = 0;
    let consistentAll = 0;
    let confAll = 0;
    let memAll = 0;
    let outAll = 0;
    for (const [ci, name] of classes.entries()) {
      const idx = synLabels.flatMap((l, i) => (l === ci ? [i] : []));
      if (!idx.length) continue;
      const f = idx.map((i) => se.features[i] as Float32Array);
      const probs = idx.map((i) => softmax(se.logits[i] as Float32Array));
      const pred = probs.map((p) => argmax(p));
      const predicted: Record<string, number> = {};
      for (const p of pred) predicted[classes[p] as string] = (predicted[classes[p] as string] ?? 0) + 1;
      const consistent = pred.filter((p) => p === ci).length;
      const conf = probs.reduce((s, p) => s + (p[ci] as number), 0);
      const refF = ref.classes[name]?.features ?? [];
      const realF = rw.labels.flatMap((l, i) => (l === ci ? [re.features[i] as Float32Array] : []));
      const entry: Record<string, unknown> = {
        n: idx.length,
        labelConsistency: r4(consistent / idx.length),
        confidence: r4(conf / idx.length),
        predicted,
      };
      if (refF.length >= 2 && f.length >= 2) {
        const k = kid(f, refF, { subsets: a.kidSubsets, subsetSize: 100, seed: 0 });
        entry['kid'] = { mean: r4(k.mean), std: r4(k.std), subsetSize: k.subsetSize, subsets: k.subsets, against: `${refF.length} reference windows` };
      } else entry['kid'] = null;
      const dSyn = meanPairwiseDistance(f);
      const dRef = refF.length >= 2 ? meanPairwiseDistance(refF) : NaN;
      entry['diversity'] = { synthetic: r4(dSyn), real: r4(dRef), ratio: r4(dSyn / dRef), real_is: 'mean pairwise distance of the reference windows' };
      const thr = memo[name]?.threshold ?? NaN;
      const nRef = refF.length ? nearestDistances(f, refF) : new Float64Array(f.length).fill(Infinity);
      const nReal = realF.length ? nearestDistances(f, realF) : new Float64Array(f.length).fill(Infinity);
      const nearest = Array.from(nRef, (v, i) => Math.min(v, nReal[i] as number));
      const memorised = nearest.filter((v) => v < thr).length;
      entry['nearest'] = {
        reference: { min: r4(Math.min(...nRef)), median: r4(percentile(nRef, 50)) },
        realWindows: realF.length ? { min: r4(Math.min(...nReal)), median: r4(percentile(nReal, 50)), windows: realF.length } : null,
      };
      entry['memorised'] = { count: memorised, threshold: r4(thr), basis: memo[name]?.basis ?? 'none', names: idx.filter((_, j) => (nearest[j] as number) < thr).map((i) => (syn.images[i] as SyntheticImage).name) };
      if (refF.length >= 2) {
        const st = classStats(refF);
        const ot = outlierThreshold(refF, st, 99);
        const sc = f.map((x) => outlierScore(x, st));
        const outliers = sc.filter((s) => s > ot).length;
        entry['outlierShare'] = r4(outliers / f.length);
        entry['outlierScore'] = { median: r4(percentile(sc, 50)), threshold: r4(ot), referenceMedian: r4(percentile(refF.map((x) => outlierScore(x, st)), 50)) };
        outAll += outliers;
      } else entry['outlierShare'] = null;
      perClass[name] = entry;
      nAll += idx.length;
      consistentAll += consistent;
      confAll += conf;
      memAll += memorised;
    }

    // classifier sanity on the real windows (should be near the manifest's validation accuracy on the test side)
    const realAcc = (test: boolean): Record<string, number | null> => {
      const o: Record<string, number | null> = {};
      classes.forEach((c, ci) => {
        const ii = rw.labels.flatMap((l, i) => (l === ci && rw.test[i] === test ? [i] : []));
        o[c] = ii.length ? r4(ii.filter((i) => argmax(Array.from(re.logits[i] as Float32Array)) === ci).length / ii.length) : null;
      });
      return o;
    };

    const pick = (test: boolean) => {
      const ii = rw.labels.flatMap((_, i) => (rw.test[i] === test ? [i] : []));
      return { features: ii.map((i) => re.features[i] as Float32Array), labels: ii.map((i) => rw.labels[i] as number) };
    };
    const realTrain = pick(false);
    const realTest = pick(true);
    const splitText = groups
      ? `by tile_group from ${a.groups} (${list.ungrouped} images not listed there are their own group), test fraction ${a.testFraction}, split seed ${a.splitSeed}` +
        (a.testFraction === 0.2 && a.splitSeed === 0 ? ' (= the classifier/denoiser validation split)' : '')
      : `by file (no --groups given: exposures of one physical tile can land on both sides, which inflates the real-only score), test fraction ${a.testFraction}, split seed ${a.splitSeed}`;
    let downstream: Record<string, unknown>;
    if (!realTrain.features.length || !realTest.features.length) {
      downstream = { skipped: `the split left ${realTrain.features.length} train and ${realTest.features.length} test windows; both must be non-empty`, split: splitText };
    } else {
      const d = downstreamCheck({ realTrain, realTest, synthetic: { features: se.features, labels: synLabels }, classes: classes.length, classNames: classes, seeds: a.seeds });
      downstream = {
        split: splitText,
        features: `classifier features; multinomial logistic regression (${JSON.stringify(DOWNSTREAM_DEFAULTS)}), stratified bootstrap of the training set per seed`,
        perClass: Object.fromEntries(classes.map((c, ci) => {
          const p = d.perClass[ci] as { f1RealOnly: number | null; f1WithSynth: number | null; delta: number | null };
          return [c, { f1RealOnly: r4(p.f1RealOnly), f1WithSynth: r4(p.f1WithSynth), delta: r4(p.delta), nTest: realTest.labels.filter((l) => l === ci).length, nTrain: realTrain.labels.filter((l) => l === ci).length, nSynthetic: synLabels.filter((l) => l === ci).length }];
        })),
        macroF1RealOnly: { mean: r4(d.macroF1RealOnly.mean), std: r4(d.macroF1RealOnly.std) },
        macroF1WithSynth: { mean: r4(d.macroF1WithSynth.mean), std: r4(d.macroF1WithSynth.std) },
        delta: { mean: r4(d.delta.mean), std: r4(d.delta.std) },
        nTrain: d.nTrain,
        nTest: d.nTest,
        nSynthetic: d.nSynthetic,
        seeds: d.seeds.length,
        ...(d.warning ? { warning: d.warning } : {}),
      };
    }

    const out: Record<string, unknown> = {
      classifier: { id: m.id, version: m.version, sha256: m.sha256 },
      dataset: { path: a.dataset, kind: syn.kind, n: syn.images.length, centreCropped: syn.cropped, notEvaluated: syn.skipped },
      real: {
        path: a.real,
        images: { train: list.images.filter((i) => !i.test).length, test: list.images.filter((i) => i.test).length },
        ignoredFolders: list.ignored,
        leftOut: rw.skipped,
        windowsPerClassPerSide: a.realPerClass,
        windowSeed: a.windowSeed,
        classifierAccuracyOnRealWindows: { train: realAcc(false), test: realAcc(true) },
      },
      overall: {
        n: nAll,
        labelConsistency: r4(consistentAll / nAll),
        confidence: r4(confAll / nAll),
        memorised: memAll,
        outlierShare: r4(outAll / nAll),
      },
      perClass,
      downstream,
      definitions: {
        labelConsistency: 'share of images the classifier assigns to the requested class',
        confidence: 'mean softmax probability of the requested class',
        kid: 'KID (unbiased MMD^2, kernel (a.b/64+1)^3) of the class features vs the shipped reference features of the class; mean and std over subsets; 0 = same distribution',
        memorised: 'nearest L2 feature distance to a same-class reference feature or real window below the class threshold (smaller real-vs-real nearest-neighbour p1 in reference_features.json)',
        outlierShare: 'share whose RMS z-score vs the class reference features exceeds the 99th percentile of the reference windows own scores',
        downstream: 'macro-F1 on held-out real windows of a softmax classifier on features trained on real-train only vs real-train + synthetic; delta > 0 means the synthetic images help',
      },
    };
    return out;
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
    process.exit(e instanceof UsageError ? 2 : 1);
  }
}
