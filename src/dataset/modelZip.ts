/**
 * A model .zip (manifest.json + the .onnx file + optional mask_library.json and part_masks.json, and optionally the
 * model's own evaluation classifier in classifier/: manifest.json, model.onnx, reference_features.json), read in
 * the archive worker with the model limits: entries and sizes are checked on the central directory before
 * anything is inflated, and only the files a model needs are inflated at all. A file whose folder is named
 * `classifier` is the classifier's; the others are the denoiser's (in the zip's root or one folder down).
 */
import { strFromU8 } from 'fflate';
import { StudioError } from '../core/errors';
import { formatBytes, MAX_MODEL_JSON_BYTES, MAX_MODEL_ONNX_BYTES, MAX_MODEL_ZIP_ENTRIES, MAX_MODEL_ZIP_INFLATED_BYTES } from '../core/model/limits';
import type { OwnClassifierFiles } from '../core/model/modelFiles';
import { unzipWithLimits } from './safeZip';

export interface ModelFiles {
  manifestText?: string;
  onnx?: Uint8Array;
  maskLibraryText?: string;
  /** whole-part masks for photos (src/core/formats/partMasks.ts) */
  partMasksText?: string;
  /** the model's own evaluation classifier (classifier/ in the zip); absent when the zip carries none */
  classifier?: OwnClassifierFiles<Uint8Array>;
}

const base = (p: string) => p.split('/').pop()?.toLowerCase() ?? '';
/** true for a file inside a folder named "classifier" (classifier/model.onnx, <model>/classifier/manifest.json) */
const inClassifier = (p: string) => p.split('/').slice(0, -1).pop()?.toLowerCase() === 'classifier';
const JSON_FILES = ['manifest.json', 'mask_library.json', 'part_masks.json'];
const CLASSIFIER_JSON = ['manifest.json', 'reference_features.json'];
const isJson = (p: string) => (inClassifier(p) ? CLASSIFIER_JSON : JSON_FILES).includes(base(p));

export function readModelZip(bytes: Uint8Array, name: string): ModelFiles {
  const files = unzipWithLimits(bytes, {
    what: name,
    code: 'modelInvalid',
    accepted: 'a .zip holding manifest.json and the .onnx file (and optionally classifier/manifest.json, classifier/model.onnx, classifier/reference_features.json)',
    maxEntries: MAX_MODEL_ZIP_ENTRIES,
    maxTotalBytes: MAX_MODEL_ZIP_INFLATED_BYTES,
    maxEntryBytes: MAX_MODEL_ONNX_BYTES,
    want: (p) => !p.endsWith('/') && (isJson(p) || base(p).endsWith('.onnx')),
  });
  const out: ModelFiles = {};
  for (const [p, b] of Object.entries(files)) {
    if (isJson(p) && b.length > MAX_MODEL_JSON_BYTES)
      throw new StudioError('modelInvalid', `${name}: ${p} is ${formatBytes(b.length)}; the limit for a model's JSON file is ${formatBytes(MAX_MODEL_JSON_BYTES)}`);
    if (inClassifier(p)) {
      const c = (out.classifier ??= {});
      if (base(p) === 'manifest.json') c.manifestText = strFromU8(b);
      else if (base(p) === 'reference_features.json') c.referenceFeaturesText = strFromU8(b);
      // its own buffer: a stored entry is a view into the zip's, which would be copied whole to the page
      else c.onnx = b.slice();
    } else if (base(p) === 'manifest.json') out.manifestText = strFromU8(b);
    else if (base(p) === 'mask_library.json') out.maskLibraryText = strFromU8(b);
    else if (base(p) === 'part_masks.json') out.partMasksText = strFromU8(b);
    else out.onnx = b;
  }
  return out;
}
