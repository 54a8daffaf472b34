/**
 * The embedded evaluation classifier under Node (onnxruntime-node): manifest.json + model.onnx (sha256 checked)
 * + reference_features.json (checked to belong to this ONNX file), and embed() for 8-bit grayscale windows.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InferenceSession } from 'onnxruntime-common';
import { StudioError } from '../../src/core/errors';
import { fromUint8 } from '../../src/core/formats/image';
import { parseReferenceFeatures, type ReferenceFeatures } from '../../src/core/quality/features';
import { parseClassifierManifest, type ClassifierManifest } from '../../src/core/quality/classifierManifest';

export { parseClassifierManifest, type ClassifierManifest } from '../../src/core/quality/classifierManifest';

export interface Embedding {
  logits: Float32Array[];
  features: Float32Array[];
}

export interface NodeClassifier {
  manifest: ClassifierManifest;
  reference: ReferenceFeatures;
  /** images: width x height 8-bit grayscale (row-major), in batches of `batch`. */
  embed(images: readonly Uint8Array[], batch?: number): Promise<Embedding>;
  release(): Promise<void>;
}

export const DEFAULT_CLASSIFIER = 'public/models/magtile-classifier-64';

export async function loadClassifier(dir: string = DEFAULT_CLASSIFIER, threads = 1): Promise<NodeClassifier> {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) throw new StudioError('modelInvalid', `${manifestPath} does not exist; the classifier folder must hold manifest.json, the ONNX file and reference_features.json`);
  const manifest = parseClassifierManifest(JSON.parse(readFileSync(manifestPath, 'utf8')));
  const bytes = readFileSync(join(dir, manifest.file));
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== manifest.sha256) throw new StudioError('modelInvalid', `${join(dir, manifest.file)}: sha256 ${sha} does not match the manifest's ${manifest.sha256}`);
  const refPath = join(dir, manifest.referenceFeatures);
  if (!existsSync(refPath)) throw new StudioError('modelInvalid', `${refPath} does not exist`);
  const reference = parseReferenceFeatures(JSON.parse(readFileSync(refPath, 'utf8')));
  if (reference.classifierSha256 && reference.classifierSha256 !== manifest.sha256)
    throw new StudioError('modelInvalid', `${refPath} was made with classifier ${reference.classifierSha256}, not this ${manifest.sha256}`);
  if (reference.featureDim !== manifest.featureDim) throw new StudioError('modelInvalid', `${refPath}: featureDim ${reference.featureDim} != manifest ${manifest.featureDim}`);
  // onnxruntime-node is CommonJS: under ESM loaders its API may sit on the default export or on the namespace.
  const mod: typeof import('onnxruntime-node') & { default?: typeof import('onnxruntime-node') } = await import('onnxruntime-node');
  const ort = mod.default ?? mod;
  const session: InferenceSession = await ort.InferenceSession.create(bytes, { intraOpNumThreads: Math.max(1, threads), interOpNumThreads: 1, executionMode: 'sequential' });
  const { width: W, height: H, featureDim: D } = manifest;
  const C = manifest.classes.length;

  async function embed(images: readonly Uint8Array[], batch = 64): Promise<Embedding> {
    const logits: Float32Array[] = [];
    const features: Float32Array[] = [];
    for (let s = 0; s < images.length; s += batch) {
      const chunk = images.slice(s, s + batch);
      const data = new Float32Array(chunk.length * W * H);
      chunk.forEach((px, i) => {
        if (px.length !== W * H) throw new StudioError('badRequest', `image ${s + i} has ${px.length} pixels; the classifier takes ${W}x${H}`);
        data.set(fromUint8(px, manifest.pixelRange), i * W * H);
      });
      const out = await session.run({ [manifest.inputName]: new ort.Tensor('float32', data, [chunk.length, 1, H, W]) });
      const lo = out[manifest.logitsName]?.data as Float32Array | undefined;
      const fe = out[manifest.featuresName]?.data as Float32Array | undefined;
      if (!lo || !fe || lo.length !== chunk.length * C || fe.length !== chunk.length * D)
        throw new StudioError('inference', `classifier outputs ${manifest.logitsName}/${manifest.featuresName} missing or of the wrong size`);
      for (let i = 0; i < chunk.length; i++) {
        logits.push(lo.slice(i * C, (i + 1) * C));
        features.push(fe.slice(i * D, (i + 1) * D));
      }
    }
    return { logits, features };
  }
  return { manifest, reference, embed, release: () => session.release() };
}

