import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { missing } from '../scripts/lib/needs';
import { join, relative } from 'node:path';
import { test, expect } from './fixtures';
import { DATA, realFolder } from './realFolder';
import { parseProtocolText } from '../src/report/protocol';

const HOSTILE = '<img src=x onerror=alert(1)>';
/** The gains plots of the protocol report the embedded model ships: one per synthetic arm it ran. */
const SHIPPED_PLOTS = Object.keys(JSON.parse(readFileSync('public/models/magtile-defect-64/downstream.json', 'utf8')).gain).map((a) => `protocol-${a}`);

function allFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? allFiles(join(dir, e.name)) : [join(dir, e.name)]));
}

test('pilot report: generate, review with reasons, download report.html and check it against the page', async ({ studio, page, context, offsite }) => {
  await studio.open('?backend=wasm');
  await page.getByLabel('Defect class').selectOption('Crack');
  await page.getByLabel('Seed').fill('21');
  await page.getByLabel('Steps').fill('4');
  await page.getByLabel('Batch size').fill('4');
  await studio.generateButton().click();
  await expect(page.getByRole('tab', { name: /^Pending \(4\)$/ })).toBeVisible({ timeout: 120_000 });
  await expect(studio.status).toHaveText('Ready');

  // Review: two accepted, one rejected with the class's second reason, one with a hostile free-text reason.
  await page.getByRole('list', { name: 'Generated images' }).getByRole('listitem').first().click();
  await page.keyboard.press('a');
  await page.keyboard.press('a');
  await page.keyboard.press('2');
  await expect(page.getByRole('tab', { name: /^Rejected \(1\)$/ })).toBeVisible();
  await page.getByLabel('Other reject reason').fill(HOSTILE);
  await page.getByRole('button', { name: 'Reject with this reason' }).click();
  await expect(page.getByRole('tab', { name: /^Rejected \(2\)$/ })).toBeVisible();
  await expect(page.getByRole('tab', { name: /^Accepted \(2\)$/ })).toBeVisible();

  await studio.openTab('Dataset');
  const reasonsTable = page.getByTestId('reject-reasons');
  const shownReasons = (await reasonsTable.locator('tbody tr').evaluateAll((rows) => rows.map((r) => Array.from(r.querySelectorAll('td')).map((c) => c.textContent ?? '')))).map((r) => r.slice(1));
  expect(shownReasons.sort()).toEqual([[HOSTILE, '1'], ['Wrong defect class', '1']].sort());
  const shownAccepted = /^(\d+)/.exec((await page.getByRole('img', { name: 'Accepted images per class against the target' }).locator('text', { hasText: /no target|\// }).nth(2).textContent()) ?? '')?.[1];

  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Pilot report' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe('report.html');
  const html = readFileSync(await file.path(), 'utf8');

  // No off-origin reference anywhere but the training-data citation's text; no script, no resource attribute.
  expect(html).not.toMatch(/<(script|link|img|iframe|object|embed|image|use)\b/i);
  expect(html).not.toMatch(/<[a-z][^>]*\s(src|href|srcset)\s*=/i);
  expect(html).not.toMatch(/@import|url\(/i);

  // Parse it in a page of its own (the browser's parser), watching for any request it would make.
  const report = await context.newPage();
  const requests: string[] = [];
  report.on('request', (r) => requests.push(r.url()));
  await report.setContent(html, { waitUntil: 'load' });
  const parsed = await report.evaluate(() => {
    const rows = (label: string) => Array.from(document.querySelectorAll(`table[aria-label="${label}"] tbody tr`)).map((r) => Array.from(r.querySelectorAll('td')).map((c) => c.textContent ?? ''));
    return {
      svgs: Array.from(document.querySelectorAll('svg.plot')).map((s) => s.getAttribute('data-plot')),
      axisTicks: document.querySelectorAll('svg.plot[data-plot="kid"] text').length,
      counts: rows('Images per class'),
      reasons: rows('Reject reasons per class'),
      models: rows('Models'),
      quality: rows('Quality per class'),
      protocolArms: rows('Downstream protocol per arm'),
      protocolOrigin: document.querySelector('[data-testid="protocol-origin"]')?.textContent ?? null,
      downstreamNotRun: document.querySelector('[data-testid="downstream-not-run"]')?.textContent ?? null,
      verdict: document.querySelector('[data-verdict]')?.getAttribute('data-verdict') ?? null,
      injected: document.querySelectorAll('body img, body script').length,
      text: document.body.innerText,
    };
  });
  expect(requests).toEqual([]);
  expect(parsed.injected).toBe(0);
  expect(parsed.svgs).toEqual(['counts', 'kid', 'diversity', ...SHIPPED_PLOTS]);
  expect(SHIPPED_PLOTS).toContain('protocol-synthetic');
  expect(parsed.axisTicks).toBeGreaterThan(8);
  expect(parsed.counts).toEqual([['Crack', '2', '2', '0']]);
  expect(shownAccepted).toBe('2');
  expect(parsed.reasons.map((r) => r.slice(1)).sort()).toEqual(shownReasons.sort());
  expect(parsed.reasons[0]?.[0]).toBe('Crack');
  const urls = [...parsed.text.matchAll(/https?:\/\/\S+/g)].map((m) => m[0]);
  const citation = parsed.models[0]?.[4] ?? '';
  expect(urls.every((u) => citation.includes(u))).toBe(true);
  expect(citation).toContain('Surface defect saliency of magnetic tile');
  expect(parsed.models[0]?.[2]).toMatch(/^[0-9a-f]{64}$/);
  // The downstream check was not run: the report says so and invents no numbers.
  expect(parsed.downstreamNotRun).toContain('has not been run');
  expect(parsed.verdict).toBe('no-go'); // 2 accepted is under the default 20 per class
  // The downstream protocol: the report the embedded model ships beside its manifest, said to be the model's.
  const shipped = parseProtocolText(readFileSync('public/models/magtile-defect-64/downstream.json', 'utf8'), { kind: 'file', file: '' });
  const f3 = (v: number | null) => (v === null ? '—' : v.toFixed(3));
  expect(parsed.protocolArms.map((r) => r.slice(1))).toEqual(Object.values(shipped.arms).map((a) => [String(a.runs), f3(a.macroF1), f3(a.pixelAP), f3(a.freeFpr)]));
  expect(parsed.protocolOrigin).toContain("These are the model's numbers, not this dataset's: the protocol report shipped with model magtile-defect-64 (models/magtile-defect-64/downstream.json)");

  // Its quality numbers equal the Quality tab's.
  await studio.openTab('Quality');
  const panelRow = page.getByTestId('quality-table').getByRole('row', { name: /Crack/ });
  await expect(panelRow).toContainText('2 / 300');
  const panel = await panelRow.locator('td').allTextContents();
  const q = parsed.quality.find((r) => r[0] === 'Crack') as string[];
  expect(q[1]).toBe('2');
  expect(q[2]).toBe(panel[2]); // label consistency
  expect(q[3]).toBe(panel[3]); // KID ± std
  await report.close();
  expect(offsite).toEqual([]);
});

test('pilot report after the downstream check: its table, its uncertainty and the held-out images are the panel\'s', async ({ studio, page, context, offsite }) => {
  test.skip(missing(existsSync(DATA), DATA), 'magnetic-tile dataset not present');
  await studio.twoAcceptedCracksThenQuality();
  const real = realFolder(8);
  await page.getByLabel('Real images folder').setInputFiles(real);
  await expect(page.getByText(/^48 real images read/)).toBeVisible({ timeout: 60_000 });
  await page.getByRole('button', { name: 'Run downstream check' }).click();
  const table = page.getByTestId('downstream-table');
  await expect(table).toBeVisible({ timeout: 120_000 });
  const panel = await table.locator('tbody tr').evaluateAll((rows) => rows.map((r) => Array.from(r.querySelectorAll('td')).map((c) => c.textContent ?? '')));
  const warningNote = page.getByRole('note').filter({ hasText: 'Warning:' });
  const panelWarning = (await warningNote.count()) ? await warningNote.textContent() : null;
  const panelGroups = ((await page.getByTestId('held-out-groups').textContent()) ?? '').replace(/\.$/, '').split(': ').at(-1)?.split(', ') ?? [];

  await studio.openTab('Dataset');
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Pilot report' }).click();
  const html = readFileSync(await (await download).path(), 'utf8');
  const report = await context.newPage();
  await report.setContent(html);
  const parsed = await report.evaluate(() => ({
    svgs: Array.from(document.querySelectorAll('svg.plot')).map((s) => s.getAttribute('data-plot')),
    rows: Array.from(document.querySelectorAll('table[aria-label="Downstream check per class"] tbody tr')).map((r) => Array.from(r.querySelectorAll('td')).map((c) => c.textContent ?? '')),
    heldOut: Array.from(document.querySelectorAll('#downstream ul.files')).map((u) => Array.from(u.querySelectorAll('li')).map((l) => l.textContent ?? '')),
    warning: document.querySelector('#downstream [role="note"]')?.textContent ?? null,
  }));
  expect(parsed.svgs).toEqual(['counts', 'kid', 'diversity', 'downstream', ...SHIPPED_PLOTS]);
  // per class: F1 real only, F1 + synthetic, change (the report writes a minus sign as −); macro-F1 with ± as the panel shows it
  const norm = (s: string) => s.replace('−', '-').replace(/^\+?(-?)/, '$1').replace(/^-(0\.000)/, '$1');
  const body = panel.slice(0, -1);
  expect(parsed.rows.slice(0, -1).map((r) => [r[0], r[3], r[4], norm(r[5] as string)])).toEqual(body.map((r) => [r[0], r[1], r[2], norm(r[3] as string)]));
  const macro = parsed.rows.at(-1) as string[];
  const pm = panel.at(-1) as string[];
  expect([macro[3], macro[4], norm(macro[5] as string)]).toEqual([pm[1], pm[2], norm(pm[3] as string)]);
  // the same warning (or none) as the panel
  expect(parsed.warning).toBe(panelWarning);
  // exactly which real images were held out: files of the chosen folder, in tile groups of the manifest
  const [groups, images] = parsed.heldOut as [string[], string[]];
  expect(groups.length).toBeGreaterThan(0);
  expect([...groups].sort()).toEqual([...panelGroups].sort());
  expect(images.length).toBeGreaterThan(0);
  const files = new Set(allFiles(real).map((f) => relative(join(real, '..'), f)));
  for (const f of images) expect(files.has(f)).toBe(true);
  await report.close();
  expect(offsite).toEqual([]);
});
