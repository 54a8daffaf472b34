/** The report's inline stylesheet: system fonts only (nothing to load), and a print layout for A4 / Letter. */
export const STYLE = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #111827; margin: 0 auto; padding: 24px 32px 48px; max-width: 980px; background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 1px solid #e5e7eb; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.meta, .note { color: #4b5563; font-size: 12.5px; }
.note.warn { color: #92400e; background: #fffbeb; border-left: 3px solid #d97706; padding: 6px 10px; }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 13px; }
th, td { border-bottom: 1px solid #e5e7eb; padding: 4px 10px 4px 0; text-align: left; vertical-align: top; }
th { font-weight: 600; color: #374151; }
td.num { white-space: nowrap; }
table[aria-label="Quality per class"] { font-size: 12px; }
table[aria-label="Quality per class"] th, table[aria-label="Quality per class"] td { padding-right: 6px; padding-left: 6px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; padding-left: 10px; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
code.sha { word-break: break-all; }
.verdict { font-size: 17px; font-weight: 700; padding: 10px 14px; border-radius: 6px; margin: 8px 0; }
.verdict.go { background: #dcfce7; color: #14532d; }
.verdict.nogo { background: #fee2e2; color: #7f1d1d; }
.verdict.undecided { background: #f3f4f6; color: #1f2937; }
.st { font-weight: 600; white-space: nowrap; }
.st.pass { color: #15803d; }
.st.fail { color: #b91c1c; }
.st.unknown { color: #6b7280; }
svg.plot { display: block; margin: 8px 0 4px; max-width: 100%; height: auto; font-family: inherit; }
ul.files { columns: 3 220px; font-size: 11.5px; margin: 4px 0 10px; padding-left: 18px; word-break: break-all; }
@media print {
  @page { size: A4; margin: 14mm 12mm; }
  body { padding: 0; max-width: none; font-size: 11pt; }
  h2 { break-after: avoid; }
  table, svg.plot, .verdict { break-inside: avoid; }
  .verdict, .note.warn { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  ul.files { font-size: 8pt; }
}
`;
