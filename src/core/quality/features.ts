/**
 * Classifier feature rows and the reference-features file (public/models/<classifier>/reference_features.json,
 * written by training/train_classifier.py): its parser, and the per-class memorisation threshold it calibrates.
 * Float64 inside; inputs are float32 feature rows.
 */
import { StudioError } from '../errors';

export type Features = readonly Float32Array[] | readonly Float64Array[];
export type Row = Float32Array | Float64Array;

export function dim(x: Features, name: string): number {
  const d = x[0]?.length ?? 0;
  for (const r of x) if (r.length !== d) throw new StudioError('badRequest', `${name}: feature rows have different lengths (${d} and ${r.length})`);
  return d;
}

export function dot(a: Row, b: Row): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

export function dist(a: Row, b: Row): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const t = (a[i] as number) - (b[i] as number);
    s += t * t;
  }
  return Math.sqrt(s);
}

// reference_features.json

export interface NnStats {
  count: number;
  min: number;
  p1: number;
  p5: number;
  p50: number;
}
export interface ReferenceClass {
  count: number;
  tileGroups: number;
  features: Float32Array[];
}
export interface ReferenceFeatures {
  classifierId: string;
  classifierSha256: string;
  featureDim: number;
  classes: Record<string, ReferenceClass>;
  nearestNeighbour: Record<string, { valToTrain: NnStats | null; trainLeaveGroupOut: NnStats | null }>;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 (with or without '=' padding) -> bytes. */
export function base64ToBytes(s: string): Uint8Array {
  const clean = s.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < clean.length; i++) {
    const v = B64.indexOf(clean[i] as string);
    if (v < 0) throw new StudioError('badRequest', `invalid base64 character "${clean[i]}" at ${i}`);
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

function refFail(field: string, problem: string): never {
  throw new StudioError('modelInvalid', `reference_features.json: "${field}" ${problem}`);
}
function nnStats(v: unknown, field: string): NnStats | null {
  if (v === null || v === undefined) return null;
  const o = v as Record<string, unknown>;
  for (const k of ['count', 'min', 'p1', 'p5', 'p50']) if (typeof o[k] !== 'number') refFail(`${field}.${k}`, 'must be a number');
  return { count: o['count'] as number, min: o['min'] as number, p1: o['p1'] as number, p5: o['p5'] as number, p50: o['p50'] as number };
}

/** Validates and decodes reference_features.json (features: base64 little-endian float32, count x featureDim). */
export function parseReferenceFeatures(json: unknown): ReferenceFeatures {
  if (typeof json !== 'object' || json === null) refFail('(root)', 'must be an object');
  const j = json as Record<string, unknown>;
  if (j['format'] !== 'defect-diffusion-reference-features') refFail('format', `is ${JSON.stringify(j['format'])}; accepted: "defect-diffusion-reference-features"`);
  if (j['dtype'] !== 'float32' || j['byteOrder'] !== 'little') refFail('dtype/byteOrder', 'accepted: float32, little');
  const d = j['featureDim'];
  if (typeof d !== 'number' || !Number.isInteger(d) || d < 1) refFail('featureDim', 'must be a positive integer');
  const classesIn = j['classes'];
  if (typeof classesIn !== 'object' || classesIn === null) refFail('classes', 'must be an object');
  const classes: Record<string, ReferenceClass> = {};
  for (const [name, cv] of Object.entries(classesIn as Record<string, unknown>)) {
    const c = cv as Record<string, unknown>;
    const count = c['count'];
    if (typeof count !== 'number' || typeof c['features'] !== 'string') refFail(`classes.${name}`, 'needs count (number) and features (base64 string)');
    const bytes = base64ToBytes(c['features'] as string);
    if (bytes.length !== count * d * 4) refFail(`classes.${name}.features`, `holds ${bytes.length} bytes; count x featureDim x 4 = ${count * d * 4}`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const rows: Float32Array[] = [];
    for (let i = 0; i < count; i++) {
      const r = new Float32Array(d);
      for (let k = 0; k < d; k++) r[k] = view.getFloat32((i * d + k) * 4, true);
      rows.push(r);
    }
    classes[name] = { count, tileGroups: typeof c['tileGroups'] === 'number' ? c['tileGroups'] : 0, features: rows };
  }
  const nn: ReferenceFeatures['nearestNeighbour'] = {};
  const per = ((j['nearestNeighbour'] as Record<string, unknown> | undefined)?.['perClass'] ?? {}) as Record<string, Record<string, unknown>>;
  for (const [name, v] of Object.entries(per)) {
    nn[name] = { valToTrain: nnStats(v['valToTrain'], `nearestNeighbour.perClass.${name}.valToTrain`), trainLeaveGroupOut: nnStats(v['trainLeaveGroupOut'], `nearestNeighbour.perClass.${name}.trainLeaveGroupOut`) };
  }
  return {
    classifierId: String(j['classifierId'] ?? ''),
    classifierSha256: String(j['classifierSha256'] ?? ''),
    featureDim: d,
    classes,
    nearestNeighbour: nn,
  };
}

export interface MemorisationThreshold {
  threshold: number;
  basis: string;
}

/**
 * Per-class memorisation threshold on the nearest-reference L2 feature distance of a synthetic sample.
 *
 * The reference file ships, per class, the nearest-neighbour distances between REAL windows that cannot be
 * copies of each other: trainLeaveGroupOut (each reference window to its nearest reference window from another
 * physical tile) and valToTrain (held-out-tile windows to their nearest reference window). The threshold is the
 * smaller of their 1st percentiles (p1). Rationale: independent real windows come closer than p1 to a reference
 * window only ~1% of the time, so a synthetic window that does is closer to a training window than genuinely new
 * data gets -- a memorisation suspect. p1 rather than min: one near-duplicate pair in the reference (same tile
 * labelled twice) should not set the bar; p1 rather than p5/p50: the check must flag copies, not merely good
 * samples (a sample at the p50 distance is a typical new real-looking window). The smaller of the two: fewer
 * false alarms. A class without either statistic gets no threshold (NaN: nothing is flagged).
 */
export function memorisationThreshold(ref: ReferenceFeatures): Record<string, MemorisationThreshold> {
  const out: Record<string, MemorisationThreshold> = {};
  for (const [name, s] of Object.entries(ref.nearestNeighbour)) {
    const cands: [number, string][] = [];
    if (s.trainLeaveGroupOut) cands.push([s.trainLeaveGroupOut.p1, 'trainLeaveGroupOut.p1']);
    if (s.valToTrain) cands.push([s.valToTrain.p1, 'valToTrain.p1']);
    if (!cands.length) {
      out[name] = { threshold: NaN, basis: 'no real-vs-real statistics for this class' };
      continue;
    }
    cands.sort((a, b) => a[0] - b[0]);
    const [t, basis] = cands[0] as [number, string];
    out[name] = { threshold: t, basis: `min(${cands.map((c) => c[1]).join(', ')}) = ${basis}` };
  }
  return out;
}
