/**
 * The evaluation classifiers in the worker: the embedded one (fetched from its folder, loaded once and kept) and
 * a model's own (from its classifier/ files, checked by src/core/quality/judgeChoice.ts checkOwnClassifier first).
 * Each becomes an Evaluator: its QualityJudge (per-image flags), a call that embeds one window, and the raw files
 * the page asks for (judgeData: reference features for the quality panel, the manifest's split for the downstream check).
 */
import { StudioError } from '../src/core/errors';
import { parseClassifierManifest, type ClassifierManifest } from '../src/core/quality/classifierManifest';
import { parseReferenceFeatures, type ReferenceFeatures } from '../src/core/quality/features';
import { QualityJudge } from '../src/core/quality/imageQuality';
import type { OwnClassifierChecked } from '../src/core/quality/judgeChoice';
import { sha256Hex } from '../src/runtime/webSha256';
import { createAuxSession } from './ortWeb';

export interface Evaluator {
  judge: QualityJudge;
  run: (window: Float32Array) => Promise<{ logits: Float32Array; features: Float32Array }>;
  /** the classifier's window (square) and the pixel range it takes */
  size: number;
  pixelRange: [number, number];
  /** its manifest's `training` record (which data it was trained on) */
  training: unknown;
  /** the files as parsed JSON, for judgeData */
  manifestRaw: unknown;
  referenceRaw: unknown;
  /** Where its load went: fetching + checking its files, creating its session. */
  loadTimings: { filesMs: number; sessionMs: number };
  release: () => Promise<void>;
}

export async function fetchJson(url: string, what: string): Promise<unknown> {
  const res = await fetch(url);
  if (!res.ok) throw new StudioError('modelInvalid', `${what} could not be fetched from ${url} (HTTP ${res.status})`);
  try {
    return await res.json();
  } catch {
    throw new StudioError('modelInvalid', `${what} at ${url} is not valid JSON`);
  }
}

/** A session on the classifier's ONNX file, checked against the tensor names its manifest gives. */
async function makeEvaluator(m: ClassifierManifest, manifestRaw: unknown, reference: ReferenceFeatures, referenceRaw: unknown, onnx: Uint8Array, filesMs: number): Promise<Evaluator> {
  const s0 = performance.now();
  const { session, Tensor } = await createAuxSession(onnx);
  const absent = [!session.inputNames.includes(m.inputName) ? `input "${m.inputName}"` : '', ...[m.logitsName, m.featuresName].filter((n) => !session.outputNames.includes(n)).map((n) => `output "${n}"`)].filter(Boolean);
  if (absent.length) {
    await session.release();
    throw new StudioError('modelInvalid', `the classifier's manifest names ${absent.join(' and ')}, which its ONNX file does not have (inputs: ${session.inputNames.join(', ')}; outputs: ${session.outputNames.join(', ')})`);
  }
  const loadTimings = { filesMs, sessionMs: performance.now() - s0 };
  const training = (manifestRaw as { training?: unknown }).training;
  return {
    judge: new QualityJudge(m.id, m.classes, reference),
    size: m.width,
    pixelRange: m.pixelRange,
    training,
    manifestRaw,
    referenceRaw,
    loadTimings,
    run: async (win) => {
      const out = await session.run({ [m.inputName]: new Tensor('float32', win, [1, 1, m.height, m.width]) });
      return { logits: (out[m.logitsName]?.data as Float32Array).slice(), features: (out[m.featuresName]?.data as Float32Array).slice() };
    },
    release: () => session.release(),
  };
}

/** Loads the embedded evaluation classifier and its real reference features from its folder. */
export async function loadEmbeddedEvaluator(baseUrl: string): Promise<Evaluator> {
  const base = baseUrl.replace(/\/$/, '');
  const f0 = performance.now();
  const raw = await fetchJson(`${base}/manifest.json`, 'classifier manifest.json');
  const m = parseClassifierManifest(raw);
  const res = await fetch(`${base}/${m.file}`);
  if (!res.ok) throw new StudioError('modelInvalid', `classifier ${m.file} could not be fetched (HTTP ${res.status})`);
  const bytes = await res.arrayBuffer();
  const hex = await sha256Hex(bytes);
  if (hex !== m.sha256) throw new StudioError('modelInvalid', `classifier sha256 ${hex} does not match its manifest (${m.sha256})`);
  const refRaw = await fetchJson(`${base}/${m.referenceFeatures}`, m.referenceFeatures);
  return makeEvaluator(m, raw, parseReferenceFeatures(refRaw), refRaw, new Uint8Array(bytes), performance.now() - f0);
}

/** A model's own classifier, after checkOwnClassifier passed its files; throws when its ONNX file does not load. */
export async function loadOwnEvaluator(checked: OwnClassifierChecked, files: { manifestText: string; referenceFeaturesText: string; onnx: ArrayBuffer | Uint8Array }, filesMs: number): Promise<Evaluator> {
  try {
    const onnx = files.onnx instanceof Uint8Array ? files.onnx : new Uint8Array(files.onnx);
    return await makeEvaluator(checked.manifest, JSON.parse(files.manifestText) as unknown, checked.reference, JSON.parse(files.referenceFeaturesText) as unknown, onnx, filesMs);
  } catch (e) {
    throw new StudioError('modelInvalid', `classifier/model.onnx could not be loaded: ${(e as Error).message}`);
  }
}

/** A folder-served model's classifier/ files (undefined when it has none: a dev server answers a missing file with HTML). */
export async function fetchClassifierFiles(base: string): Promise<{ manifestText: string; onnx?: ArrayBuffer; referenceFeaturesText?: string } | undefined> {
  const isJson = (r: Response) => r.ok && (r.headers.get('content-type') ?? '').includes('json');
  const res = await fetch(`${base}/classifier/manifest.json`);
  if (!isJson(res)) return undefined;
  const manifestText = await res.text();
  let named: { file?: unknown; referenceFeatures?: unknown } = {};
  try {
    named = JSON.parse(manifestText) as typeof named;
  } catch {
    // checkOwnClassifier reports it
  }
  const safe = (v: unknown, dflt: string) => (typeof v === 'string' && /^[\w.-]+$/.test(v) ? v : dflt);
  const [onnx, ref] = await Promise.all([fetch(`${base}/classifier/${safe(named.file, 'model.onnx')}`), fetch(`${base}/classifier/${safe(named.referenceFeatures, 'reference_features.json')}`)]);
  return {
    manifestText,
    ...(onnx.ok && !(onnx.headers.get('content-type') ?? '').includes('html') ? { onnx: await onnx.arrayBuffer() } : {}),
    ...(isJson(ref) ? { referenceFeaturesText: await ref.text() } : {}),
  };
}
