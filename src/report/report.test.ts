import { describe, expect, it } from 'vitest';
import type { Provenance } from '../core/model/protocol';
import type { DownstreamResult } from '../core/quality/downstream';
import { renderReport } from './html';
import { checks, classCounts, cost, kidPosition, verdict } from './summary';
import { DEFAULT_THRESHOLDS, parseThresholds, ThresholdError } from './thresholds';
import type { ReportInput, ReportRecord } from './types';

const HOSTILE = '<img src=x onerror=alert(1)>';
const SHA = 'a'.repeat(64);

function prov(className: string, ms: number, backend: Provenance['backend'] = 'wasm'): Provenance {
  return {
    className, prompt: '', seed: 1, sampler: 'dpmpp2m', steps: 4, guidance: 1.5, eta: 0, timestepSpacing: 'linspace', clipSample: true,
    modelId: 'm', modelVersion: '1', modelSha256: SHA, classIndex: 0, maskSource: 'library', maskSha256: SHA, inpainting: false, backend,
    timings: { totalMs: ms, modelMs: ms, steps: 4 }, threads: 2, modelEvaluations: 7,
  };
}
const rec = (id: string, className: string, status: ReportRecord['status'], ms: number, extra: Partial<ReportRecord> = {}): ReportRecord => ({ id, className, status, provenance: prov(className, ms), ...extra });

const records: ReportRecord[] = [
  rec('a', 'Crack', 'accepted', 2000),
  rec('b', 'Crack', 'accepted', 2000),
  rec('c', 'Crack', 'rejected', 2000, { rejectReason: HOSTILE }),
  rec('d', 'Crack', 'rejected', 2000, { rejectReason: HOSTILE }),
  rec('e', '<b>Cls</b>', 'rejected', 1000),
  rec('f', 'Blowhole', 'pending', 1000),
];

const downstream: DownstreamResult = {
  perClass: [{ f1RealOnly: 0.5, f1WithSynth: 0.6, delta: 0.1 }, { f1RealOnly: null, f1WithSynth: null, delta: null }],
  macroF1RealOnly: { mean: 0.5, std: 0.02 }, macroF1WithSynth: { mean: 0.6, std: 0.03 }, delta: { mean: 0.1, std: 0.02 },
  nTest: 3, nTrain: 9, nSynthetic: 2, seeds: [0, 1, 2, 3, 4],
};

function input(over: Partial<ReportInput> = {}): ReportInput {
  return {
    generatedAt: '2026-12-02T00:00:00.000Z', source: `export "${HOSTILE}".zip`, reviewed: true, classes: ['Blowhole', 'Crack'], records,
    quality: { available: false, why: 'no reference' }, downstream: { available: false, why: 'the studio has not run it' }, protocol: { available: false, why: 'none given' },
    models: [{ id: 'm', version: '1', sha256: SHA, citation: `Y. Huang et al. <script>alert(1)</script> doi:10.1007/s00371-018-1588-5` }],
    thresholds: DEFAULT_THRESHOLDS, thresholdsSource: 'defaults', ...over,
  };
}

describe('pilot report', () => {
  it('counts per class and reason, and the cost per accepted image', () => {
    const c = classCounts(records, ['Blowhole', 'Crack']);
    expect(c.map((k) => [k.className, k.accepted, k.rejected, k.pending])).toEqual([['Blowhole', 0, 0, 1], ['Crack', 2, 2, 0], ['<b>Cls</b>', 0, 1, 0]]);
    expect(c[1]?.reasons).toEqual([[HOSTILE, 2]]);
    expect(c[2]?.reasons).toEqual([['(no reason)', 1]]);
    const k = cost(records);
    expect(k.acceptanceRate).toBeCloseTo(2 / 5);
    expect(k.secondsPerAccepted).toBeCloseTo(10 / 2);
    expect(k.byBackend).toEqual([{ backend: 'wasm', threads: '2', images: 6, meanSeconds: 10 / 6, meanEvaluations: 7 }]);
  });

  it('escapes every user string: a hostile reject reason, class name, source and citation stay text', () => {
    const html = renderReport(input());
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<b>Cls</b>');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('&lt;b&gt;Cls&lt;/b&gt;');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    // the reason's count sits beside it in the reasons table
    expect(html).toMatch(/&lt;img src=x onerror=alert\(1\)&gt;<\/td><td class="num">2<\/td>/);
  });

  it('loads nothing: no script, no external resource, a CSP that forbids it', () => {
    const html = renderReport(input({ downstream: { available: true, value: { result: downstream, classes: ['Blowhole', 'Crack'], split: 'tile_group', heldOutImages: ['Crack/x.jpg'], heldOutGroups: ['g1'], testPerClass: [0, 3], trainPerClass: [4, 5], realSource: 'test' } } }));
    expect(html).not.toMatch(/<(script|link|img|iframe|object|embed|image|use)\b/i);
    expect(html).not.toMatch(/<[a-z][^>]*\s(src|href|xlink:href|srcset)\s*=/i); // no tag with a resource attribute
    expect(html).not.toMatch(/@import|url\(/i);
    expect(html.replace(/doi:[^<]*/g, '')).not.toMatch(/https?:\/\//);
    expect(html).toContain(`default-src 'none'`);
    expect(html.match(/<svg /g)).toHaveLength(2); // counts and downstream (no quality numbers given)
  });

  it('says the downstream check was not run instead of inventing numbers, and decides nothing then', () => {
    const html = renderReport(input());
    expect(html).toContain('data-testid="downstream-not-run"');
    expect(html).toContain('Not run: the studio has not run it');
    expect(html).not.toContain('macro-F1</b>');
    const cs = checks(input());
    expect(cs.find((c) => c.name === 'Downstream check')?.status).toBe('unknown');
    // Crack has 2 accepted, under 20: that is a no-go whatever else is missing
    expect(verdict(cs)).toEqual({ kind: 'no-go', failed: ['Accepted per class'] });
    const lenient = checks(input({ thresholds: { ...DEFAULT_THRESHOLDS, minAcceptedPerClass: 0 } }));
    expect(verdict(lenient).kind).toBe('undecided');
  });

  it('places KID between its reference points', () => {
    expect(kidPosition({ kid: { mean: 0.5 }, realKid: { mean: 0 }, freeKid: { mean: 1 } })).toBeCloseTo(0.5);
    expect(kidPosition({ kid: { mean: 0.5 }, realKid: { mean: 0 }, freeKid: null })).toBeNull();
  });

  it('thresholds: defaults, a user file, and a clear refusal of a bad value', () => {
    expect(parseThresholds({ minAcceptedPerClass: 5 })).toEqual({ ...DEFAULT_THRESHOLDS, minAcceptedPerClass: 5 });
    expect(() => parseThresholds({ minAcceptedPerClass: 2.5 })).toThrow(/minAcceptedPerClass must be an integer from 0/);
    expect(() => parseThresholds({ minAcceptanceRate: 2 })).toThrow(/minAcceptanceRate must be a number from 0 to 1/);
    expect(() => parseThresholds({ bogus: 1 })).toThrow(ThresholdError);
    expect(() => parseThresholds([1])).toThrow(/a JSON object/);
  });
});
