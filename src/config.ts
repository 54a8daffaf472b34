/** Start-up settings read from the URL: ?backend=auto|webgpu|wasm&threads=N&model=<id> (tests and benchmarks). */
import type { BackendPreference } from './core/model/protocol';

export const DEFAULT_MODEL_ID = 'magtile-defect-64';
/**
 * Every model shipped in public/models, default first: the 20-step guided teacher and its distilled few-step
 * student (training/distill.py; README "Few-step sampling" says which is default and why).
 */
export const EMBEDDED_MODEL_IDS: readonly string[] = [DEFAULT_MODEL_ID, 'magtile-defect-64-fast'];
/** What the model picker says of an embedded model beside its id. */
export const EMBEDDED_MODEL_NOTES: Readonly<Record<string, string>> = {
  [DEFAULT_MODEL_ID]: 'embedded default',
  'magtile-defect-64-fast': 'embedded, distilled: 4 calls per window',
};
/** The embedded evaluation classifier behind the per-image quality flags and the quality panel. */
export const CLASSIFIER_ID = 'magtile-classifier-64';

export interface UrlConfig {
  backend: BackendPreference;
  numThreads: number;
  modelId: string;
  /** ?debug exposes the client on window.ddsDebug for end-to-end tests and benchmarks. */
  debug: boolean;
}

export function readUrlConfig(search: string): UrlConfig {
  const q = new URLSearchParams(search);
  const b = q.get('backend') ?? 'auto';
  const backend: BackendPreference = b === 'webgpu' || b === 'wasm' ? b : 'auto';
  const t = Number(q.get('threads') ?? '0');
  return { backend, numThreads: Number.isInteger(t) && t >= 0 ? t : 0, modelId: q.get('model') ?? DEFAULT_MODEL_ID, debug: q.has('debug') };
}

export function modelBaseUrl(id: string): string {
  return `${import.meta.env.BASE_URL}models/${id}`;
}

/**
 * Accepted images per defect class that "Fill to target" aims for until the user sets a class's target: the
 * count the downstream protocol measured (README "Does the synthetic data help?", training/downstream.py). A
 * defect class is one the model's mask library has masks of; the defect-free class starts at 0.
 */
export const DEFAULT_TARGET_PER_DEFECT_CLASS = 300;

/**
 * Shown beside Fill to target while it makes windows (the photo-set option off): what the downstream protocol
 * found about real backgrounds on the default model (README "Does the synthetic data help?",
 * training/reports/downstream/default/PLAN-photos.md). Fray and Uneven were kept as windows there: their real
 * masks cover many windows of a photo, so they are slow to make on one.
 */
export const FILL_PHOTO_ADVICE =
  'Tip: small defects (Blowhole, Break, Crack) made on real defect-free photos trained a better defect segmenter than made-up windows in the default model\'s downstream test. Add such photos under Generate > Base photos and tick "Place defects on the stored photos".';
