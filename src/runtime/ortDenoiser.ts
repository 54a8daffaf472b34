/**
 * Adapts an onnxruntime InferenceSession (web or node: the caller passes its own runtime's Tensor class) to
 * the core's DenoiseFn. Only types come from onnxruntime-common, so the same code serves the worker
 * (onnxruntime-web) and the command-line generator (onnxruntime-node or onnxruntime-web under Node).
 */
import type { InferenceSession, Tensor as OrtTensor, TypedTensor } from 'onnxruntime-common';
import type { DenoiseBatch, DenoiseFn } from '../core/model/denoiser';
import { StudioError } from '../core/errors';
import { checkSessionAgainstManifest, tensorName, type InputRole, type ModelManifest } from '../core/model/manifest';

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

/**
 * One model call with the largest class label the manifest can send (its last class and its null label, in a
 * batch of 2): a manifest that lists more classes than the network's class embedding has rows is refused at load,
 * instead of every Generate failing later with the runtime's index error. The output's size is checked too.
 */
export async function probeClassLabels(denoise: DenoiseFn, m: ModelManifest): Promise<void> {
  const { width: w, height: h, channels: c } = m.image;
  const n = 2 * c * h * w;
  const labels = [m.classes.length - 1, m.nullClassIndex];
  let out: Float32Array;
  try {
    out = await denoise({
      batch: 2, sample: new Float32Array(n), timestep: new Float32Array([0, 0]), classLabels: BigInt64Array.from(labels, (v) => BigInt(v)),
      defectMask: new Float32Array(n), knownImage: new Float32Array(n), keepMask: new Float32Array(n),
    });
  } catch (e) {
    throw new StudioError(
      'modelInvalid',
      `manifest.json does not match the ONNX file: it lists ${m.classes.length} classes (last index ${m.classes.length - 1}) and null label ${m.nullClassIndex}, but the network failed on class labels [${labels.join(', ')}] (${(e as Error).message}); the class list and nullClassIndex must match the network's class embedding`,
    );
  }
  if (out.length !== n) throw new StudioError('modelInvalid', `manifest.json does not match the ONNX file: a batch of 2 ${c}x${h}x${w} images gave ${out.length} output values, not ${n}`);
}
