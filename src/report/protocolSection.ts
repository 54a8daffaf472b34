/**
 * The pilot report's "Downstream protocol" section: the numbers of training/downstream.py (npm run downstream)
 * as protocol.ts parsed them: per arm, per class, the synthetic arms' gains with their 95% intervals, a plot of
 * those, and where the numbers came from (a file given for this report, or the one shipped with the model). Not
 * one of the go / no-go checks: a report without it still decides.
 */
import { signed, table } from './markup';
import type { GainInterval, ProtocolArm, ProtocolMetric, ProtocolNumbers, SyntheticArm } from './protocol';
import { PROTOCOL_METRICS } from './protocol';
import { esc, gainPlot, type GainRow } from './svg';
import type { Availability } from './types';

export const PROTOCOL_COMMAND = 'npm run downstream -- --data <folder> --synthetic <set> --generator <model dir> --out <dir> --final';

export const ARM_LABEL: Readonly<Record<ProtocolArm, string>> = {
  real: 'real only',
  classic: 'real + classic augmentation',
  synthetic: 'real + synthetic',
  'synthetic+classic': 'real + synthetic + classic augmentation',
  flips: 'real + flips (grain kept)',
  'synthetic+flips': 'real + synthetic + flips (grain kept)',
};
const METRIC_LABEL: Readonly<Record<ProtocolMetric, string>> = { macroF1: 'macro-F1', pixelAP: 'pixel AP' };
const SHORT: Readonly<Record<ProtocolMetric, string>> = { macroF1: 'F1', pixelAP: 'AP' };
const COLORS = { overall: '#2563eb', perClass: '#7c3aed' };

export type CiSide = 'above' | 'includes' | 'below';
/** Where a gain's 95% interval lies against zero. */
export const ciSide = (g: GainInterval): CiSide => (g.ci95[0] > 0 ? 'above' : g.ci95[1] < 0 ? 'below' : 'includes');

const f3 = (v: number | null) => (v === null ? '—' : v.toFixed(3));
const gainNum = (v: number) => (Number.isFinite(v) ? signed(v) : v > 0 ? '+∞' : '−∞');
const ci = (g: GainInterval) => `[${gainNum(g.ci95[0])}, ${gainNum(g.ci95[1])}]`;

function what(p: ProtocolNumbers): string {
  const arms = p.armsRun.map((a) => ARM_LABEL[a]).join(', ');
  const split =
    p.split === 'final'
      ? `Split <b>final</b>: the test tiles are ${p.finalTestGroups.length} tile groups left out of every development run, ${esc(p.finalTestSource)}${p.finalTestHeldFromGenerator ? ': tiles the generator never saw' : '; whether the generator saw them is not recorded'}.`
      : `Split <b>dev</b>: ${p.devFolds.length} development folds of tile groups (the final test's ${p.finalTestGroups.length} groups left out).`;
  return `<p>The protocol of <code>training/downstream.py</code> (<code>npm run downstream</code>): a small window classifier and a small segmentation network trained from scratch for every fold and seed, in the arms ${esc(arms)}, and scored on real tiles held out by tile group (macro-F1 over the defect classes, pixel AP, false-positive rate on defect-free windows). ${split} Not one of the go / no-go checks.</p>`;
}

function syntheticText(p: ProtocolNumbers): string {
  const s = p.synthetic;
  if (!s) return 'no synthetic set (baselines only)';
  const n = Object.values(s.images).reduce((a, b) => a + b, 0);
  return `${n} synthetic images (${esc(Object.entries(s.images).map(([c, k]) => `${c} ${k}`).join(', '))}; ${s.onPhotos} on real photos)`;
}

function origin(p: ProtocolNumbers): string {
  const o = p.origin;
  if (o.kind === 'model')
    return `<p class="note warn" data-testid="protocol-origin" data-origin="model">These are the model's numbers, not this dataset's: the protocol report shipped with model <b>${esc(o.modelId)}</b> (${esc(o.file)}), measured with ${syntheticText(p)}, not with the images of this report. For this dataset's own numbers run the protocol on its images (<code>${esc(PROTOCOL_COMMAND)}</code>) and give its report to <code>npm run report -- ... --protocol &lt;out&gt;/final.json</code>.</p>`;
  return `<p class="note" data-testid="protocol-origin" data-origin="file">From ${esc(o.file)}, given for this report. The report does not check that it ran on this dataset's images: it ran with ${syntheticText(p)}.</p>`;
}

function gainSentence(arm: SyntheticArm, metric: ProtocolMetric, p: ProtocolNumbers): string {
  const g = p.gain[arm]?.[metric];
  if (!g) return '';
  const head = `${METRIC_LABEL[metric]}, ${ARM_LABEL[arm]} against ${ARM_LABEL[g.baseline]} (the better baseline)`;
  if (!g.overall) return `<li data-arm="${esc(arm)}" data-metric="${metric}" data-ci="none">${esc(head)}: not measured (no paired run had it).</li>`;
  const side = ciSide(g.overall);
  const why =
    side === 'above' ? 'The interval is above zero: a gain.'
    : side === 'below' ? 'The interval is below zero: a loss.'
    : `The interval includes zero: no gain is shown${Number.isFinite(g.overall.ci95[0]) ? ' at this number of runs' : ' (one run gives no interval)'}.`;
  return `<li data-arm="${esc(arm)}" data-metric="${metric}" data-ci="${side}"><b>${esc(head)}: ${gainNum(g.overall.mean)}, 95% CI ${ci(g.overall)} over ${g.overall.n} runs.</b> ${why}</li>`;
}

const sideCell = (g: GainInterval) => {
  const s = ciSide(g);
  return s === 'above' ? 'yes' : s === 'below' ? 'no (below 0)' : 'no (includes 0)';
};

function gains(p: ProtocolNumbers): string {
  const syn = (Object.keys(p.gain) as SyntheticArm[]).filter((a) => p.gain[a] && Object.keys(p.gain[a] ?? {}).length);
  if (!syn.length) return `<p class="note warn">No gain: the report has no synthetic arm with a baseline to compare (${p.synthetic ? 'no paired runs' : 'run without a synthetic set'}).</p>`;
  const rows: string[][] = [];
  const plots: string[] = [];
  for (const arm of syn) {
    const plotRows: GainRow[] = [];
    for (const metric of PROTOCOL_METRICS) {
      const g = p.gain[arm]?.[metric];
      if (!g) continue;
      const lead = [esc(ARM_LABEL[arm]), METRIC_LABEL[metric], esc(ARM_LABEL[g.baseline])];
      const row = (cls: string, x: GainInterval | null, first = false) => [...lead.map((c) => (first ? c : '')), cls, x ? gainNum(x.mean) : '—', x ? ci(x) : '—', x ? String(x.n) : '—', x ? sideCell(x) : 'not measured'];
      rows.push(row(`<b>all (${METRIC_LABEL[metric]})</b>`, g.overall, true));
      if (g.overall) plotRows.push({ label: `${METRIC_LABEL[metric]} (all)`, mean: g.overall.mean, lo: g.overall.ci95[0], hi: g.overall.ci95[1], series: 0 });
      for (const c of p.scored) {
        const x = g.perClass[c] ?? null;
        rows.push(row(esc(c), x));
        if (x) plotRows.push({ label: `${SHORT[metric]} ${c}`, mean: x.mean, lo: x.ci95[0], hi: x.ci95[1], series: 1 });
      }
    }
    if (plotRows.length)
      plots.push(gainPlot(`protocol-${arm}`, `Gain of ${ARM_LABEL[arm]} over the better baseline, overall and per class, with 95% intervals`, plotRows,
        [{ name: 'overall gain, 95% CI', color: COLORS.overall, shape: 'dot' }, { name: 'per-class gain, 95% CI', color: COLORS.perClass, shape: 'dot' }],
        'gain against the better baseline; bar: 95% t interval over (fold, seed)'));
  }
  const sentences = syn.flatMap((a) => PROTOCOL_METRICS.map((m) => gainSentence(a, m, p))).join('');
  return `<ul class="gains" data-testid="protocol-gains">${sentences}</ul>
${table('Downstream protocol gains', ['synthetic arm', 'metric', 'against', 'class', 'gain', '95% CI', 'runs', 'CI above zero'], rows, [4, 5, 6])}${plots.join('')}`;
}

function settings(p: ProtocolNumbers): string {
  const h = Object.entries(p.hyper).map(([k, v]) => `${k} ${String(v)}`).join(', ');
  const r = p.recipe;
  const recipe = r
    ? `; recipe: synthetic share ${r.share}, ${r.perClass === null ? 'all synthetic images' : `the first ${r.perClass} per class in seed order`}, ${r.gate ? `gate: the ${r.gate.flagged} images ${r.gate.report} flags (of ${r.gate.judged} judged) left out` : 'no gate'}${r.exposure === 'match' ? ', exposures matched to the real spread' : ''}`
    : '';
  const sha = p.synthetic?.sha256 ? ` Synthetic set sha256 ${p.synthetic.sha256}.` : '';
  return `<p class="note">Settings fixed in training/downstream.py: ${esc(h || 'not recorded')}${esc(recipe)}. Real data: ${esc(p.data ?? 'not recorded')}.${esc(sha)} Each arm's numbers are means over its (fold, seed) runs; a gain is the paired difference of the synthetic arm against the baseline (of those run: real only, classic augmentation, flips) with the higher mean on that metric, with a 95% t interval over the (fold, seed) pairs.</p>`;
}

/** Diversity: how widely the exposures of each class vary, real against synthetic (absent in older reports). */
function exposure(p: ProtocolNumbers): string {
  const e = p.exposureSpread;
  if (!e) return '';
  const ratio = (a: number | null, b: number | null) => (a !== null && b !== null && b > 0 ? (a / b).toFixed(2) : '—');
  const rows = p.scored.filter((c) => e[c]).map((c) => {
    const x = e[c] as NonNullable<typeof e[string]>;
    return [esc(c), f3(x.real), f3(x.synthetic), ratio(x.synthetic, x.real), f3(x.used)];
  });
  if (!rows.length) return '';
  return `<h3>Diversity: spread of exposures</h3><p class="note">Per class, the standard deviation of each window's mean brightness (in the networks' [−1, 1] units) over the real training windows (every tile group but the final test's) and over the synthetic windows: a ratio below 1 means the generated exposures vary less than real ones. "As used" is after the recipe's exposure matching (<code>--synthetic-exposure match</code>), else as generated.</p>
${table('Downstream protocol exposure spread', ['class', 'real', 'synthetic', 'synthetic / real', 'synthetic as used'], rows, [1, 2, 3, 4])}`;
}

function section(p: ProtocolNumbers): string {
  const arms = (Object.keys(p.arms) as ProtocolArm[]).filter((a) => p.arms[a]);
  const armRows = arms.map((a) => {
    const x = p.arms[a] as NonNullable<ProtocolNumbers['arms'][ProtocolArm]>;
    return [esc(ARM_LABEL[a]), String(x.runs), f3(x.macroF1), f3(x.pixelAP), f3(x.freeFpr)];
  });
  const classRows = p.scored.map((c) => [esc(c), ...arms.map((a) => {
    const v = p.arms[a]?.perClass[c];
    return v ? `${f3(v.f1)} / ${f3(v.pixelAP)}` : '—';
  })]);
  const dev = p.split === 'dev'
    ? `<p class="note warn" data-testid="protocol-dev">Development folds: the generator may have seen these tiles (only its held-out tile groups are the final test), so a gain here may be inflated. It is not a measurement of the gain: that is the final run (<code>--final</code>).</p>`
    : '';
  const incomplete = p.complete ? '' : '<p class="note warn" data-testid="protocol-incomplete">The run was stopped before it finished (complete: false): these are the numbers of the runs done so far.</p>';
  return `<section id="protocol"><h2>Downstream protocol</h2>${what(p)}${origin(p)}${dev}${incomplete}
${table('Downstream protocol per arm', ['arm', 'runs', 'macro-F1', 'pixel AP', 'defect-free FPR'], armRows, [1, 2, 3, 4])}
<h3>Per class: F1 / pixel AP</h3>${table('Downstream protocol per class', ['class', ...arms.map((a) => esc(ARM_LABEL[a]))], classRows, arms.map((_, i) => i + 1))}
<h3>Gain of the synthetic data</h3>${gains(p)}${exposure(p)}${settings(p)}</section>`;
}

/** The section, or why there is none and the command that makes one. */
export function protocolSection(protocol: Availability<ProtocolNumbers>): string {
  if (protocol.available) return section(protocol.value);
  return `<section id="protocol"><h2>Downstream protocol</h2><p class="note warn" data-testid="protocol-not-run">Not run: ${esc(protocol.why)}. Run it on the real data and the synthetic set: <code>${esc(PROTOCOL_COMMAND)}</code>, then give its report to <code>npm run report -- ... --protocol &lt;out&gt;/final.json</code>. No protocol numbers are reported.</p></section>`;
}
