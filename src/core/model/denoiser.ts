/**
 * The denoiser network as the samplers call it: the ONNX model contract (docs/architecture.md) as one batched
 * function, whatever runs it (onnxruntime-web in the worker, onnxruntime-node in the CLI, a stub in tests).
 */

/** One batched model call. Arrays are batch-major; classLabels are int64 as the ONNX contract says. */
export interface DenoiseBatch {
  batch: number;
  sample: Float32Array;
  timestep: Float32Array;
  classLabels: BigInt64Array;
  defectMask: Float32Array;
  knownImage: Float32Array;
  keepMask: Float32Array;
}
export type DenoiseFn = (inputs: DenoiseBatch) => Promise<Float32Array>;
