/**
 * The schema of a stored dataset item (DatasetItem with its Provenance and quality flags): every field, its type
 * and range. Used on every metadata.jsonl line of an imported zip (before anything is written) and on every
 * record read back from IndexedDB at start-up (a damaged one is listed as damaged instead of blanking the page).
 * parseDatasetItem returns a fresh object holding only the schema's fields; a problem throws RecordError naming
 * the field (dotted path) and what was expected.
 */
import { MAX_SEED, MAX_STEPS } from '../core/diffusion/generate';
import { checkGuidanceInterval } from '../core/diffusion/guidance';
import type { ImageQuality, QualityFlag } from '../core/quality/imageQuality';
import { MAX_PHOTO_PIXELS } from '../core/model/limits';
import type { Backend, BasePhotoInfo, PhotoWindow, Provenance } from '../core/model/protocol';
import { SAMPLER_NAMES, type SamplerName } from '../core/diffusion/samplers';
import { TIMESTEP_SPACINGS, type TimestepSpacing } from '../core/diffusion/schedule';
import { nameProblem } from '../core/model/names';
import { parseTiling } from '../core/diffusion/tiled';
import { REVIEW_STATUSES, type DatasetItem, type ReviewStatus } from './types';

export class RecordError extends Error {
  constructor(
    public readonly field: string,
    public readonly problem: string,
  ) {
    super(`field ${field}: ${problem}`);
    this.name = 'RecordError';
  }
}

type Obj = Record<string, unknown>;

const show = (v: unknown): string => {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

export { nameProblem };

class Reader {
  readonly strict: boolean;
  constructor(
    private readonly o: Obj,
    private readonly prefix: string,
    allowed: readonly string[] | null,
  ) {
    this.strict = allowed !== null;
    if (allowed) for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new RecordError(this.at(k), 'is not a field of a dataset item (unknown fields are not imported)');
  }
  at(k: string): string {
    return this.prefix ? `${this.prefix}.${k}` : k;
  }
  has(k: string): boolean {
    return this.o[k] !== undefined;
  }
  private get(k: string, expected: string): unknown {
    const v = this.o[k];
    if (v === undefined) throw new RecordError(this.at(k), `missing; expected ${expected}`);
    return v;
  }
  /** A field checked by a parser of its own (a StudioError from it becomes this field's RecordError). */
  parsed<T>(k: string, parse: (v: unknown) => T): T {
    const v = this.get(k, 'a value');
    try {
      return parse(v);
    } catch (e) {
      throw new RecordError(this.at(k), (e as Error).message);
    }
  }
  bad(k: string, expected: string): never {
    throw new RecordError(this.at(k), `expected ${expected}, got ${show(this.o[k])}`);
  }
  str(k: string, max = 10_000): string {
    const v = this.get(k, 'a string');
    if (typeof v !== 'string') this.bad(k, 'a string');
    if (v.length > max) throw new RecordError(this.at(k), `must be at most ${max} characters, got ${v.length}`);
    return v;
  }
  name(k: string): string {
    const v = this.str(k);
    const why = nameProblem(v);
    if (why) throw new RecordError(this.at(k), why);
    return v;
  }
  hex64(k: string): string {
    const v = this.get(k, 'a sha256 (64 hex digits)');
    if (typeof v !== 'string' || !/^[0-9a-f]{64}$/.test(v)) this.bad(k, 'a sha256 (64 lowercase hex digits)');
    return v;
  }
  date(k: string): string {
    const expected = 'an ISO 8601 date such as 2026-01-01T00:00:00.000Z';
    const v = this.get(k, expected);
    if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(v) || !Number.isFinite(Date.parse(v))) this.bad(k, expected);
    return v;
  }
  int(k: string, min: number, max: number): number {
    const expected = `an integer from ${min} to ${max}`;
    const v = this.get(k, expected);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.bad(k, expected);
    return v;
  }
  num(k: string, min: number, max: number): number {
    const expected = `a number from ${min} to ${max}`;
    const v = this.get(k, expected);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) this.bad(k, expected);
    return v;
  }
  /** A number that JSON writes as null when it was NaN or infinite (an uncalibrated threshold); read back as NaN. */
  numOrNaN(k: string): number {
    const v = this.get(k, 'a number or null');
    if (v === null) return NaN;
    if (typeof v !== 'number') this.bad(k, 'a number or null');
    return v;
  }
  bool(k: string): boolean {
    const v = this.get(k, 'true or false');
    if (typeof v !== 'boolean') this.bad(k, 'true or false');
    return v;
  }
  oneOf<T extends string>(k: string, list: readonly T[]): T {
    const expected = `one of ${list.join(', ')}`;
    const v = this.get(k, expected);
    if (typeof v !== 'string' || !(list as readonly string[]).includes(v)) this.bad(k, expected);
    return v as T;
  }
  obj(k: string, allowed: readonly string[]): Reader {
    const v = this.get(k, 'an object');
    if (!isObj(v)) this.bad(k, 'an object');
    return new Reader(v, this.at(k), this.strict ? allowed : null);
  }
  arr(k: string, max: number): unknown[] {
    const v = this.get(k, 'a list');
    if (!Array.isArray(v)) this.bad(k, 'a list');
    if (v.length > max) throw new RecordError(this.at(k), `must have at most ${max} entries, got ${v.length}`);
    return v;
  }
  raw(k: string): unknown {
    return this.o[k];
  }
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const ITEM_FIELDS = ['id', 'createdAt', 'status', 'decidedAt', 'className', 'width', 'height', 'provenance', 'citation', 'quality', 'rejectReason'] as const;
const PROVENANCE_FIELDS = [
  'className', 'prompt', 'seed', 'sampler', 'steps', 'guidance', 'guidanceInterval', 'eta', 'timestepSpacing', 'clipSample',
  'modelId', 'modelVersion', 'modelSha256', 'classIndex', 'maskSource', 'maskSha256', 'inpainting', 'backend', 'timings',
  'basePhoto', 'windows', 'tiling', 'maskOrigin', 'threads', 'modelEvaluations',
] as const;
const QUALITY_FIELDS = [
  'classifierId', 'predictedClass', 'confidence', 'requestedProbability', 'consistent', 'nearestRefDistance',
  'memorisationThreshold', 'outlierScore', 'outlierThreshold', 'flags', 'features',
] as const;
const BACKENDS: readonly Backend[] = ['webgpu', 'wasm', 'native'];
const QUALITY_FLAGS: readonly QualityFlag[] = ['inconsistent', 'memorised', 'outlier'];
const MAX_SIDE = 65_535;

function parseProvenance(p: Reader): Provenance {
  const out: Provenance = {
    className: p.name('className'),
    prompt: p.str('prompt', 2000),
    seed: p.int('seed', 0, MAX_SEED),
    sampler: p.oneOf<SamplerName>('sampler', SAMPLER_NAMES),
    steps: p.int('steps', 1, MAX_STEPS),
    guidance: p.num('guidance', 0, 30),
    eta: p.num('eta', 0, 1),
    timestepSpacing: p.oneOf<TimestepSpacing>('timestepSpacing', TIMESTEP_SPACINGS),
    clipSample: p.bool('clipSample'),
    modelId: p.name('modelId'),
    modelVersion: p.str('modelVersion', 200),
    modelSha256: p.hex64('modelSha256'),
    classIndex: p.int('classIndex', 0, 1_000_000),
    maskSource: p.oneOf('maskSource', ['given', 'library', 'none'] as const),
    maskSha256: p.hex64('maskSha256'),
    inpainting: p.bool('inpainting'),
    backend: p.oneOf('backend', BACKENDS),
    timings: (() => {
      const t = p.obj('timings', ['totalMs', 'modelMs', 'steps']);
      return { totalMs: t.num('totalMs', 0, 1e12), modelMs: t.num('modelMs', 0, 1e12), steps: t.int('steps', 0, 1e9) };
    })(),
  };
  if (p.has('guidanceInterval')) {
    const why = checkGuidanceInterval(p.raw('guidanceInterval'));
    if (why) throw new RecordError(p.at('guidanceInterval'), why);
    const [lo, hi] = p.raw('guidanceInterval') as [number, number];
    out.guidanceInterval = [lo, hi];
  }
  if (p.has('basePhoto')) {
    const b = p.obj('basePhoto', ['name', 'sha256', 'width', 'height']);
    const photo: BasePhotoInfo = { name: b.name('name'), sha256: b.hex64('sha256'), width: b.int('width', 1, MAX_SIDE), height: b.int('height', 1, MAX_SIDE) };
    if (photo.width * photo.height > MAX_PHOTO_PIXELS) throw new RecordError(p.at('basePhoto'), `is ${photo.width} x ${photo.height}, above the photo limit of ${MAX_PHOTO_PIXELS} pixels`);
    out.basePhoto = photo;
  }
  if (p.has('windows')) {
    out.windows = p.arr('windows', 10_000).map((w, i): PhotoWindow => {
      const key = `windows[${i}]`;
      if (!isObj(w)) throw new RecordError(p.at(key), `expected an object, got ${show(w)}`);
      const r = new Reader(w, p.at(key), p.strict ? ['x', 'y', 'size', 'hole'] : null);
      const size = r.int('size', 1, MAX_SIDE);
      const h = r.obj('hole', ['x0', 'y0', 'x1', 'y1']);
      const hole = { x0: h.int('x0', 0, size), y0: h.int('y0', 0, size), x1: h.int('x1', 0, size), y1: h.int('y1', 0, size) };
      if (hole.x1 < hole.x0 || hole.y1 < hole.y0) throw new RecordError(r.at('hole'), `must have x0 <= x1 and y0 <= y1, got ${show(hole)}`);
      return { x: r.int('x', 0, MAX_SIDE), y: r.int('y', 0, MAX_SIDE), size, hole };
    });
  }
  if (p.has('maskOrigin')) out.maskOrigin = p.oneOf('maskOrigin', ['painted', 'library', 'prompt'] as const);
  if (p.has('threads')) out.threads = p.int('threads', 1, 1024);
  if (p.has('modelEvaluations')) out.modelEvaluations = p.int('modelEvaluations', 1, Number.MAX_SAFE_INTEGER);
  if (p.has('tiling')) out.tiling = p.parsed('tiling', parseTiling);
  return out;
}

function parseQuality(q: Reader): ImageQuality {
  const flags = q.arr('flags', QUALITY_FLAGS.length).map((f, i) => {
    if (typeof f !== 'string' || !(QUALITY_FLAGS as readonly string[]).includes(f)) throw new RecordError(q.at(`flags[${i}]`), `expected one of ${QUALITY_FLAGS.join(', ')}, got ${show(f)}`);
    return f as QualityFlag;
  });
  const features = q.arr('features', 65_536).map((f, i) => {
    if (typeof f !== 'number' || !Number.isFinite(f)) throw new RecordError(q.at(`features[${i}]`), `expected a finite number, got ${show(f)}`);
    return f;
  });
  return {
    classifierId: q.name('classifierId'),
    predictedClass: q.str('predictedClass', 200),
    confidence: q.num('confidence', 0, 1),
    requestedProbability: q.num('requestedProbability', 0, 1),
    consistent: q.bool('consistent'),
    nearestRefDistance: q.numOrNaN('nearestRefDistance'),
    memorisationThreshold: q.numOrNaN('memorisationThreshold'),
    outlierScore: q.numOrNaN('outlierScore'),
    outlierThreshold: q.numOrNaN('outlierThreshold'),
    flags,
    features,
  };
}

/**
 * A provenance record on its own (a scripts/generate.ts metadata line: the provenance's fields beside file and
 * mask). Unknown fields pass when allowUnknown.
 */
export function parseProvenanceRecord(raw: unknown, opts: ParseOptions = {}): Provenance {
  if (!isObj(raw)) throw new RecordError('(record)', `expected a JSON object, got ${show(raw)}`);
  return parseProvenance(new Reader(raw, '', opts.allowUnknown ? null : [...PROVENANCE_FIELDS, ...(opts.extra ?? [])]));
}

export interface ParseOptions {
  /** Fields the caller reads itself (metadata.jsonl's file and mask): allowed, left out of the result. */
  extra?: readonly string[];
  /**
   * Let fields outside the schema pass (records already stored by this or a newer studio, which the UI does not
   * read). Imports refuse them, naming the field, since they would be dropped.
   */
  allowUnknown?: boolean;
}

/** Checks one record against the schema and returns a fresh object holding the schema's fields. */
export function parseDatasetItem(raw: unknown, opts: ParseOptions = {}): DatasetItem {
  if (!isObj(raw)) throw new RecordError('(record)', `expected a JSON object, got ${show(raw)}`);
  const r = new Reader(raw, '', opts.allowUnknown ? null : [...ITEM_FIELDS, ...(opts.extra ?? [])]);
  const item: DatasetItem = {
    id: r.name('id'),
    createdAt: r.date('createdAt'),
    status: r.oneOf<ReviewStatus>('status', REVIEW_STATUSES),
    decidedAt: r.raw('decidedAt') === null ? null : r.date('decidedAt'),
    className: r.name('className'),
    width: r.int('width', 1, MAX_SIDE),
    height: r.int('height', 1, MAX_SIDE),
    provenance: parseProvenance(r.obj('provenance', PROVENANCE_FIELDS)),
    citation: r.str('citation'),
  };
  if (item.width * item.height > MAX_PHOTO_PIXELS) throw new RecordError('width', `${item.width} x ${item.height} is above the photo limit of ${MAX_PHOTO_PIXELS} pixels`);
  if (item.provenance.className !== item.className)
    throw new RecordError('provenance.className', `must equal the item's className ${show(item.className)}, got ${show(item.provenance.className)}`);
  if (r.has('quality')) item.quality = parseQuality(r.obj('quality', QUALITY_FIELDS));
  if (r.has('rejectReason')) item.rejectReason = r.str('rejectReason', 500);
  return item;
}
