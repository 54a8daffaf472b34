import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderReport } from './html';
import { parseProtocol, parseProtocolText, ProtocolError, readPythonJson, type ProtocolNumbers, type ProtocolOrigin } from './protocol';
import { ciSide } from './protocolSection';
import { checks, verdict } from './summary';
import { DEFAULT_THRESHOLDS } from './thresholds';
import type { ReportInput } from './types';

/** A frozen copy of training/reports/downstream/default/final.json (a real final run of magtile-defect-64). */
const TEXT = readFileSync('scripts/fixtures/protocol-final.json', 'utf8');
const FILE: ProtocolOrigin = { kind: 'file', file: 'final.json' };
const HOSTILE = '<img src=x onerror=alert(1)>';
/** The parsed JSON, to be broken field by field (as manifest.test.ts does with its manifest). */
type Raw = Record<string, any>;
const good = () => JSON.parse(TEXT) as Raw;

function input(protocol: ReportInput['protocol']): ReportInput {
  return {
    generatedAt: '2026-12-02T00:00:00.000Z', source: 'test', reviewed: true, classes: ['Crack'], records: [],
    quality: { available: false, why: 'no reference' }, downstream: { available: false, why: 'not run' }, protocol,
    models: [], thresholds: DEFAULT_THRESHOLDS, thresholdsSource: 'defaults',
  };
}
const section = (html: string) => /<section id="protocol">[\s\S]*?<\/section>/.exec(html)?.[0] ?? '';

describe('protocol report parser', () => {
  it('reads a real final run with its numbers as written', () => {
    const p = parseProtocolText(TEXT, FILE);
    expect(p.split).toBe('final');
    expect(p.finalTestGroups).toHaveLength(26);
    expect(p.scored).toEqual(['Blowhole', 'Break', 'Crack', 'Fray', 'Uneven']);
    expect(p.armsRun).toEqual(['real', 'classic', 'synthetic']);
    expect(p.arms.synthetic?.macroF1).toBeCloseTo(0.6088347887737784, 12);
    expect(p.arms.real?.perClass['Break']?.f1).toBeCloseTo(0.2324009324009324, 12);
    const g = p.gain.synthetic?.macroF1;
    expect(g?.baseline).toBe('classic');
    expect(g?.overall).toEqual({ mean: 0.0526974035375688, ci95: [-0.18129065053518495, 0.28668545761032255], n: 3 });
    expect(p.gain.synthetic?.pixelAP?.baseline).toBe('real');
    expect(p.recipe).toBeNull(); // written before recipes existed
    expect(p.synthetic?.images['Crack']).toBe(100);
  });

  it('the report shipped with the embedded model parses', () => {
    const p = parseProtocolText(readFileSync('public/models/magtile-defect-64/downstream.json', 'utf8'), { kind: 'model', modelId: 'magtile-defect-64', file: 'x' });
    expect(p.arms.synthetic?.runs).toBeGreaterThan(0);
  });

  it("reads Python's NaN and ±Infinity (a one-run interval), and not inside strings", () => {
    expect(readPythonJson('{"a": [-Infinity, Infinity], "b": NaN, "c": "NaN, -Infinity"}')).toEqual({ a: [-Infinity, Infinity], b: null, c: 'NaN, -Infinity' });
    const r = good();
    r.gain.synthetic.macroF1 = { ...r.gain.synthetic.macroF1, ci95: ['__lo', '__hi'], n: 1 };
    r.arms.real.pixelAP = '__nan';
    const text = JSON.stringify(r).replace('"__lo"', '-Infinity').replace('"__hi"', 'Infinity').replace('"__nan"', 'NaN');
    const p = parseProtocolText(text, FILE);
    expect(p.gain.synthetic?.macroF1?.overall?.ci95).toEqual([-Infinity, Infinity]);
    // what downstream.py writes now: null, strict JSON
    const now = good();
    now.gain.synthetic.macroF1 = { ...now.gain.synthetic.macroF1, ci95: null, n: 1 };
    expect(parseProtocol(now, FILE).gain.synthetic?.macroF1?.overall?.ci95).toEqual([-Infinity, Infinity]);
    now.gain.synthetic.macroF1.n = 3;
    expect(() => parseProtocol(now, FILE)).toThrow(/gain.synthetic.macroF1.ci95 must be an interval: null only for a one-run difference \(n 1\), got null/);
    expect(p.arms.real?.pixelAP).toBeNull();
    expect(section(renderReport(input({ available: true, value: p })))).toContain('95% CI [−∞, +∞] over 1 runs.</b> The interval includes zero: no gain is shown (one run gives no interval)');
  });

  it('refuses each kind of bad input, naming the field and what is accepted', () => {
    const bad = (edit: (r: Raw) => unknown, msg: RegExp) => {
      const r = good();
      const out = edit(r);
      expect(() => parseProtocol(out === undefined ? r : out, FILE)).toThrow(msg);
    };
    expect(() => parseProtocolText('{"classes": [', FILE)).toThrow(/not valid JSON .*accepted: the final.json \/ dev.json that npm run downstream/);
    bad(() => [1, 2], /the report must be an object, got a list of 2/);
    bad((r) => void delete r.classes, /classes must be a list of strings, got nothing \(missing\)/);
    bad((r) => void (r.classes = []), /classes must be a non-empty list/);
    bad((r) => void (r.split = 'test'), /split must be one of "dev", "final", got "test"/);
    bad((r) => void (r.complete = 'yes'), /complete must be true or false/);
    bad((r) => void (r.arms = {}), /arms must be an object with at least one of real, classic/);
    bad((r) => void (r.arms.mixup = r.arms.real), /arms key "mixup" must be one of "real", "classic", "flips", "synthetic", "synthetic\+classic", "synthetic\+flips"/);
    bad((r) => void (r.arms.real.macroF1 = 1.5), /arms.real.macroF1 must be a number from 0 to 1 or null, got 1.5/);
    bad((r) => void (r.arms.real.runs = -1), /arms.real.runs must be an integer >= 0/);
    bad((r) => void (r.arms.real.perClass.Scratch = { f1: 0.5, pixelAP: 0.5 }), /arms.real.perClass key "Scratch" must be one of the report's classes \(Blowhole, Break/);
    bad((r) => void (r.gain.synthetic.macroF1.baseline = 'synthetic'), /gain.synthetic.macroF1.baseline must be one of "real", "classic", "flips", got "synthetic"/);
    bad((r) => void (r.gain.synthetic.macroF1.ci95 = [0.3, 0.4]), /gain.synthetic.macroF1.ci95 must be an interval holding the mean 0.05/);
    bad((r) => void (r.gain.synthetic.macroF1.ci95 = [0.1]), /gain.synthetic.macroF1.ci95 must be a list \[low, high\] of two numbers/);
    bad((r) => void (r.gain.synthetic.pixelAP.perClass.Crack.n = 0), /gain.synthetic.pixelAP.perClass.Crack.n must be an integer >= 1/);
    bad((r) => void (r.gain.synthetic.iou = {}), /gain.synthetic key "iou" must be one of "macroF1", "pixelAP"/);
    bad((r) => void (r.gain['synthetic+classic'] = r.gain.synthetic), /gain key "synthetic\+classic" must be an arm the report has/);
    bad((r) => void (r.synthetic.images.Crack = 2.5), /synthetic.images.Crack must be an integer >= 0, got 2.5/);
    bad((r) => void (r.recipe = { share: 0, perClass: null, gate: null }), /recipe.share must be a number in \(0, 1\]/);
    bad((r) => void (r.hyper.lr = [1]), /hyper.lr must be a number, string, boolean or null, got a list of 1/);
    bad((r) => void (r.finalTestGroups = 'all'), /finalTestGroups must be a list of strings, got "all"/);
    bad((r) => void (r.finalTestHeldFromGenerator = 'yes'), /finalTestHeldFromGenerator must be true or false, got "yes"/);
    bad((r) => void (r.exposureSpread = { Crack: { real: 0.3, synthetic: -1, used: 0.3 } }), /exposureSpread.Crack.synthetic must be a number from 0 to 2 or null, got -1/);
    bad((r) => void (r.exposureSpread = { Scratch: { real: 0.3, synthetic: 0.2, used: 0.2 } }), /exposureSpread key "Scratch" must be one of the report's classes/);
    bad((r) => void (r.recipe = { share: 0.5, perClass: null, gate: null, exposure: 'wide' }), /recipe.exposure must be one of "as-generated", "match", got "wide"/);
    expect(() => parseProtocol({}, FILE)).toThrow(ProtocolError);
  });
});

describe('the Downstream protocol section', () => {
  const p = parseProtocolText(TEXT, FILE);

  it('per arm, per class, the gains with their intervals, a plot with a zero line; CI wording follows the interval', () => {
    const s = section(renderReport(input({ available: true, value: p })));
    expect(s).toContain('<h2>Downstream protocol</h2>');
    expect(s).toContain("Split <b>final</b>: the test tiles are 26 tile groups left out of every development run, the generator&#39;s held-out tile groups (public/models/magtile-defect-64 training.heldOutGroups): tiles the generator never saw.");
    expect(s).toMatch(/<td>real \+ synthetic<\/td><td class="num">3<\/td><td class="num">0.609<\/td><td class="num">0.348<\/td><td class="num">0.071<\/td>/);
    expect(s).toMatch(/<td>Break<\/td><td class="num">0.232 \/ 0.316<\/td><td class="num">0.233 \/ 0.139<\/td><td class="num">0.432 \/ 0.145<\/td>/);
    expect(s).toContain('macro-F1, real + synthetic against real + classic augmentation (the better baseline): +0.053, 95% CI [−0.181, +0.287] over 3 runs.</b> The interval includes zero');
    expect(s).toContain('pixel AP, real + synthetic against real only (the better baseline): −0.042, 95% CI [−0.281, +0.197]');
    expect(s.match(/data-ci="includes"/g)).toHaveLength(2);
    expect(s).toContain('data-plot="protocol-synthetic"');
    expect(s).toContain('zero: no change');
    expect(s.match(/<circle /g)?.length).toBe(2 + 2 * 5 + 2); // overall + per class for both metrics, + 2 legend dots
    expect(s).toContain('data-origin="file"');
    expect(s).not.toContain('data-testid="protocol-dev"');
    // older reports have no exposure spread: no diversity table
    expect(p.exposureSpread).toBeNull();
    expect(s).not.toContain('Diversity: spread of exposures');
    const spread = parseProtocol({ ...good(), recipe: { share: 0.5, perClass: 300, gate: null, exposure: 'match' },
      exposureSpread: { Uneven: { real: 0.362, synthetic: 0.276, used: 0.358 }, Crack: { real: 0.245, synthetic: null, used: null } } }, FILE);
    const withSpread = section(renderReport(input({ available: true, value: spread })));
    expect(withSpread).toContain('<h3>Diversity: spread of exposures</h3>');
    expect(withSpread).toMatch(/<td>Uneven<\/td><td class="num">0.362<\/td><td class="num">0.276<\/td><td class="num">0.76<\/td><td class="num">0.358<\/td>/);
    expect(withSpread).toMatch(/<td>Crack<\/td><td class="num">0.245<\/td><td class="num">—<\/td><td class="num">—<\/td>/);
    expect(withSpread).toContain('exposures matched to the real spread');
    // the report's own field decides; a report written before it existed falls back on finalTestSource's wording
    expect(p.finalTestHeldFromGenerator).toBe(true);
    const unheld = section(renderReport(input({ available: true, value: parseProtocol({ ...good(), finalTestHeldFromGenerator: false }, FILE) })));
    expect(unheld).toContain('whether the generator saw them is not recorded');
    expect(unheld).not.toContain('tiles the generator never saw');
    // an interval wholly above or below zero is said so
    const up = good();
    up.gain.synthetic.macroF1.ci95 = [0.01, 0.3];
    up.gain.synthetic.pixelAP.ci95 = [-0.3, -0.01];
    const s2 = section(renderReport(input({ available: true, value: parseProtocol(up, FILE) })));
    expect(s2).toMatch(/data-metric="macroF1" data-ci="above">.*The interval is above zero: a gain\./);
    expect(s2).toMatch(/data-metric="pixelAP" data-ci="below">.*The interval is below zero: a loss\./);
    expect(ciSide({ mean: 0, ci95: [0, 1], n: 3 })).toBe('includes');
  });

  it('the flips arms: a flips baseline can be the better one, synthetic+flips is a synthetic arm with its own gains', () => {
    const r = good();
    r.arms.flips = { ...r.arms.real, runs: 3, pixelAP: 0.5 };
    r.arms['synthetic+flips'] = { ...r.arms.synthetic, runs: 3 };
    r.armsRun = ['real', 'classic', 'flips', 'synthetic', 'synthetic+flips'];
    r.gain.synthetic.pixelAP.baseline = 'flips';
    r.gain['synthetic+flips'] = structuredClone(r.gain.synthetic);
    const f = parseProtocol(r, FILE);
    expect(Object.keys(f.gain)).toEqual(['synthetic', 'synthetic+flips']);
    expect(f.gain['synthetic+flips']?.pixelAP?.baseline).toBe('flips');
    const s = section(renderReport(input({ available: true, value: f })));
    expect(s).toMatch(/<td>real \+ flips \(grain kept\)<\/td><td class="num">3<\/td><td class="num">[0-9.]+<\/td><td class="num">0.500<\/td>/);
    expect(s).toContain('pixel AP, real + synthetic + flips (grain kept) against real + flips (grain kept) (the better baseline)');
    // a baseline the report does not have is refused
    const bad = good();
    bad.gain.synthetic.pixelAP.baseline = 'flips';
    expect(() => parseProtocol(bad, FILE)).toThrow(/gain\.synthetic\.pixelAP\.baseline must be an arm the report has \(real, classic, synthetic\), got "flips"/);
  });

  it('escapes what the file says, labels the model\'s numbers as the model\'s, warns on dev folds and unfinished runs', () => {
    const r = good();
    r.classes[2] = HOSTILE;
    for (const a of Object.values(r.arms) as { perClass: Record<string, unknown> }[]) (a.perClass[HOSTILE] = a.perClass['Crack']), delete a.perClass['Crack'];
    for (const m of Object.values(r.gain.synthetic) as { perClass: Record<string, unknown> }[]) (m.perClass[HOSTILE] = m.perClass['Crack']), delete m.perClass['Crack'];
    r.synthetic.images[HOSTILE] = 1;
    delete r.synthetic.images['Crack'];
    Object.assign(r, { finalTestSource: HOSTILE, data: HOSTILE, split: 'dev', complete: false, recipe: { share: 0.5, perClass: 50, gate: { report: HOSTILE, judged: 9, flagged: 2 } } });
    const html = renderReport(input({ available: true, value: parseProtocol(r, { kind: 'model', modelId: `m${HOSTILE}`, file: `models/${HOSTILE}/downstream.json` }) }));
    expect(html).not.toContain('<img');
    expect(section(html)).toContain('&lt;img src=x onerror=alert(1)&gt;');
    const s = section(html);
    expect(s).toContain("These are the model's numbers, not this dataset's: the protocol report shipped with model <b>m&lt;img");
    expect(s).toContain('data-testid="protocol-dev"');
    expect(s).toContain('the generator may have seen these tiles');
    expect(s).toContain('Split <b>dev</b>: 3 development folds');
    expect(s).toContain('data-testid="protocol-incomplete"');
    expect(s).toContain('the first 50 per class in seed order, gate: the 2 images &lt;img');
  });

  it('not run: says so with the command, and the go / no-go checks do not depend on it', () => {
    const none = input({ available: false, why: 'no protocol report was given' });
    const s = section(renderReport(none));
    expect(s).toContain('data-testid="protocol-not-run"');
    expect(s).toContain('Not run: no protocol report was given.');
    expect(s).toContain('npm run downstream -- --data &lt;folder&gt; --synthetic &lt;set&gt; --generator &lt;model dir&gt; --out &lt;dir&gt; --final');
    const withIt = input({ available: true, value: p as ProtocolNumbers });
    expect(checks(withIt)).toEqual(checks(none));
    expect(verdict(checks(withIt))).toEqual(verdict(checks(none)));
    // placed after the downstream check, before the cost
    const html = renderReport(withIt);
    expect(html.indexOf('id="downstream"')).toBeLessThan(html.indexOf('id="protocol"'));
    expect(html.indexOf('id="protocol"')).toBeLessThan(html.indexOf('id="cost"'));
  });
});
