/**
 * A user model's own evaluation classifier (its judge: src/core/quality/judgeChoice.ts) on the way in: picked out
 * of loose files (the Load model input: the classifier's manifest.json, model.onnx and reference_features.json
 * beside the model's), taken from a model zip's classifier/ folder, and read back from a stored model record.
 * The worker checks the files; a bad classifier leaves the model without a judge, not unloaded.
 */
import { StudioError } from '../core/errors';
import { formatBytes, MAX_MODEL_JSON_BYTES, MAX_MODEL_ONNX_BYTES } from '../core/model/limits';
import type { OwnClassifierFiles } from '../core/model/modelFiles';
import type { ClassifierFiles } from '../core/model/protocol';
import { sha256Hex } from '../runtime/webSha256';

const MODEL_JSON = ['mask_library.json', 'part_masks.json'];

function tooBig(f: File, limit: number, what: string): void {
  if (f.size > limit) throw new StudioError('modelInvalid', `${f.name} is ${formatBytes(f.size)}; the limit for ${what} is ${formatBytes(limit)}`);
}

/**
 * Splits loose model files into the model's (`rest`, read as before) and its classifier's: reference_features.json;
 * a JSON file whose "task" is "classifier" (its manifest.json, whatever the file is called); the .onnx file whose
 * sha256 is the one that manifest names. Two classifier manifests, or several .onnx files none of which is the
 * classifier's, are refused, naming the files.
 */
export async function pickClassifierFiles(files: readonly File[]): Promise<{ rest: File[]; classifier?: ClassifierFiles }> {
  const rest: File[] = [];
  const onnxFiles: File[] = [];
  let manifest: { file: File; text: string; sha256: unknown } | null = null;
  let reference: File | null = null;
  for (const f of files) {
    const name = f.name.toLowerCase();
    if (name === 'reference_features.json') {
      tooBig(f, MAX_MODEL_JSON_BYTES, "a classifier's JSON file");
      reference = f;
    } else if (name.endsWith('.json') && !MODEL_JSON.includes(name)) {
      tooBig(f, MAX_MODEL_JSON_BYTES, "a model's JSON file");
      const text = await f.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        rest.push(f); // the model's reader says it is not valid JSON
        continue;
      }
      const p = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
      if (p['task'] !== 'classifier') rest.push(f);
      else if (manifest) throw new StudioError('modelInvalid', `${manifest.file.name} and ${f.name} are both classifier manifests; a model carries one classifier`);
      else manifest = { file: f, text, sha256: p['sha256'] };
    } else if (name.endsWith('.onnx')) onnxFiles.push(f);
    else rest.push(f);
  }
  if (!manifest && !reference) return { rest: [...rest, ...onnxFiles] };
  let onnx: ArrayBuffer | undefined;
  if (manifest) {
    const shas = await Promise.all(onnxFiles.map(async (f) => (tooBig(f, MAX_MODEL_ONNX_BYTES, 'an .onnx file'), sha256Hex(await f.arrayBuffer()))));
    const k = shas.indexOf(String(manifest.sha256));
    if (k >= 0) onnx = await ((onnxFiles.splice(k, 1)[0]) as File).arrayBuffer();
    else if (onnxFiles.length > 1)
      throw new StudioError('modelInvalid', `none of ${onnxFiles.map((f) => f.name).join(', ')} has the sha256 the classifier's ${manifest.file.name} names (${String(manifest.sha256)}); give the model's .onnx file and the classifier's, or only the model's`);
  }
  return {
    rest: [...rest, ...onnxFiles],
    classifier: {
      ...(manifest ? { manifestText: manifest.text } : {}),
      ...(onnx ? { onnx } : {}),
      ...(reference ? { referenceFeaturesText: await reference.text() } : {}),
    },
  };
}

/** A zip's classifier/ files (src/dataset/modelZip.ts) as the worker takes them. */
export function fromZip(c: OwnClassifierFiles<Uint8Array> | undefined): ClassifierFiles | undefined {
  if (!c) return undefined;
  const onnx = c.onnx ? (c.onnx.byteOffset === 0 && c.onnx.byteLength === c.onnx.buffer.byteLength ? (c.onnx.buffer as ArrayBuffer) : (c.onnx.slice().buffer as ArrayBuffer)) : undefined;
  return { ...(c.manifestText !== undefined ? { manifestText: c.manifestText } : {}), ...(onnx ? { onnx } : {}), ...(c.referenceFeaturesText !== undefined ? { referenceFeaturesText: c.referenceFeaturesText } : {}) };
}

/**
 * The classifier stored with a user model (IndexedDB record field `classifier`), when it has one of the stored
 * shape; spread into a ModelSource or a record as `...classifierPart(c)`. The ONNX bytes are copied, because a
 * load transfers them to the worker.
 */
export function storedClassifier(rec: object): ClassifierFiles | undefined {
  const c = (rec as { classifier?: unknown }).classifier;
  if (typeof c !== 'object' || c === null) return undefined;
  const o = c as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const files: ClassifierFiles = {};
  if (text(o['manifestText']) !== undefined) files.manifestText = text(o['manifestText']) as string;
  if (text(o['referenceFeaturesText']) !== undefined) files.referenceFeaturesText = text(o['referenceFeaturesText']) as string;
  if (o['onnx'] instanceof ArrayBuffer) files.onnx = o['onnx'];
  return files;
}

export function classifierPart(c: ClassifierFiles | undefined): { classifier?: ClassifierFiles } {
  return c ? { classifier: { ...c, ...(c.onnx ? { onnx: c.onnx.slice(0) } : {}) } } : {};
}
