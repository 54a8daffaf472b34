import { missing } from './lib/needs';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProvenanceRecord } from '../src/dataset/record';
import type { DatasetItem, ItemImages } from '../src/dataset/types';
import { buildExportZip } from '../src/dataset/zip';
import { parseEvaluateArgs, runEvaluate, UsageError } from './evaluate';
import { parseGenerateArgs, runGenerate } from './generate';
import { buildReport, parseReportArgs, protocolFor } from './report';

const MODEL = 'public/models/magtile-defect-64';
/** The gains plots of the protocol report the embedded model ships: one per synthetic arm it ran. */
const SHIPPED_GAIN_PLOTS = Object.keys(JSON.parse(readFileSync(join(MODEL, 'downstream.json'), 'utf8')).gain).length;
const DATA = '../shared/datasets/magnetic-tile';
const HOSTILE = '<img src=x onerror=alert(1)>';
/** A frozen copy of training/reports/downstream/default/final.json (a real final run of this model). */
const PROTOCOL = 'scripts/fixtures/protocol-final.json';
const manifest = JSON.parse(readFileSync(join(MODEL, 'manifest.json'), 'utf8')) as { sha256: string; classes: string[]; training: { citation: string } };

/** Cells of the table with this aria-label, row by row, tags stripped (the report's markup is regular). */
function tableRows(html: string, label: string): string[][] {
  const t = new RegExp(`<table aria-label="${label}">([\\s\\S]*?)</table>`).exec(html);
  if (!t) throw new Error(`no table "${label}"`);
  const body = /<tbody>([\s\S]*)<\/tbody>/.exec(t[1] as string)?.[1] ?? '';
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((r) => [...(r[1] as string).matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => (c[1] as string).replace(/<[^>]+>/g, '')));
}

/** Every http(s) URL in the page must be inside the model's training-data citation (text, not a resource). */
function offOrigin(html: string): string[] {
  const cites = tableRows(html, 'Models').map((r) => r[4] as string);
  return [...html.matchAll(/https?:\/\/[^\s"'<)]+/g)].map((m) => m[0]).filter((u) => !cites.some((c) => c.includes(u)));
}

describe('report arguments', () => {
  it('bad arguments get a message saying what is accepted', () => {
    expect(() => parseReportArgs([])).toThrow(/--dataset is required[\s\S]*usage: npm run report/);
    expect(() => parseReportArgs(['--dataset', '.'])).toThrow(/--out is required/);
    expect(() => parseReportArgs(['--dataset', '/no/such', '--out', 'x'])).toThrow(/does not exist; accepted: an exported .zip or a folder written by npm run generate/);
    expect(() => parseReportArgs(['--dataset', '.', '--out', 'x', '--real', '/no/such'])).toThrow(/is not a folder/);
    const tmp = mkdtempSync(join(tmpdir(), 'dds-thr-'));
    writeFileSync(join(tmp, 't.json'), '{"minAcceptanceRate": 7}');
    expect(() => parseReportArgs(['--dataset', '.', '--out', 'x', '--thresholds', join(tmp, 't.json')])).toThrow(/minAcceptanceRate must be a number from 0 to 1/);
    writeFileSync(join(tmp, 't.json'), '{"minAcceptedPerClass": 2}');
    expect(parseReportArgs(['--dataset', '.', '--out', 'x', '--thresholds', join(tmp, 't.json')]).thresholds.minAcceptedPerClass).toBe(2);
    expect(() => parseReportArgs(['--dataset', '.', '--out', 'x', '--bogus'])).toThrow(UsageError);
    // --protocol: the file is named with its problem
    const proto = (text: string | null) => {
      const f = join(tmp, 'p.json');
      rmSync(f, { force: true });
      if (text !== null) writeFileSync(f, text);
      return () => parseReportArgs(['--dataset', '.', '--out', 'x', '--protocol', f]);
    };
    expect(proto(null)).toThrow(new RegExp(`--protocol ${join(tmp, 'p.json')} cannot be read \\(ENOENT\\); accepted: the final.json or dev.json that npm run downstream writes`));
    expect(proto('{"split": ')).toThrow(/--protocol .*p\.json: protocol report: not valid JSON/);
    const bad = JSON.parse(readFileSync(PROTOCOL, 'utf8')) as { split: string };
    bad.split = 'test';
    expect(proto(JSON.stringify(bad))).toThrow(UsageError);
    expect(proto(JSON.stringify(bad))).toThrow(/--protocol .*p\.json: protocol report: split must be one of "dev", "final", got "test"/);
    expect(parseReportArgs(['--dataset', '.', '--out', 'x', '--protocol', PROTOCOL]).protocol?.origin).toEqual({ kind: 'file', file: 'protocol-final.json' });
    rmSync(tmp, { recursive: true, force: true });
  });
});

describe('npm run report on a small export made here', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'dds-report-'));
  const gen = join(tmp, 'gen');
  const zip = join(tmp, 'export.zip');
  let lines: (Record<string, unknown> & { file: string; mask: string })[] = [];
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  beforeAll(async () => {
    await runGenerate(parseGenerateArgs(['--model', MODEL, '--class', 'Crack', '--n', '3', '--seed', '5', '--steps', '2', '--out', gen]), () => {});
    lines = readFileSync(join(gen, 'metadata.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    // As the studio stores them: two accepted, one rejected with a hostile reason.
    const items: DatasetItem[] = lines.map((l, k) => {
      const provenance = parseProvenanceRecord(l, { extra: ['file', 'mask'] });
      return {
        id: `crack-${k}`, createdAt: '2026-12-02T00:00:00.000Z', status: k < 2 ? 'accepted' : 'rejected', decidedAt: '2026-12-02T00:01:00.000Z',
        className: 'Crack', width: 64, height: 64, provenance, citation: manifest.training.citation, ...(k === 2 ? { rejectReason: HOSTILE } : {}),
      };
    });
    const images = new Map<string, ItemImages>(items.map((it, k) => [it.id, { id: it.id, png: readFileSync(join(gen, (lines[k] as { file: string }).file)), maskPng: readFileSync(join(gen, (lines[k] as { mask: string }).mask)) }]));
    writeFileSync(zip, buildExportZip(items, images, manifest.classes, '2026-12-02T00:02:00.000Z'));
  }, 120_000);

  it('an export zip: counts, the reason (escaped), the model, the cost; no downstream numbers without real images', async () => {
    const { html, input } = await buildReport(parseReportArgs(['--dataset', zip, '--out', join(tmp, 'r.html')]), () => {});
    expect(html.match(/<svg /g)).toHaveLength(3 + SHIPPED_GAIN_PLOTS); // counts, KID, diversity, and the protocol the model ships (a plot per synthetic arm)
    expect(html.match(/data-plot="(counts|kid|diversity|protocol-synthetic)"/g)).toHaveLength(4);
    expect(tableRows(html, 'Images per class')).toEqual([['Crack', '2', '1', '0']]);
    expect(tableRows(html, 'Reject reasons per class')).toEqual([['Crack', '&lt;img src=x onerror=alert(1)&gt;', '1']]);
    expect(html).not.toContain('<img');
    const model = tableRows(html, 'Models');
    expect(model).toHaveLength(1);
    expect(model[0]?.[2]).toBe(manifest.sha256);
    expect(model[0]?.[4]).toContain('Surface defect saliency of magnetic tile');
    const ms = lines.reduce((s, l) => s + (l['timings'] as { totalMs: number }).totalMs, 0);
    expect(html).toContain(`<b>${(ms / 1000 / 2).toFixed(2)} s of generation per accepted image</b>`);
    expect(html).toContain('acceptance rate 67%');
    expect(html).toContain('data-testid="downstream-not-run"');
    // the quality row: 2 accepted Crack images with classifier features (embedded here: the records had none)
    const q = tableRows(html, 'Quality per class');
    expect(q.map((r) => r.slice(0, 2))).toEqual([['Crack', '2']]);
    expect(q[0]?.[3]).toMatch(/^−?\d\.\d{3} ± \d\.\d{3}$/);
    expect(input.quality.available && input.quality.value.rows.find((r) => r.className === 'Crack')?.kid).not.toBeNull();
    expect(offOrigin(html)).toEqual([]);
    expect(html).not.toMatch(/<[a-z][^>]*\s(src|href|srcset)\s*=/i);
  }, 120_000);

  it('the protocol: --protocol, else the downstream.json the model ships (labelled as its), else not run', async () => {
    const { html } = await buildReport(parseReportArgs(['--dataset', gen, '--protocol', PROTOCOL, '--out', join(tmp, 'p.html')]), () => {});
    expect(html).toContain('data-origin="file"');
    expect(html).toContain('From protocol-final.json, given for this report.');
    expect(tableRows(html, 'Downstream protocol per arm')).toEqual([
      ['real only', '3', '0.540', '0.390', '0.078'], ['real + classic augmentation', '3', '0.556', '0.236', '0.297'], ['real + synthetic', '3', '0.609', '0.348', '0.071'],
    ]);
    const overall = tableRows(html, 'Downstream protocol gains').filter((r) => r[3]?.startsWith('all'));
    expect(overall.map((r) => r.slice(1))).toEqual([
      ['macro-F1', 'real + classic augmentation', 'all (macro-F1)', '+0.053', '[−0.181, +0.287]', '3', 'no (includes 0)'],
      ['pixel AP', 'real only', 'all (pixel AP)', '−0.042', '[−0.281, +0.197]', '3', 'no (includes 0)'],
    ]);
    expect(html).toContain('data-plot="protocol-synthetic"');
    expect(html).not.toContain('<img');
    // the go / no-go checks are the same with and without it
    const without = await buildReport(parseReportArgs(['--dataset', gen, '--out', join(tmp, 'q.html')]), () => {});
    expect(tableRows(html, 'Go / no-go checks')).toEqual(tableRows(without.html, 'Go / no-go checks'));
    // without --protocol: the embedded model the records name ships downstream.json
    const shipped = join(MODEL, 'downstream.json');
    expect(without.input.protocol.available && without.input.protocol.value.origin).toEqual({ kind: 'model', modelId: 'magtile-defect-64', file: shipped });
    expect(without.html).toContain("These are the model's numbers, not this dataset's: the protocol report shipped with model <b>magtile-defect-64</b>");
    const records = without.input.records;
    // --model wins over the records' model; a folder without one falls through to the records' model
    const own = join(tmp, 'own-model');
    mkdirSync(own, { recursive: true });
    writeFileSync(join(own, 'manifest.json'), JSON.stringify({ id: 'own-1' }));
    expect(protocolFor({ model: own }, records)).toMatchObject({ available: true, value: { origin: { kind: 'model', file: shipped } } });
    copyFileSync(PROTOCOL, join(own, 'downstream.json'));
    expect(protocolFor({ model: own }, records)).toMatchObject({ available: true, value: { origin: { kind: 'model', modelId: 'own-1', file: join(own, 'downstream.json') } } });
    // a broken shipped file is said, not a crash; records of a model no folder here has (another sha256) get "not run"
    writeFileSync(join(own, 'downstream.json'), '{"classes": []}');
    expect(protocolFor({ model: own }, records)).toEqual({ available: false, why: expect.stringMatching(/downstream.json could not be read: protocol report: classes must be a non-empty list/) });
    const other = records.map((r) => ({ ...r, provenance: { ...r.provenance, modelSha256: 'b'.repeat(64) } }));
    const none = protocolFor({}, other);
    expect(none).toEqual({ available: false, why: 'no protocol report was given (--protocol <file.json>) and the images name no embedded model (public/models/<id>) that ships one' });
  }, 180_000);

  it('a generate folder: every image counts as accepted and nothing claims a review', async () => {
    const { html } = await buildReport(parseReportArgs(['--dataset', gen, '--out', join(tmp, 'g.html')]), () => {});
    expect(tableRows(html, 'Images per class')).toEqual([['Crack', '3', '0', '0']]);
    expect(html).toContain('Not reviewed: this folder was written by <code>npm run generate</code>');
    expect(tableRows(html, 'Go / no-go checks').find((r) => r[0] === 'Acceptance rate')?.slice(2)).toEqual(['not reviewed (a generate output folder)', 'not measured']);
    expect(tableRows(html, 'Models')[0]?.[4]).toContain('Surface defect saliency of magnetic tile'); // from the model's manifest
  }, 120_000);

  it.skipIf(missing(existsSync(DATA), DATA))('with real images: the downstream check and exactly which real images were held out', async () => {
    const real = join(tmp, 'real');
    for (const c of manifest.classes) {
      mkdirSync(join(real, c), { recursive: true });
      const files = readdirSync(join(DATA, 'train', c)).filter((f) => f.endsWith('.jpg')).sort();
      for (let k = 0; k < 6; k++) {
        const f = files[Math.floor((k * files.length) / 6)] as string;
        copyFileSync(join(DATA, 'train', c, f), join(real, c, f));
        const m = f.replace('.jpg', '_mask.png');
        if (existsSync(join(DATA, 'train', c, m))) copyFileSync(join(DATA, 'train', c, m), join(real, c, m));
      }
    }
    copyFileSync(join(DATA, 'manifest_extra.csv'), join(real, 'manifest_extra.csv'));
    const { html, input } = await buildReport(parseReportArgs(['--dataset', zip, '--real', real, '--real-per-class', '4', '--seeds', '2', '--out', join(tmp, 'd.html')]), () => {});
    expect(html.match(/<svg /g)).toHaveLength(4 + SHIPPED_GAIN_PLOTS); // + the downstream check's plot
    expect(html).toContain('data-plot="downstream"');
    if (!input.downstream.available) throw new Error(input.downstream.why);
    const d = input.downstream.value;
    expect(d.split).toBe('tile_group');
    expect(d.heldOutImages.length).toBeGreaterThan(0);
    for (const f of d.heldOutImages) {
      expect(existsSync(join(real, f))).toBe(true);
      expect(html).toContain(`<li>${f}</li>`);
    }
    const rows = tableRows(html, 'Downstream check per class');
    expect(rows.map((r) => r[0])).toEqual([...manifest.classes, 'macro-F1']);
    const macro = rows.at(-1) as string[];
    expect(macro[5]).toBe(`${d.result.delta.mean >= 0 ? '+' : '−'}${Math.abs(d.result.delta.mean).toFixed(3)} ± ${d.result.delta.std.toFixed(3)}`);
    expect(d.result.nSynthetic).toBe(2);
    expect(offOrigin(html)).toEqual([]);
    // the same numbers as npm run evaluate on the same zip and real folder (one evaluation function)
    const ev = (await runEvaluate(parseEvaluateArgs(['--dataset', zip, '--real', real, '--real-per-class', '4', '--seeds', '2']), () => {})) as {
      perClass: Record<string, { kid: { mean: number; std: number } }>; downstream: { delta: { mean: number; std: number } };
    };
    const q = input.quality.available ? input.quality.value.rows.find((r) => r.className === 'Crack') : undefined;
    expect(Number(q?.kid?.mean.toPrecision(4))).toBe(ev.perClass['Crack']?.kid.mean);
    expect(Number(d.result.delta.mean.toPrecision(4))).toBe(ev.downstream.delta.mean);
  }, 180_000);
});
