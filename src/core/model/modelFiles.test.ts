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
    const other = onnx.slice();
    other[100] = (other[100] as number) ^ 1;
    let libAsked = false;
    await expect(readModelFiles(source({ onnx: async () => other, maskLibrary: async () => ((libAsked = true), { bad: true }) }), hex)).rejects.toThrow(/SHA-256 is [0-9a-f]{64} .* but manifest.json says/);
    expect(libAsked).toBe(true); // read, but the sha256 refusal comes first, not the library's
  });

  it('a bad manifest is refused with the field named', async () => {
    await expect(readModelFiles(source({ manifest: async () => ({ ...manifestRaw, sha256: 'xyz' }) }), hex)).rejects.toThrow(/"sha256" must be 64 lowercase hex/);
  });
});
