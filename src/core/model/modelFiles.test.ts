import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readModelFiles, type ModelFileSource } from './modelFiles';

const dir = 'public/models/magtile-defect-64';
const manifestRaw = JSON.parse(readFileSync(`${dir}/manifest.json`, 'utf8')) as Record<string, unknown>;
const onnx = readFileSync(`${dir}/model.onnx`);
const lib = JSON.parse(readFileSync(`${dir}/mask_library.json`, 'utf8')) as unknown;
const hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function source(over: Partial<ModelFileSource<Uint8Array>> = {}, asked: string[] = []): ModelFileSource<Uint8Array> {
  return {
    fetched: true,
    manifest: async () => (asked.push('manifest'), manifestRaw),
    onnx: async (file) => (asked.push(`onnx:${file}`), onnx),
    maskLibrary: async () => (asked.push('lib'), lib),
    ...over,
  };
}

describe('readModelFiles', () => {
  it('reads the manifest once, the ONNX file it names, then the library, marking the phases the bench prints', async () => {
    const asked: string[] = [];
    const phases: string[] = [];
    const files = await readModelFiles(source({}, asked), hex, (p) => phases.push(p));
    expect(asked).toEqual(['manifest', `onnx:${manifestRaw['file'] as string}`, 'lib']);
    expect(phases).toEqual(['fetch manifest + model', 'fetch mask library', 'sha256']);
    expect(files.manifest.id).toBe('magtile-defect-64');
    expect(files.onnx).toBe(onnx);
    expect(files.maskLibrary).not.toBeNull();
  });

  it('bytes at hand are not timed as a fetch; no library gives null', async () => {
    const phases: string[] = [];
    const files = await readModelFiles(source({ fetched: false, maskLibrary: async () => undefined }), hex, (p) => phases.push(p));
    expect(phases).toEqual(['fetch mask library', 'sha256']);
    expect(files.maskLibrary).toBeNull();
  });

  it('refuses an ONNX file that is not the one the manifest names (sha256), before parsing the library', async () => {
    const other = Uint8Array.from(onnx); // a copy (Buffer.slice is a view: flipping its byte would corrupt the shared file for the later tests)
    other[100] = (other[100] as number) ^ 1;
    let libAsked = false;
    await expect(readModelFiles(source({ onnx: async () => other, maskLibrary: async () => ((libAsked = true), { bad: true }) }), hex)).rejects.toThrow(/SHA-256 is [0-9a-f]{64} .* but manifest.json says/);
    expect(libAsked).toBe(true); // read, but the sha256 refusal comes first, not the library's
  });

  it('a bad manifest is refused with the field named', async () => {
    await expect(readModelFiles(source({ manifest: async () => ({ ...manifestRaw, sha256: 'xyz' }) }), hex)).rejects.toThrow(/"sha256" must be 64 lowercase hex/);
  });

  it("reads the model's classifier/ files after the library, without judging them; a source without the method has none", async () => {
    const asked: string[] = [];
    const phases: string[] = [];
    const own = { manifestText: '{"task":"classifier"}', onnx: new Uint8Array([1]), referenceFeaturesText: '{}' };
    const files = await readModelFiles(source({ classifier: async () => (asked.push('classifier'), own) }, asked), hex, (p) => phases.push(p));
    expect(asked).toEqual(['manifest', `onnx:${manifestRaw['file'] as string}`, 'lib', 'classifier']);
    expect(phases).toEqual(['fetch manifest + model', 'fetch mask library', 'sha256', 'fetch classifier/']);
    expect(files.classifier).toBe(own);
    expect((await readModelFiles(source(), hex)).classifier).toBeNull();
    expect((await readModelFiles(source({ classifier: async () => undefined }), hex)).classifier).toBeNull();
  });

  it('a classifier that cannot be read is a problem of the judge, not a refusal of the model', async () => {
    const files = await readModelFiles(source({ classifier: async () => Promise.reject(new Error('HTTP 500')) }), hex);
    expect(files.manifest.id).toBe('magtile-defect-64');
    expect(files.classifier).toEqual({ problem: 'its classifier/ files could not be read: HTTP 500' });
  });
});
