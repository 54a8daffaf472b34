/** The report's small HTML pieces, shared by its sections: tables and signed numbers (data text goes through esc). */
import { esc } from './svg';

export const pct = (v: number) => `${(v * 100).toFixed(0)}%`;
/** A signed number with a true minus sign: +0.053, −0.042. */
export const signed = (v: number, d = 3) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(d)}`;
export const td = (s: string, cls = '') => `<td${cls ? ` class="${cls}"` : ''}>${s}</td>`;
/** A table named by its aria-label; head and cells are HTML (escape data first), `numeric` columns right-aligned. */
export const table = (label: string, head: string[], rows: string[][], numeric: number[] = []) =>
  `<table aria-label="${esc(label)}"><thead><tr>${head.map((h, i) => `<th${numeric.includes(i) ? ' class="num"' : ''}>${h}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c, i) => td(c, numeric.includes(i) ? 'num' : '')).join('')}</tr>`)
    .join('')}</tbody></table>`;
