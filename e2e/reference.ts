/** Reads training/reference/model_io_<id>.json (written by training/export.py) for cross-backend checks. */
import { readFileSync } from 'node:fs';

interface RefTensor { dtype: 'float32' | 'int64'; dims: number[]; base64: string }
export interface ModelReference {
  modelId: string;
  sha256: string;
  tolerance: number;
  inputs: Record<string, RefTensor>;
  outputs: Record<string, RefTensor>;
}

export function readReference(modelId: string): ModelReference {
  return JSON.parse(readFileSync(`training/reference/model_io_${modelId}.json`, 'utf8')) as ModelReference;
}

export function decodeTensor(t: RefTensor): number[] {
  const buf = Buffer.from(t.base64, 'base64');
  if (t.dtype === 'int64') return Array.from(new BigInt64Array(buf.buffer, buf.byteOffset, buf.length / 8), Number);
  return Array.from(new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length)));
}

/** The reference inputs as plain arrays keyed by the DenoiseBatch field names. */
export function referenceBatch(ref: ModelReference) {
  const g = (n: string) => decodeTensor(ref.inputs[n] as RefTensor);
  return {
    batch: (ref.inputs['sample'] as RefTensor).dims[0] as number,
    sample: g('sample'),
    timestep: g('timestep'),
    classLabels: g('class_labels'),
    defectMask: g('defect_mask'),
    knownImage: g('known_image'),
    keepMask: g('keep_mask'),
  };
}
