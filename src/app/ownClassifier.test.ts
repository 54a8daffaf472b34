import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classifierPart, fromZip, pickClassifierFiles, storedClassifier } from './ownClassifier';

const cdir = 'public/models/magtile-classifier-64';
const cManifest = readFileSync(`${cdir}/manifest.json`);
const cOnnx = readFileSync(`${cdir}/model.onnx`);
const cRef = readFileSync(`${cdir}/reference_features.json`);
const mManifest = Buffer.from(JSON.stringify({ task: 'denoiser', id: 'm', sha256: 'x' }));
const mOnnx = Buffer.from([1, 2, 3, 4]);
const file = (b: Buffer, name: string) => new File([new Uint8Array(b)], name);
const sha = (b: ArrayBuffer | Buffer) => createHash('sha256').update(new Uint8Array(b)).digest('hex');

describe('pickClassifierFiles (loose files of the Load model input)', () => {
  it("tells the classifier's manifest.json and model.onnx from the model's by the manifest's task and the ONNX file's sha256", async () => {
    const picked = await pickClassifierFiles([file(mManifest, 'manifest.json'), file(cOnnx, 'model.onnx'), file(mOnnx, 'model.onnx'), file(cManifest, 'manifest.json'), file(cRef, 'reference_features.json')]);
    expect(picked.rest.map((f) => f.size)).toEqual([mManifest.length, mOnnx.length]);
    expect(picked.classifier?.manifestText).toBe(cManifest.toString('utf8'));
    expect(picked.classifier?.referenceFeaturesText).toBe(cRef.toString('utf8'));
    expect(sha(picked.classifier?.onnx as ArrayBuffer)).toBe(sha(cOnnx));
  });

  it('no classifier files: all files are the model\'s; a lone reference file is carried for the check to name what is missing', async () => {
    const plain = await pickClassifierFiles([file(mManifest, 'manifest.json'), file(mOnnx, 'model.onnx')]);
    expect(plain.classifier).toBeUndefined();
    expect(plain.rest).toHaveLength(2);
    const lone = await pickClassifierFiles([file(mManifest, 'manifest.json'), file(mOnnx, 'model.onnx'), file(cRef, 'reference_features.json')]);
    expect(Object.keys(lone.classifier ?? {})).toEqual(['referenceFeaturesText']);
  });

  it("a classifier manifest without its ONNX file leaves the one .onnx to the model; several, none the classifier's, are refused", async () => {
    const one = await pickClassifierFiles([file(mManifest, 'manifest.json'), file(mOnnx, 'model.onnx'), file(cManifest, 'classifier.json')]);
    expect(one.rest.map((f) => f.name)).toEqual(['manifest.json', 'model.onnx']);
    expect(one.classifier?.onnx).toBeUndefined();
    await expect(pickClassifierFiles([file(mManifest, 'manifest.json'), file(mOnnx, 'a.onnx'), file(mOnnx, 'b.onnx'), file(cManifest, 'c.json')])).rejects.toThrow(
      /^none of a\.onnx, b\.onnx has the sha256 the classifier's c\.json names \([0-9a-f]{64}\); give the model's \.onnx file and the classifier's, or only the model's$/,
    );
    await expect(pickClassifierFiles([file(cManifest, 'x.json'), file(cManifest, 'y.json')])).rejects.toThrow('x.json and y.json are both classifier manifests; a model carries one classifier');
  });
});

describe('fromZip / storedClassifier / classifierPart', () => {
  it('a zip view becomes its own buffer; a stored record is read back by shape; the ONNX bytes are copied for a load', () => {
    const big = new Uint8Array([0, 7, 8, 9]);
    const z = fromZip({ manifestText: 'm', onnx: big.subarray(1) });
    expect(Array.from(new Uint8Array(z?.onnx as ArrayBuffer))).toEqual([7, 8, 9]);
    expect(fromZip(undefined)).toBeUndefined();
    const onnx = new Uint8Array([5]).buffer;
    const rec = { id: 'x', classifier: { manifestText: 'm', referenceFeaturesText: 'r', onnx, junk: 1 } };
    expect(storedClassifier(rec)).toEqual({ manifestText: 'm', referenceFeaturesText: 'r', onnx });
    expect(storedClassifier({ id: 'old record' })).toBeUndefined();
    const part = classifierPart(storedClassifier(rec));
    expect(part.classifier?.onnx).not.toBe(onnx);
    expect(Array.from(new Uint8Array(part.classifier?.onnx as ArrayBuffer))).toEqual([5]);
    expect(classifierPart(undefined)).toEqual({});
  });
});
