import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadNodeModel } from './nodeModel';

/** The exported ONNX model, run by onnxruntime-node and by onnxruntime-web's WASM backend under Node, must
 * reproduce the PyTorch output that training/export.py recorded (tolerance from the file: 1e-4). */
const MODEL = 'magtile-defect-64';
const ref = JSON.parse(readFileSync(`training/reference/model_io_${MODEL}.json`, 'utf8'));
const f32 = (b64: string) => {
  const b = Buffer.from(b64, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
};
const i64 = (b64: string) => {
  const b = Buffer.from(b64, 'base64');
  return new BigInt64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
};

describe.each(['native', 'wasm'] as const)('exported model on %s', (backend) => {
  it('matches the PyTorch reference output', async () => {
    const model = await loadNodeModel(`public/models/${MODEL}`, backend, 1);
    expect(model.manifest.sha256).toBe(ref.sha256);
    const out = await model.denoise({
      batch: ref.inputs.sample.dims[0],
      sample: f32(ref.inputs.sample.base64),
      timestep: f32(ref.inputs.timestep.base64),
      classLabels: i64(ref.inputs.class_labels.base64),
      defectMask: f32(ref.inputs.defect_mask.base64),
      knownImage: f32(ref.inputs.known_image.base64),
      keepMask: f32(ref.inputs.keep_mask.base64),
    });
    const want = f32(ref.outputs.model_output.base64);
    let d = 0;
    for (let i = 0; i < want.length; i++) d = Math.max(d, Math.abs((out[i] as number) - (want[i] as number)));
    expect(d).toBeLessThan(ref.tolerance);
    await model.session.release();
  });
});

describe('loadNodeModel', () => {
  it('refuses a folder without manifest.json, naming what is expected', async () => {
    await expect(loadNodeModel('public', 'native')).rejects.toThrow(/manifest\.json does not exist; --model must be a folder/);
  });
});
