/**
 * Hostile and broken dataset zips (issue 16): each is refused before anything is stored, with a message that
 * names the file, the line and the field. And exports write only safe paths whatever the names.
 */
import { strFromU8, strToU8, unzipSync, zipSync, type Zippable } from 'fflate';
import { describe, expect, it } from 'vitest';
import { encodeGrayPng, encodeMaskPng } from '../core/formats/image';
import type { Provenance } from '../core/model/protocol';
import { SAMPLER_NAMES } from '../core/diffusion/samplers';
import { parseDatasetItem } from './record';
import { safePathSegment, unzipWithLimits } from './safeZip';
import type { DatasetItem, ItemImages } from './types';
import { buildExportZip, readExportZip } from './zip';

const W = 8, H = 8;
function entry(id: string, cls = 'Crack', status: DatasetItem['status'] = 'accepted'): { item: DatasetItem; images: ItemImages } {
  const provenance: Provenance = {
    modelId: 'm', modelVersion: '1', modelSha256: 'ab'.repeat(32), className: cls, classIndex: 0, prompt: '', seed: 3, sampler: 'dpmpp2m', steps: 20,
    guidance: 2, eta: 0, timestepSpacing: 'trailing', clipSample: true, maskSource: 'library', maskSha256: 'cd'.repeat(32), inpainting: false,
    backend: 'wasm', timings: { totalMs: 1, modelMs: 1, steps: 20 },
  };
  return {
    item: { id, createdAt: '2026-01-01T00:00:00.000Z', status, decidedAt: status === 'pending' ? null : '2026-01-02T00:00:00.000Z', className: cls, width: W, height: H, provenance, citation: 'Huang et al. 2020' },
    images: { id, png: encodeGrayPng(new Uint8Array(W * H).fill(90), W, H), maskPng: encodeMaskPng(new Uint8Array(W * H), W, H) },
  };
}

const good = [entry('a'), entry('b', 'Blowhole', 'rejected'), entry('c', 'Free', 'pending')];
const goodZip = buildExportZip(good.map((e) => e.item), new Map(good.map((e) => [e.item.id, e.images])), ['Blowhole', 'Crack', 'Free'], '2026-02-01T00:00:00Z');

type Line = Record<string, unknown> & { provenance: Record<string, unknown> };
/** The good export with its metadata lines (and optionally its files) changed. */
function crafted(edit: (lines: Line[]) => void, files?: (f: Zippable) => void): Uint8Array {
  const f: Zippable = { ...unzipSync(goodZip) };
  const lines = strFromU8(f['metadata.jsonl'] as Uint8Array).trim().split('\n').map((l) => JSON.parse(l) as Line);
  edit(lines);
  f['metadata.jsonl'] = strToU8(lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  files?.(f);
  return zipSync(f);
}

describe('readExportZip refuses a hostile or broken zip, naming file, line and field', () => {
  it('accepts the good export (the baseline the cases below break)', () => {
    expect(readExportZip(goodZip).items).toEqual(good.map((e) => e.item));
  });

  const cases: [string, Uint8Array, RegExp][] = [
    ['a line without provenance (case 1)', crafted((l) => delete (l[1] as Partial<Line>).provenance), /^metadata\.jsonl line 2, field provenance: missing; expected an object; nothing was imported$/],
    ['provenance.maskSha256 a number (case 1)', crafted((l) => ((l[0] as Line).provenance.maskSha256 = 5)), /^metadata\.jsonl line 1, field provenance\.maskSha256: expected a sha256 \(64 lowercase hex digits\), got 5; nothing was imported$/],
    ['a line without id (case 3)', crafted((l) => delete (l[1] as Line).id), /^metadata\.jsonl line 2, field id: missing; expected a string/],
    ['two lines with one id (case 4)', crafted((l) => ((l[2] as Line).id = 'a')), /^metadata\.jsonl line 3, field id: "a" is also the id on line 1; ids must be unique/],
    ['a line without createdAt (case 4)', crafted((l) => delete (l[0] as Line).createdAt), /^metadata\.jsonl line 1, field createdAt: missing; expected an ISO 8601 date/],
    ['a createdAt that is no date', crafted((l) => ((l[0] as Line).createdAt = 'yesterday')), /^metadata\.jsonl line 1, field createdAt: expected an ISO 8601 date .*, got "yesterday"/],
    ['an id with a path (case 5)', crafted((l) => ((l[0] as Line).id = '../../evil')), /^metadata\.jsonl line 1, field id: must not contain a path separator/],
    ['a class name with a control character', crafted((l) => { (l[0] as Line).className = 'Cr\u0007ck'; (l[0] as Line).provenance.className = 'Cr\u0007ck'; }), /^metadata\.jsonl line 1, field className: must not contain control characters/],
    ['className and provenance.className differ', crafted((l) => ((l[0] as Line).className = 'Blowhole')), /^metadata\.jsonl line 1, field provenance\.className: must equal the item's className "Blowhole", got "Crack"/],
    ['an unknown sampler', crafted((l) => ((l[0] as Line).provenance.sampler = 'euler')), new RegExp(`^metadata\\.jsonl line 1, field provenance\\.sampler: expected one of ${SAMPLER_NAMES.join(', ')}, got "euler"`)],
    ['a seed that is not an integer', crafted((l) => ((l[1] as Line).provenance.seed = 1.5)), /^metadata\.jsonl line 2, field provenance\.seed: expected an integer from 0 to 9007199254740991, got 1\.5/],
    ['steps out of range', crafted((l) => ((l[0] as Line).provenance.steps = 0)), /^metadata\.jsonl line 1, field provenance\.steps: expected an integer from 1 to 1000, got 0/],
    ['a bad status', crafted((l) => ((l[0] as Line).status = 'maybe')), /^metadata\.jsonl line 1, field status: expected one of pending, accepted, rejected, got "maybe"/],
    ['timings missing a field', crafted((l) => delete ((l[0] as Line).provenance.timings as Record<string, unknown>).modelMs), /^metadata\.jsonl line 1, field provenance\.timings\.modelMs: missing/],
    ['a bad guidance interval', crafted((l) => ((l[0] as Line).provenance.guidanceInterval = [3, 1])), /^metadata\.jsonl line 1, field provenance\.guidanceInterval: must satisfy 0 <= low < high/],
    ['modelEvaluations 0', crafted((l) => ((l[0] as Line).provenance.modelEvaluations = 0)), /^metadata\.jsonl line 1, field provenance\.modelEvaluations: expected an integer from 1 to/],
    ['modelEvaluations not an integer', crafted((l) => ((l[0] as Line).provenance.modelEvaluations = 2.5)), /^metadata\.jsonl line 1, field provenance\.modelEvaluations: expected an integer/],
    ['an unknown field', crafted((l) => ((l[0] as Line).provenance.__proto_pollution = 1)), /^metadata\.jsonl line 1, field provenance\.__proto_pollution: is not a field of a dataset item/],
    ['a line that is not an object', crafted((l) => l.splice(1, 0, [] as unknown as Line)), /^metadata\.jsonl line 2, field \(record\): expected a JSON object, got \[\]/],
    ['a width that does not match the PNG', crafted((l) => ((l[0] as Line).width = 9)), /^metadata\.jsonl line 1, field file: images\/Crack\/a\.png \(item a\) is 8x8 but the item is 9x8/],
    ['a non-PNG image (case 2)', crafted(() => undefined, (f) => (f['images/Crack/a.png'] = strToU8('GIF89a not a png'))), /^metadata\.jsonl line 1, field file: images\/Crack\/a\.png \(item a\) is not a readable PNG file \(wrong PNG signature\); accepted: PNG images; nothing was imported$/],
    ['a mask of another size', crafted(() => undefined, (f) => (f['review-masks/rejected/Blowhole/b.png'] = encodeMaskPng(new Uint8Array(16), 4, 4))), /^metadata\.jsonl line 2, field mask: review-masks\/rejected\/Blowhole\/b\.png \(item b\) is 4x4 but the item is 8x8/],
    ['a missing mask file', crafted((l) => ((l[0] as Line).mask = 'masks/Crack/zz.png')), /^metadata\.jsonl line 1, field mask: names masks\/Crack\/zz\.png, which the zip does not contain/],
    ['a line that is not JSON', crafted(() => undefined, (f) => (f['metadata.jsonl'] = strToU8('{"id": "a"\n'))), /^metadata\.jsonl line 1 is not valid JSON; nothing was imported$/],
  ];
  for (const [name, zip, message] of cases)
    it(`refuses ${name}`, () => {
      expect(() => readExportZip(zip)).toThrow(message);
    });

  it('with skipBad, reports each bad line and keeps the good ones (for npm run reproduce)', () => {
    const zip = crafted((l) => { delete (l[0] as Partial<Line>).provenance; (l[2] as Line).provenance.seed = -1; });
    const r = readExportZip(zip, { skipBad: true });
    expect(r.items.map((i) => i.id)).toEqual(['b']);
    expect(r.skipped).toEqual([
      { line: 1, problem: 'metadata.jsonl line 1, field provenance: missing; expected an object' },
      { line: 3, problem: 'metadata.jsonl line 3, field provenance.seed: expected an integer from 0 to 9007199254740991, got -1' },
    ]);
  });

  it('accepts the optional provenance fields a newer studio writes (modelEvaluations >= 1, threads)', () => {
    const zip = crafted((l) => Object.assign((l[0] as Line).provenance, { modelEvaluations: 40, threads: 2 }));
    expect(readExportZip(zip).items[0]?.provenance).toMatchObject({ modelEvaluations: 40, threads: 2 });
  });

  it('reads a tiled photo item\'s tiling back, and refuses a bad one naming the field', () => {
    const tiling = { method: 'multidiffusion', weighting: 'tent', rowsPerCall: 32, feather: 6, reach: 4 };
    const zip = crafted((l) => Object.assign((l[0] as Line).provenance, { tiling }));
    expect(readExportZip(zip).items[0]?.provenance.tiling).toEqual(tiling);
    const bad = crafted((l) => Object.assign((l[0] as Line).provenance, { tiling: { ...tiling, method: 'stitch' } }));
    expect(() => readExportZip(bad)).toThrow(/line 1, field provenance\.tiling: tiling method must be "multidiffusion"/);
  });

  it('writes a rejected item\'s rejectReason into metadata.jsonl and reads it back; refuses one that is not a string or over 500 characters', () => {
    const rejected = { ...entry('r', 'Crack', 'rejected').item, rejectReason: 'Crack broken into pieces' };
    const zip = buildExportZip([rejected], new Map([['r', entry('r').images]]), ['Crack'], '2026-02-01T00:00:00Z');
    const line = JSON.parse(strFromU8(unzipSync(zip)['metadata.jsonl'] as Uint8Array).trim()) as Line;
    expect(line.rejectReason).toBe('Crack broken into pieces');
    expect(readExportZip(zip).items[0]?.rejectReason).toBe('Crack broken into pieces');
    expect(parseDatasetItem(good[1]?.item).rejectReason).toBeUndefined();
    expect(parseDatasetItem({ ...rejected, rejectReason: 'x'.repeat(500) }).rejectReason).toHaveLength(500);
    expect(() => parseDatasetItem({ ...rejected, rejectReason: 'x'.repeat(501) })).toThrow(/^field rejectReason: must be at most 500 characters, got 501$/);
    expect(() => parseDatasetItem({ ...rejected, rejectReason: 7 })).toThrow(/^field rejectReason: expected a string, got 7$/);
  });

  it('reads a quality record whose uncalibrated threshold JSON wrote as null back as NaN', () => {
    const quality = { classifierId: 'c', predictedClass: 'Crack', confidence: 0.9, requestedProbability: 0.9, consistent: true, nearestRefDistance: 1, memorisationThreshold: null, outlierScore: 1, outlierThreshold: 2, flags: ['outlier'], features: [0.5, 1] };
    const item = parseDatasetItem({ ...good[0]?.item, quality });
    expect(item.quality?.memorisationThreshold).toBeNaN();
    expect(() => parseDatasetItem({ ...good[0]?.item, quality: { ...quality, flags: ['evil'] } })).toThrow(/^field quality\.flags\[0\]: expected one of inconsistent, memorised, outlier, got "evil"$/);
  });
});

describe('import limits, checked on the central directory before inflating', () => {
  it('refuses more entries than the limit', () => {
    expect(() => readExportZip(goodZip, { limits: { maxEntries: 3, maxTotalBytes: 2 ** 30 } })).toThrow(/^the dataset zip has more than 3 entries; the limit is 3$/);
  });

  it('refuses a zip that inflates past the limit, naming both sizes', () => {
    const bomb = zipSync({ 'metadata.jsonl': new Uint8Array(4 * 2 ** 20) });
    expect(bomb.length).toBeLessThan(64 * 1024);
    expect(() => readExportZip(bomb, { limits: { maxEntries: 10, maxTotalBytes: 2 ** 20 } })).toThrow(/^the dataset zip: entry metadata\.jsonl inflates to 4\.0 MB; the limit for one entry is 1\.0 MB$/);
  });

  it('refuses a central directory that declares 4 GB without allocating it', () => {
    const zip = zipSync({ 'metadata.jsonl': strToU8('x'.repeat(1000)) });
    // Central directory header (PK\x01\x02): uncompressed size at offset 24.
    const cd = zip.findIndex((_, i) => zip[i] === 0x50 && zip[i + 1] === 0x4b && zip[i + 2] === 1 && zip[i + 3] === 2);
    new DataView(zip.buffer, zip.byteOffset).setUint32(cd + 24, 0xfffff000, true);
    expect(() => readExportZip(zip)).toThrow(/^the dataset zip: entry metadata\.jsonl inflates to 4\.0 GB; the limit for one entry is 1\.0 GB$/);
  });

  it('counts the declared sizes over all entries', () => {
    const files = { 'a.bin': new Uint8Array(600 * 1024), 'b.bin': new Uint8Array(600 * 1024) };
    expect(() => unzipWithLimits(zipSync(files), { what: 'x.zip', code: 'modelInvalid', accepted: 'a model zip', maxEntries: 5, maxTotalBytes: 2 ** 20 })).toThrow(/^x\.zip inflates to more than 1\.2 MB \(at entry b\.bin\); the limit is 1\.0 MB$/);
  });
});

describe('exports write safe paths (case 5)', () => {
  it('makes every name one safe segment, and different names different segments', () => {
    for (const n of ['..', '../../evil', 'a/b', 'a\\b', 'x<y>', 'q:"|?*', 'tab\there', 'CON', 'nul.txt', ' trailing. ', '.hidden', ''])
      expect(safePathSegment(n)).toMatch(/^(?!\.)(?!(con|prn|aux|nul|com\d|lpt\d)(\.|$))[^\u0000-\u001f/\\<>:"|?*]*[^. ]$/i);
    expect(safePathSegment('Crack')).toBe('Crack');
    expect(safePathSegment('a/b')).not.toBe(safePathSegment('a_b'));
    expect(safePathSegment('a_b')).toBe('a_b');
  });

  it('writes no traversal or Windows-forbidden path for hostile class names and ids, and imports its own export', () => {
    const hostile = [entry('x<y>:z|w?', 'Crack*'), entry('CON', 'AUX', 'rejected'), entry('evil..', '..evil', 'pending')];
    const zip = buildExportZip(hostile.map((e) => e.item), new Map(hostile.map((e) => [e.item.id, e.images])), ['Crack*', 'AUX', '..evil'], '2026-02-01T00:00:00Z');
    const names = Object.keys(unzipSync(zip));
    for (const n of names) {
      expect(n.split('/').every((s) => s !== '..' && s !== '.' && s.length > 0 && !/[\u0000-\u001f\\<>:"|?*]/.test(s))).toBe(true);
      expect(n.split('/').every((s) => !/^(con|aux)(\.|$)/i.test(s))).toBe(true);
    }
    expect(readExportZip(zip).items).toEqual(hostile.map((e) => e.item));
  });

  it('refuses to write an item whose stored mask is not a PNG, naming the item (case 2)', () => {
    const bad = entry('m1');
    expect(() => buildExportZip([bad.item], new Map([['m1', { ...bad.images, maskPng: strToU8('nope') }]]), ['Crack'], '2026-02-01T00:00:00Z')).toThrow(/^item m1: its stored mask is not a readable PNG file/);
  });
});
