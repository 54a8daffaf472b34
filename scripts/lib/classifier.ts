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

export interface ClassifierManifest {
  id: string;
  version: string;
  file: string;
  sha256: string;
  width: number;
  height: number;
  pixelRange: [number, number];
  inputName: string;
  logitsName: string;
  featuresName: string;
  classes: string[];
  featureDim: number;
  referenceFeatures: string;
}

function bad(field: string, problem: string): never {
  throw new StudioError('modelInvalid', `classifier manifest.json: field "${field}" ${problem}`);
}

export function parseClassifierManifest(raw: unknown): ClassifierManifest {
  if (typeof raw !== 'object' || raw === null) bad('(root)', 'must be an object');
  const m = raw as Record<string, unknown>;
  if (m['format'] !== 'defect-diffusion-model') bad('format', 'accepted: "defect-diffusion-model"');
  if (m['task'] !== 'classifier') bad('task', `is ${JSON.stringify(m['task'])}; accepted: "classifier" (a denoiser folder was given?)`);
  const image = m['image'] as Record<string, unknown> | undefined;
  if (!image || typeof image['width'] !== 'number' || typeof image['height'] !== 'number') bad('image', 'needs width and height');
  if (image['channels'] !== 1) bad('image.channels', 'accepted: 1');
  const range = image['pixelRange'] as [number, number] | undefined;
  if (!Array.isArray(range) || range.length !== 2) bad('image.pixelRange', 'must be [lo, hi]');
  const byRole = (list: unknown, role: string, field: string): string => {
    const e = Array.isArray(list) ? (list as Record<string, unknown>[]).find((x) => x['role'] === role) : undefined;
    if (!e || typeof e['name'] !== 'string') bad(field, `needs an entry with role "${role}"`);
    return e['name'] as string;
  };
  const classes = m['classes'];
  if (!Array.isArray(classes) || !classes.every((c) => typeof c === 'string')) bad('classes', 'must be a list of names');
  for (const k of ['id', 'version', 'file', 'sha256']) if (typeof m[k] !== 'string') bad(k, 'must be a string');
  if (typeof m['featureDim'] !== 'number') bad('featureDim', 'must be a number');
  return {
    id: m['id'] as string,
    version: m['version'] as string,
    file: m['file'] as string,
    sha256: m['sha256'] as string,
    width: image['width'] as number,
    height: image['height'] as number,
    pixelRange: [range[0], range[1]],
    inputName: byRole(m['inputs'], 'image', 'inputs'),
    logitsName: byRole(m['outputs'], 'logits', 'outputs'),
    featuresName: byRole(m['outputs'], 'features', 'outputs'),
    classes: classes as string[],
    featureDim: m['featureDim'] as number,
    referenceFeatures: typeof m['referenceFeatures'] === 'string' ? m['referenceFeatures'] : 'reference_features.json',
  };
}

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

