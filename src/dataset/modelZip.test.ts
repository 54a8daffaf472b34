import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { MAX_MODEL_ZIP_ENTRIES } from '../core/model/limits';
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
    expect(() => readModelZip(strToU8('not a zip'), 'x.zip')).toThrow(/^x\.zip is not a readable zip file \(.*\); accepted: a \.zip holding manifest\.json and the \.onnx file$/);
  });
});
