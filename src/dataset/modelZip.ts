/**
 * A model .zip (manifest.json + the .onnx file + optional mask_library.json and part_masks.json), read in the archive worker with
 * the model limits: entries and sizes are checked on the central directory before anything is inflated, and
 * only the files a model needs are inflated at all.
 */
import { strFromU8 } from 'fflate';
import { StudioError } from '../core/errors';
import { formatBytes, MAX_MODEL_JSON_BYTES, MAX_MODEL_ONNX_BYTES, MAX_MODEL_ZIP_ENTRIES, MAX_MODEL_ZIP_INFLATED_BYTES } from '../core/model/limits';
import { unzipWithLimits } from './safeZip';

export interface ModelFiles {
  manifestText?: string;
  onnx?: Uint8Array;
  maskLibraryText?: string;
  /** whole-part masks for photos (src/core/formats/partMasks.ts) */
  partMasksText?: string;
}

const base = (p: string) => p.split('/').pop()?.toLowerCase() ?? '';
const JSON_FILES = ['manifest.json', 'mask_library.json', 'part_masks.json'];
const isJson = (p: string) => JSON_FILES.includes(base(p));

export function readModelZip(bytes: Uint8Array, name: string): ModelFiles {
  const files = unzipWithLimits(bytes, {
    what: name,
    code: 'modelInvalid',
    accepted: 'a .zip holding manifest.json and the .onnx file',
    maxEntries: MAX_MODEL_ZIP_ENTRIES,
    maxTotalBytes: MAX_MODEL_ZIP_INFLATED_BYTES,
    maxEntryBytes: MAX_MODEL_ONNX_BYTES,
    want: (p) => !p.endsWith('/') && (isJson(p) || base(p).endsWith('.onnx')),
  });
  const out: ModelFiles = {};
  for (const [p, b] of Object.entries(files)) {
    if (isJson(p) && b.length > MAX_MODEL_JSON_BYTES)
      throw new StudioError('modelInvalid', `${name}: ${p} is ${formatBytes(b.length)}; the limit for a model's JSON file is ${formatBytes(MAX_MODEL_JSON_BYTES)}`);
    if (base(p) === 'manifest.json') out.manifestText = strFromU8(b);
    else if (base(p) === 'mask_library.json') out.maskLibraryText = strFromU8(b);
    else if (base(p) === 'part_masks.json') out.partMasksText = strFromU8(b);
    else out.onnx = b;
  }
  return out;
}
