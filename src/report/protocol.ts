/**
 * The downstream protocol's report (training/downstream.py, `npm run downstream`: final.json / dev.json) read
 * for the pilot report: unknown JSON in, typed ProtocolNumbers out, or a ProtocolError naming the field, what it
 * held and what is accepted. Python's json writes NaN and ±Infinity as bare words (a one-run confidence interval
 * is ±Infinity); parseProtocolText reads those too. No DOM, store or file access: the caller reads the text.
 */

export const PROTOCOL_ARMS = ['real', 'classic', 'flips', 'synthetic', 'synthetic+classic', 'synthetic+flips'] as const;
export type ProtocolArm = (typeof PROTOCOL_ARMS)[number];
export type SyntheticArm = Extract<ProtocolArm, `synthetic${string}`>;
export type BaselineArm = Exclude<ProtocolArm, SyntheticArm>;
export const BASELINE_ARMS: readonly BaselineArm[] = PROTOCOL_ARMS.filter((a): a is BaselineArm => !a.startsWith('synthetic'));
export const SYNTHETIC_ARMS: readonly SyntheticArm[] = PROTOCOL_ARMS.filter((a): a is SyntheticArm => a.startsWith('synthetic'));
export const PROTOCOL_METRICS = ['macroF1', 'pixelAP'] as const;
export type ProtocolMetric = (typeof PROTOCOL_METRICS)[number];

/** The file name a model folder carries its protocol report under (public/models/<id>/downstream.json). */
export const MODEL_PROTOCOL_FILE = 'downstream.json';

/** Where the report came from: a file given for this report, or the one shipped with a model. */
export type ProtocolOrigin = { kind: 'file'; file: string } | { kind: 'model'; modelId: string; file: string };

export interface ArmNumbers {
  runs: number;
  /** Means over the arm's (fold, seed) runs; null where the report has none (NaN in Python). */
  macroF1: number | null;
  pixelAP: number | null;
  /** Share of defect-free windows' pixels the segmentation network calls defect. */
  freeFpr: number | null;
  perClass: Record<string, { f1: number | null; pixelAP: number | null }>;
}

/** A paired difference with its 95% t interval (±Infinity when it rests on one run: the file says null). */
export interface GainInterval {
  mean: number;
  ci95: [number, number];
  n: number;
}

export interface MetricGain {
  /** The better of the baselines on this metric, the one the synthetic arm is compared with. */
  baseline: BaselineArm;
  /** null: no paired run had this metric. */
  overall: GainInterval | null;
  perClass: Record<string, GainInterval | null>;
}

export interface ProtocolNumbers {
  origin: ProtocolOrigin;
  /** The real data folder's name. */
  data: string | null;
  classes: string[];
  /** The classes scored (the defect classes), in the report's order. */
  scored: string[];
  hyper: Record<string, number | string | boolean | null>;
  /** How the synthetic arms used the synthetic set (absent in reports written before recipes existed). */
  recipe: { share: number; perClass: number | null; gate: { report: string; judged: number; flagged: number } | null; exposure: 'as-generated' | 'match' } | null;
  armsRun: ProtocolArm[];
  split: 'dev' | 'final';
  finalTestGroups: string[];
  finalTestSource: string;
  /** Whether the final test's tiles are the generator's own held-out groups (tiles it never saw). Reports written
   * before the field existed say so only in finalTestSource's wording, which is read in their place. */
  finalTestHeldFromGenerator: boolean;
  devFolds: string[][];
  /** Per class, the spread (standard deviation) of window mean brightness in [-1, 1] units: real training windows,
   * synthetic as generated, synthetic as the recipe used them. null: not recorded (older reports, no synthetic set). */
  exposureSpread: Record<string, { real: number | null; synthetic: number | null; used: number | null }> | null;
  /** null: run without a synthetic set (baselines only). */
  synthetic: { images: Record<string, number>; onPhotos: number; sha256: string | null } | null;
  complete: boolean;
  arms: Partial<Record<ProtocolArm, ArmNumbers>>;
  gain: Partial<Record<SyntheticArm, Partial<Record<ProtocolMetric, MetricGain>>>>;
}

export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

const ACCEPTED = 'the final.json / dev.json that npm run downstream (training/downstream.py) writes';

const show = (v: unknown): string => {
  if (v === undefined) return 'nothing (missing)';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'object' && v !== null) return 'an object';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
};
const fail = (path: string, want: string, got: unknown): never => {
  throw new ProtocolError(`protocol report: ${path} must be ${want}, got ${show(got)}; accepted: ${ACCEPTED}`);
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: unknown, path: string): Obj => (isObj(v) ? v : fail(path, 'an object', v));
const str = (v: unknown, path: string): string => (typeof v === 'string' ? v : fail(path, 'a string', v));
const strList = (v: unknown, path: string): string[] => (Array.isArray(v) ? v.map((x, i) => str(x, `${path}[${i}]`)) : fail(path, 'a list of strings', v));
const count = (v: unknown, path: string, min = 0): number => (typeof v === 'number' && Number.isSafeInteger(v) && v >= min ? v : fail(path, `an integer >= ${min}`, v));
/** A finite number, or null (the report's null and Python's NaN). */
const numOrNull = (v: unknown, path: string): number | null => (v === null || (typeof v === 'number' && Number.isFinite(v)) ? v : fail(path, 'a finite number or null', v));
const numIn = (v: unknown, path: string, lo: number, hi: number): number | null => {
  const n = numOrNull(v, path);
  return n === null || (n >= lo && n <= hi) ? n : fail(path, `a number from ${lo} to ${hi} or null`, v);
};
const oneOf = <T extends string>(v: unknown, path: string, options: readonly T[]): T => ((options as readonly unknown[]).includes(v) ? (v as T) : fail(path, `one of ${options.map((o) => JSON.stringify(o)).join(', ')}`, v));

/** Per-class keys must be classes the report names. */
function classKeys(v: unknown, path: string, classes: readonly string[]): [string, unknown][] {
  const o = obj(v, path);
  for (const k of Object.keys(o)) if (!classes.includes(k)) fail(`${path} key ${JSON.stringify(k)}`, `one of the report's classes (${classes.join(', ')})`, k);
  return Object.entries(o);
}

function interval(v: unknown, path: string): GainInterval {
  const o = obj(v, path);
  const mean = numOrNull(o['mean'], `${path}.mean`);
  if (mean === null) return fail(`${path}.mean`, 'a finite number', o['mean']);
  const n = count(o['n'], `${path}.n`, 1);
  // downstream.py writes null for a one-run difference (no interval); older reports wrote [-Infinity, Infinity]
  if (o['ci95'] === null) return n === 1 ? { mean, ci95: [-Infinity, Infinity], n } : fail(`${path}.ci95`, 'an interval: null only for a one-run difference (n 1)', null);
  const ci = o['ci95'];
  if (!Array.isArray(ci) || ci.length !== 2 || !ci.every((x) => typeof x === 'number' && !Number.isNaN(x))) return fail(`${path}.ci95`, 'a list [low, high] of two numbers (±Infinity allowed)', ci);
  const [lo, hi] = ci as [number, number];
  if (!(lo <= mean && mean <= hi)) fail(`${path}.ci95`, `an interval holding the mean ${mean}`, ci);
  return { mean, ci95: [lo, hi], n };
}

function arm(v: unknown, path: string, classes: readonly string[]): ArmNumbers {
  const o = obj(v, path);
  const perClass: ArmNumbers['perClass'] = {};
  for (const [c, p] of classKeys(o['perClass'], `${path}.perClass`, classes)) {
    const q = obj(p, `${path}.perClass.${c}`);
    perClass[c] = { f1: numIn(q['f1'], `${path}.perClass.${c}.f1`, 0, 1), pixelAP: numIn(q['pixelAP'], `${path}.perClass.${c}.pixelAP`, 0, 1) };
  }
  return {
    runs: count(o['runs'], `${path}.runs`),
    macroF1: numIn(o['macroF1'], `${path}.macroF1`, 0, 1),
    pixelAP: numIn(o['pixelAP'], `${path}.pixelAP`, 0, 1),
    freeFpr: numIn(o['freeFpr'], `${path}.freeFpr`, 0, 1),
    perClass,
  };
}

function metricGain(v: unknown, path: string, classes: readonly string[], arms: ProtocolNumbers['arms']): MetricGain {
  const o = obj(v, path);
  const baseline = oneOf(o['baseline'], `${path}.baseline`, BASELINE_ARMS);
  if (!arms[baseline]) fail(`${path}.baseline`, `an arm the report has (${Object.keys(arms).join(', ')})`, baseline);
  // downstream.py leaves mean / ci95 / n out when no paired run had the metric
  const overall = o['mean'] === undefined && o['ci95'] === undefined && o['n'] === undefined ? null : interval(o, path);
  const perClass: MetricGain['perClass'] = {};
  for (const [c, p] of classKeys(o['perClass'] ?? {}, `${path}.perClass`, classes)) perClass[c] = p === null ? null : interval(p, `${path}.perClass.${c}`);
  return { baseline, overall, perClass };
}

function recipe(v: unknown): ProtocolNumbers['recipe'] {
  if (v === undefined || v === null) return null;
  const o = obj(v, 'recipe');
  const share = numIn(o['share'], 'recipe.share', 0, 1);
  if (share === null || share === 0) return fail('recipe.share', 'a number in (0, 1]', o['share']);
  const g = o['gate'];
  let gate: NonNullable<ProtocolNumbers['recipe']>['gate'] = null;
  if (g !== null && g !== undefined) {
    const q = obj(g, 'recipe.gate');
    gate = { report: str(q['report'], 'recipe.gate.report'), judged: count(q['judged'], 'recipe.gate.judged'), flagged: count(q['flagged'], 'recipe.gate.flagged') };
  }
  const exposure = o['exposure'] === undefined ? 'as-generated' : oneOf(o['exposure'], 'recipe.exposure', ['as-generated', 'match'] as const);
  return { share, perClass: o['perClass'] === null || o['perClass'] === undefined ? null : count(o['perClass'], 'recipe.perClass', 1), gate, exposure };
}

function exposureSpread(v: unknown, classes: readonly string[]): ProtocolNumbers['exposureSpread'] {
  if (v === null || v === undefined) return null;
  const out: NonNullable<ProtocolNumbers['exposureSpread']> = {};
  for (const [c, e] of classKeys(v, 'exposureSpread', classes)) {
    const q = obj(e, `exposureSpread.${c}`);
    const spread = (k: string) => numIn(q[k], `exposureSpread.${c}.${k}`, 0, 2);
    out[c] = { real: spread('real'), synthetic: spread('synthetic'), used: spread('used') };
  }
  return out;
}

function synthetic(v: unknown, classes: readonly string[]): ProtocolNumbers['synthetic'] {
  if (v === null || v === undefined) return null;
  const o = obj(v, 'synthetic');
  const images: Record<string, number> = {};
  for (const [c, n] of classKeys(o['images'], 'synthetic.images', classes)) images[c] = count(n, `synthetic.images.${c}`);
  const sha = o['sha256'];
  return { images, onPhotos: count(o['onPhotos'] ?? 0, 'synthetic.onPhotos'), sha256: sha === undefined ? null : str(sha, 'synthetic.sha256') };
}

function hyper(v: unknown): ProtocolNumbers['hyper'] {
  const out: ProtocolNumbers['hyper'] = {};
  for (const [k, x] of Object.entries(v === undefined ? {} : obj(v, 'hyper'))) {
    if (x === null || typeof x === 'string' || typeof x === 'boolean' || (typeof x === 'number' && Number.isFinite(x))) out[k] = x;
    else fail(`hyper.${k}`, 'a number, string, boolean or null', x);
  }
  return out;
}

/** The protocol report as parsed JSON (from JSON.parse or parseProtocolText's reading). */
export function parseProtocol(raw: unknown, origin: ProtocolOrigin): ProtocolNumbers {
  const o = obj(raw, 'the report');
  const classes = strList(o['classes'], 'classes');
  if (!classes.length) fail('classes', 'a non-empty list of class names', o['classes']);
  const arms: ProtocolNumbers['arms'] = {};
  for (const [k, a] of Object.entries(obj(o['arms'], 'arms'))) arms[oneOf(k, `arms key ${JSON.stringify(k)}`, PROTOCOL_ARMS)] = arm(a, `arms.${k}`, classes);
  if (!Object.keys(arms).length) fail('arms', `an object with at least one of ${PROTOCOL_ARMS.join(', ')}`, o['arms']);
  const gain: ProtocolNumbers['gain'] = {};
  for (const [k, g] of Object.entries(obj(o['gain'], 'gain'))) {
    const a = oneOf(k, `gain key ${JSON.stringify(k)}`, SYNTHETIC_ARMS);
    if (!arms[a]) fail(`gain key ${JSON.stringify(k)}`, `an arm the report has (${Object.keys(arms).join(', ')})`, k);
    const m: Partial<Record<ProtocolMetric, MetricGain>> = {};
    for (const [metric, v] of Object.entries(obj(g, `gain.${k}`))) m[oneOf(metric, `gain.${k} key ${JSON.stringify(metric)}`, PROTOCOL_METRICS)] = metricGain(v, `gain.${k}.${metric}`, classes, arms);
    gain[a] = m;
  }
  const armsRun = o['armsRun'] === undefined ? (Object.keys(arms) as ProtocolArm[]) : strList(o['armsRun'], 'armsRun').map((a, i) => oneOf(a, `armsRun[${i}]`, PROTOCOL_ARMS));
  const devFolds = o['devFolds'] === undefined ? [] : Array.isArray(o['devFolds']) ? o['devFolds'].map((f, i) => strList(f, `devFolds[${i}]`)) : fail('devFolds', 'a list of lists of tile groups', o['devFolds']);
  const scored = classes.filter((c) => Object.values(arms).some((a) => c in a.perClass));
  if (o['complete'] !== true && o['complete'] !== false) fail('complete', 'true or false', o['complete']);
  const finalTestSource = str(o['finalTestSource'], 'finalTestSource');
  const held = o['finalTestHeldFromGenerator'];
  if (held !== undefined && typeof held !== 'boolean') fail('finalTestHeldFromGenerator', 'true or false', held);
  return {
    origin,
    data: o['data'] === undefined || o['data'] === null ? null : str(o['data'], 'data'),
    classes, scored, hyper: hyper(o['hyper']), recipe: recipe(o['recipe']), armsRun,
    split: oneOf(o['split'], 'split', ['dev', 'final'] as const),
    finalTestGroups: strList(o['finalTestGroups'], 'finalTestGroups'),
    finalTestSource,
    finalTestHeldFromGenerator: typeof held === 'boolean' ? held : finalTestSource.startsWith("the generator's held-out tile groups"),
    devFolds, synthetic: synthetic(o['synthetic'], classes), exposureSpread: exposureSpread(o['exposureSpread'], classes), complete: o['complete'] === true, arms, gain,
  };
}

/**
 * JSON text as Python's json.dump writes it: the bare words NaN, Infinity and -Infinity outside strings become
 * null, 1e999 and -1e999 (which JSON.parse reads as ±Infinity) before JSON.parse.
 */
export function readPythonJson(text: string): unknown {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (text.startsWith('NaN', i)) (out += 'null'), (i += 3);
    else if (text.startsWith('-Infinity', i)) (out += '-1e999'), (i += 9);
    else if (text.startsWith('Infinity', i)) (out += '1e999'), (i += 8);
    else (out += ch), i++;
  }
  return JSON.parse(out);
}

/** A protocol report file's text, parsed and checked; a ProtocolError says what was wrong. */
export function parseProtocolText(text: string, origin: ProtocolOrigin): ProtocolNumbers {
  let raw: unknown;
  try {
    raw = readPythonJson(text);
  } catch (e) {
    throw new ProtocolError(`protocol report: not valid JSON (${(e as Error).message}); accepted: ${ACCEPTED}`);
  }
  return parseProtocol(raw, origin);
}
