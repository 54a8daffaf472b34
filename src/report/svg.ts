/**
 * Inline SVG plots for the pilot report, as strings: one row per class on a shared x axis with ticks, an axis
 * label and a legend. Every piece of text goes through esc(); no script, no external reference.
 */

/** HTML/XML escape for text and attribute values. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** About n round tick values from lo to hi. */
export function ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step / 1e6 ? 0 : v);
  return out;
}

export const num = (v: number, d = 3) => (v < 0 ? `−${(-v).toFixed(d)}` : v.toFixed(d));

export interface Series {
  name: string;
  color: string;
  /** How it is drawn in the legend: a box (bar), a dot, a line (reference), a band. */
  shape: 'box' | 'dot' | 'line' | 'band' | 'diamond' | 'dash';
}

const LABEL_W = 96;
const PLOT_W = 520;
const ROW_H = 24;
const LEGEND_ROW = 18;
const W = LABEL_W + PLOT_W + 40;

/** The legend's entries left to right, wrapping onto another row at the plot's width. */
function legend(series: readonly Series[]): { svg: string; height: number } {
  let x = LABEL_W;
  let row = 0;
  const svg = series
    .map((s) => {
      const wide = 28 + s.name.length * 6.2;
      if (x > LABEL_W && x + wide > W) {
        x = LABEL_W;
        row++;
      }
      const k = x;
      x += wide;
      const y = 11 + row * LEGEND_ROW;
      const mark =
        s.shape === 'box' ? `<rect x="${k}" y="${y - 6}" width="12" height="12" fill="${s.color}"/>`
        : s.shape === 'dot' ? `<circle cx="${k + 6}" cy="${y}" r="4" fill="${s.color}"/>`
        : s.shape === 'band' ? `<rect x="${k}" y="${y - 6}" width="12" height="12" fill="${s.color}" opacity="0.5"/>`
        : s.shape === 'diamond' ? `<path d="M${k + 6} ${y - 5}l5 5-5 5-5-5z" fill="${s.color}"/>`
        : s.shape === 'dash' ? `<line x1="${k + 6}" x2="${k + 6}" y1="${y - 7}" y2="${y + 7}" stroke="${s.color}" stroke-width="2" stroke-dasharray="3 2"/>`
        : `<line x1="${k + 6}" x2="${k + 6}" y1="${y - 7}" y2="${y + 7}" stroke="${s.color}" stroke-width="2.5"/>`;
      return `${mark}<text x="${k + 17}" y="${y + 4}" font-size="11">${esc(s.name)}</text>`;
    })
    .join('');
  return { svg, height: (row + 1) * LEGEND_ROW + 4 };
}

interface Frame {
  x: (v: number) => number;
  rowY: (i: number) => number;
  open: string;
  close: string;
}

/** The frame every plot shares: legend on top, class labels left, gridlines, x axis with ticks and a label. */
function frame(id: string, title: string, labels: readonly string[], lo: number, hi: number, axisLabel: string, series: readonly Series[], tickFmt: (v: number) => string): Frame {
  const leg = legend(series);
  const top = leg.height + 6;
  const plotH = labels.length * ROW_H;
  const h = top + plotH + 40;
  const x = (v: number) => LABEL_W + ((v - lo) / (hi - lo)) * PLOT_W;
  const grid = ticks(lo, hi)
    .map((t) => `<line x1="${x(t)}" x2="${x(t)}" y1="${top}" y2="${top + plotH}" stroke="${t === 0 ? '#374151' : '#e5e7eb'}"/><text x="${x(t)}" y="${top + plotH + 14}" font-size="10" text-anchor="middle">${esc(tickFmt(t))}</text>`)
    .join('');
  const rows = labels.map((l, i) => `<text x="${LABEL_W - 6}" y="${top + i * ROW_H + ROW_H / 2 + 4}" font-size="11" text-anchor="end">${esc(l)}</text>`).join('');
  const open =
    `<svg class="plot" data-plot="${esc(id)}" role="img" aria-label="${esc(title)}" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}">` +
    `<title>${esc(title)}</title>${leg.svg}${grid}` +
    `<line x1="${LABEL_W}" x2="${LABEL_W + PLOT_W}" y1="${top + plotH}" y2="${top + plotH}" stroke="#374151"/>` +
    `<text x="${LABEL_W + PLOT_W / 2}" y="${h - 6}" font-size="11" text-anchor="middle" fill="#374151">${esc(axisLabel)}</text>${rows}`;
  return { x, rowY: (i) => top + i * ROW_H + ROW_H / 2, open, close: '</svg>' };
}

/** Stacked horizontal bars (counts per class), the number of each part written at the bar's end. */
export function stackedBars(id: string, title: string, rows: readonly { label: string; parts: number[] }[], series: readonly Series[], axisLabel: string): string {
  const max = Math.max(1, ...rows.map((r) => r.parts.reduce((a, b) => a + b, 0)));
  const f = frame(id, title, rows.map((r) => r.label), 0, max * 1.08, axisLabel, series, (v) => String(Math.round(v * 100) / 100));
  const body = rows
    .map((r, i) => {
      let at = 0;
      const y = f.rowY(i);
      const bars = r.parts
        .map((v, k) => {
          const s = `<rect x="${f.x(at)}" y="${y - 7}" width="${Math.max(0, f.x(at + v) - f.x(at))}" height="14" fill="${series[k]?.color ?? '#999'}"/>`;
          at += v;
          return s;
        })
        .join('');
      return `${bars}<text x="${f.x(at) + 4}" y="${y + 4}" font-size="10">${esc(r.parts.join(' / '))}</text>`;
    })
    .join('');
  return f.open + body + f.close;
}

export interface Interval {
  mean: number;
  std: number;
}

/**
 * KID per class: the accepted images as a dot with ± std whiskers, the real-vs-real reference as a grey band
 * (± std) with a line at its mean, the Free-vs-class reference as a diamond, the threshold as a dashed tick.
 */
export function intervalPlot(
  id: string,
  title: string,
  rows: readonly { label: string; value: Interval | null; reference: Interval | null; other: Interval | null; limit: number | null }[],
  series: readonly [Series, Series, Series, Series],
  axisLabel: string,
): string {
  const vals = rows.flatMap((r) => [r.value, r.reference, r.other].flatMap((v) => (v ? [v.mean - v.std, v.mean + v.std] : [])).concat(r.limit === null ? [] : [r.limit]));
  const lo = Math.min(0, ...vals);
  const hi = Math.max(lo + 1e-3, ...vals) * 1.05;
  const f = frame(id, title, rows.map((r) => r.label), lo, hi, axisLabel, series, (v) => num(v, 2));
  const [val, ref, other, limit] = series;
  const body = rows
    .map((r, i) => {
      const y = f.rowY(i);
      let s = '';
      if (r.reference) {
        const a = f.x(r.reference.mean - r.reference.std);
        s += `<rect x="${a}" y="${y - 8}" width="${Math.max(1, f.x(r.reference.mean + r.reference.std) - a)}" height="16" fill="${ref.color}" opacity="0.5"/>`;
        s += `<line x1="${f.x(r.reference.mean)}" x2="${f.x(r.reference.mean)}" y1="${y - 9}" y2="${y + 9}" stroke="${ref.color}" stroke-width="2.5"/>`;
      }
      if (r.other) s += `<path d="M${f.x(r.other.mean)} ${y - 6}l6 6-6 6-6-6z" fill="${other.color}"/>`;
      if (r.limit !== null) s += `<line x1="${f.x(r.limit)}" x2="${f.x(r.limit)}" y1="${y - 10}" y2="${y + 10}" stroke="${limit.color}" stroke-width="2" stroke-dasharray="3 2"/>`;
      if (r.value) {
        s += `<line x1="${f.x(r.value.mean - r.value.std)}" x2="${f.x(r.value.mean + r.value.std)}" y1="${y}" y2="${y}" stroke="${val.color}" stroke-width="1.5"/>`;
        s += `<circle cx="${f.x(r.value.mean)}" cy="${y}" r="4" fill="${val.color}"/>`;
      } else s += `<text x="${LABEL_W + 4}" y="${y + 4}" font-size="10" fill="#6b7280">not measured (needs 2 or more accepted)</text>`;
      return s;
    })
    .join('');
  return f.open + body + f.close;
}

/** Grouped horizontal bars (one per series) per class, null drawn as "—"; optional ± whiskers per value. */
export function groupedBars(
  id: string,
  title: string,
  rows: readonly { label: string; values: (number | null)[]; spread?: (number | null)[] }[],
  series: readonly Series[],
  axisLabel: string,
  domain: [number, number] | null = null,
): string {
  const all = rows.flatMap((r) => r.values.map((v, k) => (v === null ? 0 : v + (r.spread?.[k] ?? 0))));
  const [lo, hi] = domain ?? [0, Math.max(1e-6, ...all) * 1.08];
  const f = frame(id, title, rows.map((r) => r.label), lo, hi, axisLabel, series, (v) => num(v, hi - lo >= 5 ? 0 : hi - lo >= 0.5 ? 1 : 2));
  const n = Math.max(1, series.length);
  const bh = Math.min(8, 18 / n);
  const body = rows
    .map((r, i) =>
      r.values
        .map((v, k) => {
          const y = f.rowY(i) - (n * bh) / 2 + k * bh;
          if (v === null) return `<text x="${LABEL_W + 3}" y="${y + bh}" font-size="8" fill="#6b7280">—</text>`;
          const sp = r.spread?.[k];
          const whisk = sp ? `<line x1="${f.x(v - sp)}" x2="${f.x(v + sp)}" y1="${y + bh / 2}" y2="${y + bh / 2}" stroke="#111827"/>` : '';
          return `<rect x="${f.x(Math.min(0, v))}" y="${y}" width="${Math.abs(f.x(v) - f.x(0))}" height="${bh - 1}" fill="${series[k]?.color ?? '#999'}"/>${whisk}`;
        })
        .join(''),
    )
    .join('');
  return f.open + body + f.close;
}

export interface GainRow {
  label: string;
  mean: number;
  /** The 95% interval; an end may be ±Infinity (one run): drawn to the plot's edge with an arrow. */
  lo: number;
  hi: number;
  /** Index into the series (the dot and bar colour). */
  series: number;
}

/** Gains with their 95% intervals: a dot at the mean, the interval as a capped bar, a labelled zero line. */
export function gainPlot(id: string, title: string, rows: readonly GainRow[], series: readonly Series[], axisLabel: string): string {
  const finite = rows.flatMap((r) => [r.lo, r.mean, r.hi]).filter((v) => Number.isFinite(v));
  const span = Math.max(0.05, ...finite.map(Math.abs));
  const [lo, hi] = [Math.min(0, ...finite) - span * 0.08, Math.max(0, ...finite) + span * 0.08];
  const f = frame(id, title, rows.map((r) => r.label), lo, hi, axisLabel, [...series, { name: 'zero: no change', color: '#111827', shape: 'line' }], (v) => (v > 0 ? `+${num(v, 2)}` : num(v, 2)));
  const clip = (v: number) => Math.min(hi, Math.max(lo, v));
  const top = f.rowY(0) - ROW_H / 2;
  const bottom = f.rowY(rows.length - 1) + ROW_H / 2;
  const zero = `<line x1="${f.x(0)}" x2="${f.x(0)}" y1="${top - 2}" y2="${bottom}" stroke="#111827" stroke-width="1.5"/>`;
  const body = rows
    .map((r, i) => {
      const y = f.rowY(i);
      const c = series[r.series]?.color ?? '#999';
      const [a, b] = [f.x(clip(r.lo)), f.x(clip(r.hi))];
      const end = (x: number, open: boolean, dir: number) =>
        open ? `<path d="M${x} ${y}l${-6 * dir} -4v8z" fill="${c}"/>` : `<line x1="${x}" x2="${x}" y1="${y - 5}" y2="${y + 5}" stroke="${c}" stroke-width="1.5"/>`;
      return `<line x1="${a}" x2="${b}" y1="${y}" y2="${y}" stroke="${c}" stroke-width="2"/>${end(a, !Number.isFinite(r.lo), -1)}${end(b, !Number.isFinite(r.hi), 1)}<circle cx="${f.x(r.mean)}" cy="${y}" r="4" fill="${c}"/>`;
    })
    .join('');
  return f.open + zero + body + f.close;
}
