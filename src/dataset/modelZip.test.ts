import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { MAX_MODEL_JSON_BYTES, MAX_MODEL_ZIP_ENTRIES } from '../core/model/limits';
import { readModelZip } from './modelZip';

describe('readModelZip (issue 16 case 6)', () => {
  it('inflates only manifest.json, mask_library.json and the .onnx file', () => {
    const zip = zipSync({ 'm/manifest.json': strToU8('{"id":"x"}'), 'm/model.onnx': new Uint8Array([1, 2, 3]), 'm/mask_library.json': strToU8('{}'), 'm/notes.txt': strToU8('hello') });
    const r = readModelZip(zip, 'model.zip');
    expect(r.manifestText).toBe('{"id":"x"}');
    expect(r.maskLibraryText).toBe('{}');
    expect(Array.from(r.onnx ?? [])).toEqual([1, 2, 3]);
  });

  it('refuses a zip bomb from its central directory: an .onnx entry declared at 4 GB', () => {
    const zip = zipSync({ 'manifest.json': strToU8('{}'), 'model.onnx': new Uint8Array(1000) });
    for (let i = 0; i + 3 < zip.length; i++)
      if (zip[i] === 0x50 && zip[i + 1] === 0x4b && zip[i + 2] === 1 && zip[i + 3] === 2 && zip[i + 46] === 0x6d && zip[i + 47] === 0x6f)
        new DataView(zip.buffer, zip.byteOffset).setUint32(i + 24, 0xfffff000, true);
    expect(() => readModelZip(zip, 'bomb.zip')).toThrow(/^bomb\.zip: entry model\.onnx inflates to 4\.0 GB; the limit for one entry is 512\.0 MB$/);
  });

  it('refuses too many entries and an unreadable zip, naming the file', () => {
    const many = Object.fromEntries(Array.from({ length: MAX_MODEL_ZIP_ENTRIES + 1 }, (_, i) => [`f${i}.txt`, strToU8('x')]));
    expect(() => readModelZip(zipSync(many), 'many.zip')).toThrow(`many.zip has more than ${MAX_MODEL_ZIP_ENTRIES} entries; the limit is ${MAX_MODEL_ZIP_ENTRIES}`);
    expect(() => readModelZip(strToU8('not a zip'), 'x.zip')).toThrow(/^x\.zip is not a readable zip file \(.*\); accepted: a \.zip holding manifest\.json and the \.onnx file \(and optionally classifier\/manifest\.json, classifier\/model\.onnx, classifier\/reference_features\.json\)$/);
  });

  it("reads the model's own classifier from classifier/ apart from the model's files of the same names", () => {
    const zip = zipSync({
      'manifest.json': strToU8('{"id":"model"}'),
      'model.onnx': new Uint8Array([1, 2, 3]),
      'classifier/manifest.json': strToU8('{"id":"judge"}'),
      'classifier/model.onnx': new Uint8Array([9, 8]),
      'classifier/reference_features.json': strToU8('{"ref":1}'),
      'classifier/notes.txt': strToU8('ignored'),
    });
    const r = readModelZip(zip, 'with-judge.zip');
    expect(r.manifestText).toBe('{"id":"model"}');
    expect(Array.from(r.onnx ?? [])).toEqual([1, 2, 3]);
    expect(r.classifier?.manifestText).toBe('{"id":"judge"}');
    expect(r.classifier?.referenceFeaturesText).toBe('{"ref":1}');
    expect(Array.from(r.classifier?.onnx ?? [])).toEqual([9, 8]);
    // its own buffer, not a view into the zip's (the archive worker hands it to the page)
    expect(r.classifier?.onnx?.byteLength).toBe(r.classifier?.onnx?.buffer.byteLength);
  });

  it('a zip in a folder: <model>/classifier/ is the classifier; a zip without classifier/ has none', () => {
    const r = readModelZip(zipSync({ 'm/manifest.json': strToU8('{}'), 'm/model.onnx': new Uint8Array([1]), 'm/classifier/manifest.json': strToU8('{"c":1}') }), 'nested.zip');
    expect(r.manifestText).toBe('{}');
    expect(r.classifier).toEqual({ manifestText: '{"c":1}' });
    expect(readModelZip(zipSync({ 'manifest.json': strToU8('{}'), 'model.onnx': new Uint8Array([1]) }), 'plain.zip').classifier).toBeUndefined();
  });

  it("holds the classifier's JSON files to the model JSON limit", () => {
    const big = new Uint8Array(MAX_MODEL_JSON_BYTES + 1).fill(0x20);
    expect(() => readModelZip(zipSync({ 'manifest.json': strToU8('{}'), 'classifier/reference_features.json': big }), 'big.zip')).toThrow(
      /^big\.zip: classifier\/reference_features\.json is 16\.0 MB; the limit for a model's JSON file is 16\.0 MB$/,
    );
  });
});
