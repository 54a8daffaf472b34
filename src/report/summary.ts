/**
 * The numbers of a pilot report that come from the records alone (counts, reject reasons, cost) and the go /
 * no-go checks against the thresholds. Pure: html.ts only lays these out.
 */
import type { Backend } from '../core/model/protocol';
import { rejectReasonCounts } from '../state/reviewModel';
import { THRESHOLD_SPECS, type Thresholds } from './thresholds';
import type { ModelInfo, ReportInput, ReportRecord } from './types';

export interface ClassCounts {
  className: string;
  accepted: number;
  rejected: number;
  pending: number;
  /** Rejected per reason, most frequent first ('(no reason)' for a reject without one). */
  reasons: [string, number][];
}

/** Per class (the input's classes with any record, then any other class the records hold). */
export function classCounts(records: readonly ReportRecord[], classes: readonly string[]): ClassCounts[] {
  const present = new Set(records.map((r) => r.className));
  const order = [...classes.filter((c) => present.has(c)), ...[...present].filter((c) => !classes.includes(c)).sort()];
  const reasons = rejectReasonCounts(records);
  return order.map((c) => {
    const of = records.filter((r) => r.className === c);
    return {
      className: c,
      accepted: of.filter((r) => r.status === 'accepted').length,
      rejected: of.filter((r) => r.status === 'rejected').length,
      pending: of.filter((r) => r.status === 'pending').length,
      reasons: [...(reasons.get(c) ?? new Map<string, number>())].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])),
    };
  });
}

export interface BackendCost {
  backend: Backend;
  threads: string;
  images: number;
  meanSeconds: number;
  meanEvaluations: number | null;
}

export interface Cost {
  images: number;
  accepted: number;
  reviewed: number;
  /** accepted / (accepted + rejected); null when nothing was reviewed. */
  acceptanceRate: number | null;
  totalSeconds: number;
  /** All generated images' time over the accepted ones (null: none accepted). */
  secondsPerAccepted: number | null;
  byBackend: BackendCost[];
}

/**
 * Generation time from the provenance timings (totalMs: the whole image, model calls included). Records that
 * were never reviewed (reviewed false: a generate folder) have no acceptance rate.
 */
export function cost(records: readonly ReportRecord[], reviewedSet = true): Cost {
  const accepted = records.filter((r) => r.status === 'accepted').length;
  const reviewed = reviewedSet ? accepted + records.filter((r) => r.status === 'rejected').length : 0;
  const totalMs = records.reduce((s, r) => s + r.provenance.timings.totalMs, 0);
  const groups = new Map<string, ReportRecord[]>();
  for (const r of records) {
    const key = `${r.provenance.backend}\u0000${r.provenance.threads ?? ''}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const byBackend = [...groups.values()].map((g): BackendCost => {
    const p = (g[0] as ReportRecord).provenance;
    const ev = g.flatMap((r) => (r.provenance.modelEvaluations === undefined ? [] : [r.provenance.modelEvaluations]));
    return {
      backend: p.backend,
      threads: p.threads === undefined ? (p.backend === 'webgpu' ? 'GPU' : 'not recorded') : String(p.threads),
      images: g.length,
      meanSeconds: g.reduce((s, r) => s + r.provenance.timings.totalMs, 0) / g.length / 1000,
      meanEvaluations: ev.length ? ev.reduce((a, b) => a + b, 0) / ev.length : null,
    };
  });
  return {
    images: records.length,
    accepted,
    reviewed,
    acceptanceRate: reviewed ? accepted / reviewed : null,
    totalSeconds: totalMs / 1000,
    secondsPerAccepted: accepted ? totalMs / 1000 / accepted : null,
    byBackend,
  };
}

export type CheckStatus = 'pass' | 'fail' | 'unknown';

export interface Check {
  name: string;
  /** The threshold as a sentence ("at least 20"). */
  rule: string;
  /** What was measured, per class where it is per class. */
  measured: string;
  status: CheckStatus;
}

const pct = (v: number) => `${(v * 100).toFixed(0)}%`;
/** A number with a true minus sign (as the tables and plots write it). */
const fix = (v: number, d: number) => (v < 0 ? `−${(-v).toFixed(d)}` : v.toFixed(d));
const f3 = (v: number) => fix(v, 3);
const signed3 = (v: number) => (v >= 0 ? `+${f3(v)}` : f3(v));

/** Worst of per-class statuses: any fail fails, else any unknown is unknown. */
function worst(s: CheckStatus[]): CheckStatus {
  if (s.includes('fail')) return 'fail';
  if (!s.length || s.includes('unknown')) return 'unknown';
  return 'pass';
}

/** Where a class's KID lies between real-vs-real (0) and Free-vs-class (1); null when a point is missing. */
export function kidPosition(row: { kid: { mean: number } | null; realKid: { mean: number } | null; freeKid: { mean: number } | null }): number | null {
  if (!row.kid || !row.realKid || !row.freeKid) return null;
  const span = row.freeKid.mean - row.realKid.mean;
  if (!(span > 0)) return null;
  return (row.kid.mean - row.realKid.mean) / span;
}

/** One row per threshold, in THRESHOLD_SPECS order. */
export function checks(inp: ReportInput): Check[] {
  const t: Thresholds = inp.thresholds;
  const counts = classCounts(inp.records, inp.classes);
  const c = cost(inp.records, inp.reviewed);
  const rule = (k: keyof Thresholds) => `${THRESHOLD_SPECS[k].label} ${t[k]}`;
  const out: Check[] = [];
  const perClass = (name: string, k: keyof Thresholds, vals: { cls: string; v: number | null; show: (v: number) => string; ok: (v: number) => boolean }[], none: string) => {
    const st = vals.map((x) => (x.v === null ? 'unknown' : x.ok(x.v) ? 'pass' : 'fail') as CheckStatus);
    out.push({
      name,
      rule: rule(k),
      measured: vals.length ? vals.map((x, i) => `${x.cls} ${x.v === null ? 'not measured' : x.show(x.v)}${st[i] === 'fail' ? ' ✗' : ''}`).join(', ') : none,
      status: worst(st),
    });
  };
  perClass('Accepted per class', 'minAcceptedPerClass', counts.map((k) => ({ cls: k.className, v: k.accepted, show: String, ok: (v) => v >= t.minAcceptedPerClass })), 'no images');
  out.push({
    name: 'Acceptance rate',
    rule: rule('minAcceptanceRate'),
    measured: c.acceptanceRate === null ? (inp.reviewed ? 'nothing reviewed yet' : 'not reviewed (a generate output folder)') : `${pct(c.acceptanceRate)} (${c.accepted} of ${c.reviewed})`,
    status: c.acceptanceRate === null ? 'unknown' : c.acceptanceRate >= t.minAcceptanceRate ? 'pass' : 'fail',
  });
  const q = inp.quality.available ? inp.quality.value.rows.filter((r) => counts.some((k) => k.className === r.className && k.accepted > 0)) : null;
  const noQ = inp.quality.available ? 'no accepted images' : `not measured: ${inp.quality.why}`;
  const qual = (name: string, k: keyof Thresholds, v: (r: NonNullable<typeof q>[number]) => number | null, show: (v: number) => string, ok: (v: number) => boolean, skip?: (cls: string) => boolean) =>
    q ? perClass(name, k, q.filter((r) => !skip?.(r.className)).map((r) => ({ cls: r.className, v: v(r), show, ok })), noQ) : out.push({ name, rule: rule(k), measured: noQ, status: 'unknown' });
  qual('Label consistency', 'minLabelConsistency', (r) => r.consistency, pct, (v) => v >= t.minLabelConsistency);
  // The Free class has no "other class" reference point of its own (it is the reference).
  qual('KID against its reference points', 'maxKidPosition', kidPosition, (v) => fix(v, 2), (v) => v <= t.maxKidPosition, (cls) => cls === 'Free');
  qual('Diversity', 'minDiversityRatio', (r) => (r.diversity !== null && r.realDiversity ? r.diversity / r.realDiversity : null), (v) => v.toFixed(2), (v) => v >= t.minDiversityRatio);
  if (q) {
    const n = q.reduce((s, r) => s + r.n, 0);
    const m = q.reduce((s, r) => s + r.memorised, 0);
    out.push({ name: 'Possible memorisation', rule: rule('maxMemorisedShare'), measured: n ? `${pct(m / n)} (${m} of ${n})` : noQ, status: n ? (m / n <= t.maxMemorisedShare ? 'pass' : 'fail') : 'unknown' });
  } else out.push({ name: 'Possible memorisation', rule: rule('maxMemorisedShare'), measured: noQ, status: 'unknown' });
  if (inp.downstream.available) {
    const d = inp.downstream.value.result;
    const gain = d.delta.mean - d.delta.std;
    const text = `${signed3(d.delta.mean)} ± ${f3(d.delta.std)} (mean − spread ${signed3(gain)})`;
    out.push({
      name: 'Downstream check',
      rule: rule('minMacroF1Gain'),
      measured: d.warning ? `${text}; inconclusive: ${d.warning}` : text,
      status: d.warning ? 'unknown' : gain >= t.minMacroF1Gain ? 'pass' : 'fail',
    });
  } else out.push({ name: 'Downstream check', rule: rule('minMacroF1Gain'), measured: `not run: ${inp.downstream.why}`, status: 'unknown' });
  out.push({
    name: 'Cost per accepted image',
    rule: rule('maxSecondsPerAccepted'),
    measured: c.secondsPerAccepted === null ? 'no accepted images' : `${c.secondsPerAccepted.toFixed(2)} s`,
    status: c.secondsPerAccepted === null ? 'unknown' : c.secondsPerAccepted <= t.maxSecondsPerAccepted ? 'pass' : 'fail',
  });
  return out;
}

export type Verdict = { kind: 'go' } | { kind: 'no-go'; failed: string[] } | { kind: 'undecided'; missing: string[] };

export function verdict(cs: readonly Check[]): Verdict {
  const failed = cs.filter((c) => c.status === 'fail').map((c) => c.name);
  if (failed.length) return { kind: 'no-go', failed };
  const missing = cs.filter((c) => c.status === 'unknown').map((c) => c.name);
  return missing.length ? { kind: 'undecided', missing } : { kind: 'go' };
}

/**
 * One entry per model the records name (by sha256): id and version from provenance, the citation from the
 * record (an export's) or else from `citationOf` (a manifest that has this sha256).
 */
export function modelsOf(records: readonly ReportRecord[], citationOf: (modelId: string, sha256: string) => string | undefined): ModelInfo[] {
  const out = new Map<string, ModelInfo>();
  for (const r of records) {
    const p = r.provenance;
    if (out.has(p.modelSha256)) continue;
    const citation = r.citation || citationOf(p.modelId, p.modelSha256);
    out.set(p.modelSha256, { id: p.modelId, version: p.modelVersion, sha256: p.modelSha256, citation: citation ?? 'not recorded with the images, and no manifest of this model (this sha256) was found' });
  }
  return [...out.values()];
}
