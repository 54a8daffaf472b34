/**
 * Adapts an onnxruntime InferenceSession (web or node: the caller passes its own runtime's Tensor class) to
 * the core's DenoiseFn. Only types come from onnxruntime-common, so the same code serves the worker
 * (onnxruntime-web) and the command-line generator (onnxruntime-node or onnxruntime-web under Node).
 */
import type { InferenceSession, Tensor as OrtTensor, TypedTensor } from 'onnxruntime-common';
import type { DenoiseBatch, DenoiseFn } from '../core/generate';
import { StudioError } from '../core/errors';
import { checkSessionAgainstManifest, tensorName, type InputRole, type ModelManifest } from '../core/manifest';

export interface TensorCtor {
  new (type: 'float32', data: Float32Array, dims: readonly number[]): TypedTensor<'float32'>;
  new (type: 'int64', data: BigInt64Array, dims: readonly number[]): TypedTensor<'int64'>;
}

export function createOrtDenoiser(session: InferenceSession, m: ModelManifest, Tensor: TensorCtor): DenoiseFn {
  checkSessionAgainstManifest(m, session.inputNames, session.outputNames);
  const outName = tensorName(m, 'modelOutput') as string;
  const { width: w, height: h, channels: c } = m.image;
  return async (b: DenoiseBatch) => {
    const img = [b.batch, c, h, w];
    const feeds: Record<string, OrtTensor> = {};
    const put = (role: InputRole, t: OrtTensor) => {
      const name = tensorName(m, role);
      if (name) feeds[name] = t;
    };
    put('sample', new Tensor('float32', b.sample, img));
    put('timestep', new Tensor('float32', b.timestep, [b.batch]));
    put('classLabels', new Tensor('int64', b.classLabels, [b.batch]));
    put('defectMask', new Tensor('float32', b.defectMask, img));
    put('knownImage', new Tensor('float32', b.knownImage, img));
    put('keepMask', new Tensor('float32', b.keepMask, img));
    let out;
    try {
      out = await session.run(feeds);
    } catch (e) {
      throw new StudioError('inference', `the model failed to run: ${(e as Error).message}`);
    }
    const t = out[outName];
    if (!t || t.type !== 'float32') throw new StudioError('inference', `model output "${outName}" is missing or not float32`);
    const data = (t.data as Float32Array).slice();
    t.dispose?.();
    return data;
  };
}
