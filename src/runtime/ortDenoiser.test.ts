import * as ortNode from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNodeModel } from '../../scripts/lib/nodeModel';
import { createOrtDenoiser, probeClassLabels, type TensorCtor } from './ortDenoiser';

const ort = (ortNode as typeof ortNode & { default?: typeof ortNode }).default ?? ortNode;

describe('probeClassLabels (issue 16 case 9)', async () => {
  const model = await loadNodeModel('public/models/magtile-defect-64', 'native', 1);
  afterAll(() => model.session.release());

  it('passes the shipped model, whose manifest matches its class embedding', async () => {
    await expect(probeClassLabels(model.denoise, model.manifest)).resolves.toBeUndefined();
  });

  it('refuses a manifest that lists 10,000 classes for the network, naming the counts', async () => {
    const classes = Array.from({ length: 10_000 }, (_, i) => model.manifest.classes[i] ?? `c${i}`);
    const lying = { ...model.manifest, classes, nullClassIndex: 10_000 };
    const denoise = createOrtDenoiser(model.session, lying, ort.Tensor as unknown as TensorCtor);
    await expect(probeClassLabels(denoise, lying)).rejects.toThrow(
      /^manifest\.json does not match the ONNX file: it lists 10000 classes \(last index 9999\) and null label 10000, but the network failed on class labels \[9999, 10000\] \(the model failed to run: .*\); the class list and nullClassIndex must match the network's class embedding$/s,
    );
  });
});
