/**
 * The pilot report as one self-contained HTML page: inline CSS (with a print stylesheet) and inline SVG, no
 * script and no reference to any origin. Every string from the data (class names, reasons, file names, model
 * fields, the citation) is escaped.
 */
import { STYLE } from './style';
import { checks, classCounts, cost, kidPosition, verdict, type Check } from './summary';
import { pct, signed, table } from './markup';
import { protocolSection } from './protocolSection';
import { esc, groupedBars, intervalPlot, num, stackedBars } from './svg';
import { THRESHOLD_KEYS, THRESHOLD_SPECS, DEFAULT_THRESHOLDS } from './thresholds';
import type { DownstreamNumbers, QualityNumbers, ReportInput } from './types';

const C = { accepted: '#2563eb', rejected: '#dc2626', pending: '#9ca3af', real: '#6b7280', other: '#d97706', limit: '#111827', synth: '#7c3aed' };
function decision(cs: Check[]): string {
  const v = verdict(cs);
  const head =
    v.kind === 'go' ? '<p class="verdict go" data-verdict="go">GO: every check passes</p>'
    : v.kind === 'no-go' ? `<p class="verdict nogo" data-verdict="no-go">NO-GO: fails ${esc(v.failed.join(', '))}</p>`
    : `<p class="verdict undecided" data-verdict="undecided">NO DECISION YET: not measured: ${esc(v.missing.join(', '))}</p>`;
  const rows = cs.map((c) => [esc(c.name), esc(c.rule), esc(c.measured), `<span class="st ${c.status}">${c.status === 'pass' ? 'go' : c.status === 'fail' ? 'no-go' : 'not measured'}</span>`]);
  return head + table('Go / no-go checks', ['check', 'threshold', 'measured', 'result'], rows);
}

function thresholdsNote(inp: ReportInput): string {
  const changed = THRESHOLD_KEYS.filter((k) => inp.thresholds[k] !== DEFAULT_THRESHOLDS[k]);
  return `<p class="note">Thresholds: ${esc(inp.thresholdsSource)}${changed.length ? ` (changed from the defaults: ${esc(changed.map((k) => `${k} ${DEFAULT_THRESHOLDS[k]} → ${inp.thresholds[k]}`).join(', '))})` : ''}. Defaults: ${esc(
    THRESHOLD_KEYS.map((k) => `${THRESHOLD_SPECS[k].label} ${DEFAULT_THRESHOLDS[k]}`).join('; '),
  )}. Set them with <code>npm run report -- --thresholds file.json</code> (a JSON object with any of ${esc(THRESHOLD_KEYS.join(', '))}) or in the studio's Dataset tab.</p>`;
}

function datasetSection(inp: ReportInput): string {
  const counts = classCounts(inp.records, inp.classes);
  const plot = stackedBars(
    'counts',
    'Accepted, rejected and pending images per class',
    counts.map((k) => ({ label: k.className, parts: [k.accepted, k.rejected, k.pending] })),
    [{ name: 'accepted', color: C.accepted, shape: 'box' }, { name: 'rejected', color: C.rejected, shape: 'box' }, { name: 'pending', color: C.pending, shape: 'box' }],
    'images (accepted / rejected / pending)',
  );
  const rows = counts.map((k) => [esc(k.className), String(k.accepted), String(k.rejected), String(k.pending)]);
  const reasonRows = counts.flatMap((k) => k.reasons.map(([r, n], j) => [j === 0 ? esc(k.className) : '', esc(r), String(n)]));
  return `<section id="dataset"><h2>Dataset</h2>${inp.reviewed ? '' : '<p class="note warn">Not reviewed: this folder was written by <code>npm run generate</code>, so every image is counted as accepted.</p>'}
${plot}${table('Images per class', ['class', 'accepted', 'rejected', 'pending'], rows, [1, 2, 3])}
<h3>Reject reasons</h3>${reasonRows.length ? table('Reject reasons per class', ['class', 'reason', 'n'], reasonRows, [2]) : '<p class="note">No image was rejected.</p>'}</section>`;
}

function qualitySection(q: QualityNumbers, inp: ReportInput): string {
  // Only the classes this dataset holds (the model may know more).
  const rows = q.rows.filter((r) => inp.records.some((x) => x.className === r.className));
  const kidRows = rows.map((r) => {
    const lim = r.realKid && r.freeKid && r.className !== 'Free' ? r.realKid.mean + inp.thresholds.maxKidPosition * (r.freeKid.mean - r.realKid.mean) : null;
    return { label: r.className, value: r.kid, reference: r.realKid, other: r.className === 'Free' ? null : r.freeKid, limit: lim };
  });
  const kidPlot = intervalPlot('kid', 'KID to real per class with its reference points', kidRows, [
    { name: 'accepted (mean ± std)', color: C.rejected, shape: 'dot' },
    { name: 'real vs real (± std)', color: C.real, shape: 'line' },
    { name: 'Free vs class', color: C.other, shape: 'diamond' },
    { name: 'threshold', color: C.limit, shape: 'dash' },
  ], 'KID on classifier features (lower: closer to real; below 0: indistinguishable)');
  const divPlot = groupedBars('diversity', 'Diversity per class: accepted images against real ones', rows.map((r) => ({ label: r.className, values: [r.diversity, r.realDiversity] })), [
    { name: 'accepted', color: C.synth, shape: 'box' },
    { name: 'real', color: C.real, shape: 'box' },
  ], 'mean pairwise feature distance');
  const fmtK = (k: { mean: number; std: number } | null) => (k ? `${num(k.mean)} ± ${k.std.toFixed(3)}` : '—');
  const t = rows.map((r) => {
    const pos = kidPosition(r);
    return [esc(r.className), String(r.n), r.consistency === null ? '—' : pct(r.consistency), fmtK(r.kid), fmtK(r.realKid), r.className === 'Free' ? '—' : fmtK(r.freeKid), pos === null ? '—' : num(pos, 2),
      r.diversity === null ? '—' : r.diversity.toFixed(2), r.realDiversity === null ? '—' : r.realDiversity.toFixed(2), String(r.memorised)];
  });
  const neg = rows.some((r) => r.kid && r.kid.mean < 0);
  return `<section id="quality"><h2>Quality against the reference points</h2>
${table('Quality per class', ['class', 'n', 'label consist.', 'KID accepted', 'KID real vs real', 'KID Free vs class', 'KID position', 'diversity', 'real diversity', 'possible memorisation'], t, [1, 2, 3, 4, 5, 6, 7, 8, 9])}
${kidPlot}<p class="note">KID position: where the accepted images' KID lies between real vs real (0: as close as two samples of real images) and Free vs class (1: as far as defect-free tiles are from this class); the dashed tick is the threshold. KID is the unbiased estimator${neg ? ', and some classes are below 0 here: that means the accepted images cannot be told from real ones at this sample size, not that they are better than real' : ': it can come out below 0, which means indistinguishable at this sample size'}.</p>
${divPlot}<p class="note">${esc(q.method)} Classifier: ${esc(q.classifierId)} (its features, not Inception: not comparable with published FID/KID).</p></section>`;
}

function downstreamSection(d: DownstreamNumbers): string {
  const r = d.result;
  const rows = d.classes.map((c, k) => {
    const p = r.perClass[k];
    return [esc(c), String(d.trainPerClass[k] ?? 0), String(d.testPerClass[k] ?? 0), p?.f1RealOnly?.toFixed(3) ?? '—', p?.f1WithSynth?.toFixed(3) ?? '—', p?.delta === null || p?.delta === undefined ? '—' : signed(p.delta)];
  });
  rows.push(['<b>macro-F1</b>', String(r.nTrain), String(r.nTest), `${r.macroF1RealOnly.mean.toFixed(3)} ± ${r.macroF1RealOnly.std.toFixed(3)}`, `${r.macroF1WithSynth.mean.toFixed(3)} ± ${r.macroF1WithSynth.std.toFixed(3)}`, `<b>${signed(r.delta.mean)} ± ${r.delta.std.toFixed(3)}</b>`]);
  const plot = groupedBars(
    'downstream',
    'F1 on held-out real images per class: real only against real + synthetic',
    [...d.classes.map((c, k) => ({ label: c, values: [r.perClass[k]?.f1RealOnly ?? null, r.perClass[k]?.f1WithSynth ?? null] })),
      { label: 'macro-F1', values: [r.macroF1RealOnly.mean, r.macroF1WithSynth.mean], spread: [r.macroF1RealOnly.std, r.macroF1WithSynth.std] }],
    [{ name: 'real only', color: C.real, shape: 'box' }, { name: 'real + synthetic', color: C.accepted, shape: 'box' }],
    'F1 on the held-out real images (macro-F1: ± spread over the bootstrap runs)',
    [0, 1],
  );
  const list = (xs: string[]) => (xs.length ? `<ul class="files">${xs.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : '<p class="note">none</p>');
  return `<section id="downstream"><h2>Downstream check</h2>
<p>A small classifier (softmax regression on the evaluation classifier's features) trained on real images only and on the same real images plus ${r.nSynthetic} accepted synthetic ones, scored on held-out real images; ${r.seeds.length} bootstrap runs.</p>
${r.warning ? `<p class="note warn" role="note">Warning: ${esc(r.warning)}</p>` : ''}
${table('Downstream check per class', ['class', 'real train', 'held out', 'F1 real only', 'F1 real + synthetic', 'change'], rows, [1, 2, 3, 4, 5])}${plot}
<p class="note">± is the spread of the paired difference over the bootstrap runs of the training set; it is not the sampling uncertainty of the ${r.nTest} held-out images, which is larger when a class has few of them. ${esc(d.realSource)}</p>
<h3>Held out (never trained on by this check): split by ${esc(d.split)}</h3>
<p>${d.heldOutGroups.length} ${d.split === 'tile_group' ? 'tile groups' : 'files'}:</p>${list(d.heldOutGroups)}
<p>${d.heldOutImages.length} real images:</p>${list(d.heldOutImages)}</section>`;
}

function costSection(inp: ReportInput): string {
  const c = cost(inp.records, inp.reviewed);
  const rows = c.byBackend.map((b) => [esc(b.backend), esc(b.threads), String(b.images), b.meanSeconds.toFixed(2), b.meanEvaluations === null ? 'not recorded' : b.meanEvaluations.toFixed(0)]);
  return `<section id="cost"><h2>Cost per accepted image</h2>
<p data-testid="cost">${c.images} images generated in ${c.totalSeconds.toFixed(1)} s; ${c.accepted} accepted${c.acceptanceRate === null ? (inp.reviewed ? '' : ' (not reviewed: every image counts)') : ` of ${c.reviewed} reviewed (acceptance rate ${pct(c.acceptanceRate)})`}: <b>${c.secondsPerAccepted === null ? 'no accepted image' : `${c.secondsPerAccepted.toFixed(2)} s of generation per accepted image`}</b>.</p>
${table('Generation time by backend', ['backend', 'threads', 'images', 'mean s / image', 'network evaluations / image'], rows, [2, 3, 4])}
<p class="note">From each image's provenance timings (totalMs: the whole image, model calls included); review time is not counted.</p></section>`;
}

function modelSection(inp: ReportInput): string {
  const rows = inp.models.map((m) => [`<b>${esc(m.id)}</b>`, esc(m.version), `<code class="sha">${esc(m.sha256)}</code>`, String(inp.records.filter((r) => r.provenance.modelSha256 === m.sha256).length), esc(m.citation)]);
  return `<section id="model"><h2>Model</h2>${table('Models', ['id', 'version', 'sha256 of model.onnx', 'images', 'training data (cite this)'], rows, [3])}</section>`;
}

/** The whole report page. */
export function renderReport(inp: ReportInput): string {
  const cs = checks(inp);
  const q = inp.quality.available ? qualitySection(inp.quality.value, inp) : `<section id="quality"><h2>Quality against the reference points</h2><p class="note warn">Not measured: ${esc(inp.quality.why)}</p></section>`;
  const d = inp.downstream.available ? downstreamSection(inp.downstream.value) : `<section id="downstream"><h2>Downstream check</h2><p class="note warn" data-testid="downstream-not-run">Not run: ${esc(inp.downstream.why)}. No downstream numbers are reported.</p></section>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Pilot report: synthetic defect images</title><style>${STYLE}</style></head>
<body><header><h1>Pilot report: synthetic defect images</h1>
<p class="meta">Made ${esc(inp.generatedAt)} from ${esc(inp.source)} by Defect Diffusion Studio. ${inp.records.length} images.</p></header>
<section id="decision"><h2>Go / no-go</h2>${decision(cs)}${thresholdsNote(inp)}</section>
${datasetSection(inp)}${q}${d}${protocolSection(inp.protocol)}${costSection(inp)}${modelSection(inp)}
</body></html>
`;
}
