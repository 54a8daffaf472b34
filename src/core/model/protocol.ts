/**
 * The worker protocol, shared by the worker (workers/) and its one client (src/client/). Bump
 * PROTOCOL_VERSION on any change: the client checks it first so a stale cached worker is detected.
 */
import type { DenoiseBatch } from './denoiser';
import type { GuidanceInterval } from '../diffusion/guidance';
import type { ImageQuality } from '../quality/imageQuality';
import type { DownstreamInput, DownstreamResult } from '../quality/downstream';
import type { ModelManifest } from './manifest';
import type { OwnClassifierFiles } from './modelFiles';
import type { JudgeKind } from '../quality/judgeChoice';
import type { SamplerName } from '../diffusion/samplers';
import type { TimestepSpacing } from '../diffusion/schedule';

// 2: SamplingParams.guidanceInterval (a version-1 worker would ignore it and guide every step)
// 3: Provenance.threads
// 4: Provenance.modelEvaluations; sampler 'consistency' (distilled students)
// 5: Provenance.tiling: a photo item's windows denoised jointly (MultiDiffusion), regions of any size; a
//    version-4 worker would refuse a region larger than one window
// 6: a model's own judge: ModelSource bytes carry `classifier` (its classifier/ files), LoadedModelInfo.quality says
//    which judge is active (judge: own / embedded / none, with a reason), judgeData(); a version-5 worker would judge
//    every model with the embedded classifier
export const PROTOCOL_VERSION = 6;

/** Backends: webgpu / wasm run in the browser (onnxruntime-web); native is onnxruntime-node (CLI only). */
export type Backend = 'webgpu' | 'wasm' | 'native';
export type BackendPreference = 'auto' | 'webgpu' | 'wasm';

export interface HandshakeInfo {
  protocolVersion: number;
  ortVersion: string;
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  /** What this browser offers; the backend that actually runs is reported with each model load and result. */
  available: { webgpu: boolean; wasm: boolean; wasmThreads: boolean };
  adapter?: { vendor: string; architecture: string; description: string; isFallbackAdapter: boolean };
}

export type ModelSource =
  | { kind: 'url'; baseUrl: string }
  | { kind: 'bytes'; manifest: unknown; onnx: ArrayBuffer; maskLibrary?: unknown; classifier?: ClassifierFiles };

/** A model's own evaluation classifier (classifier/manifest.json, classifier/model.onnx, classifier/reference_features.json). */
export type ClassifierFiles = OwnClassifierFiles<ArrayBuffer>;

export interface LoadOptions {
  backend: BackendPreference;
  /** WASM threads; 0 = all cores (navigator.hardwareConcurrency). */
  numThreads?: number;
  /**
   * Folder of the embedded evaluation classifier (model.onnx, manifest.json, reference_features.json): the judge of
   * the embedded models and of models trained on its data (src/core/quality/judgeChoice.ts).
   */
  classifierBaseUrl?: string;
}

export interface LoadedModelInfo {
  manifest: ModelManifest;
  backend: Exclude<Backend, 'native'>;
  numThreads: number;
  loadMs: number;
  /** Where loadMs went, in order (fetch, sha256, runtime, session, classifier); the bench prints them. */
  phases: { name: string; ms: number }[];
  hasMaskLibrary: boolean;
  /**
   * The model's judge (src/core/quality/judgeChoice.ts): its own classifier, the embedded one, or none; `enabled`
   * when one is loaded (per-image flags, quality numbers and the downstream check come from it); `reason` says why
   * this judge or why none (and which classes get no flags).
   */
  quality: { enabled: boolean; judge: JudgeKind; classifierId?: string; reason: string };
}

/** The active judge's files, for the quality panel (reference features) and the downstream check (its split). */
export interface JudgeData {
  classifierId: string;
  judge: Exclude<JudgeKind, 'none'>;
  /** the classifier's manifest.json as parsed JSON (src/core/quality/classifierManifest.ts reads it) */
  manifest: unknown;
  /** its reference_features.json as parsed JSON (src/core/quality/features.ts parseReferenceFeatures reads it) */
  referenceFeatures: unknown;
}

/** The sampling parameters: what a request asks for and what provenance records. */
export interface SamplingParams {
  className: string;
  prompt: string;
  seed: number;
  sampler: SamplerName;
  steps: number;
  guidance: number;
  /**
   * Noise levels (sigma, see core/guidance.ts) at which guidance is applied: (low, high]. Absent = every step
   * (items made before the interval existed record none).
   */
  guidanceInterval?: GuidanceInterval;
  eta: number;
  timestepSpacing: TimestepSpacing;
  clipSample: boolean;
}

export interface GenerateRequest extends SamplingParams {
  /** 0/1 per pixel, width*height of the model; omitted = a seeded random mask from the model's mask library. */
  defectMask?: Uint8Array;
  /** Inpainting: a window of a real photo (8-bit gray) and 1 where it must be kept. */
  knownImage?: Uint8Array;
  keepMask?: Uint8Array;
  /** Minimum milliseconds between preview images in progress events (0 = every step). */
  previewIntervalMs?: number;
}

export interface StepProgress {
  step: number;
  totalSteps: number;
  timestep: number;
  elapsedMs: number;
  etaMs: number;
  /** Predicted clean image (8-bit gray, model size), throttled; absent on most steps. */
  preview?: Uint8Array;
}

export interface Timings {
  totalMs: number;
  /** Time inside the runtime's session.run. */
  modelMs: number;
  steps: number;
}

/** A model-sized window of a photo and, inside it, the hole that was regenerated (window coordinates). */
export interface PhotoWindow {
  x: number;
  y: number;
  size: number;
  hole: { x0: number; y0: number; x1: number; y1: number };
}

/**
 * How the windows of a photo item were denoised together (src/core/diffusion/tiled.ts): one sample over the union of the
 * windows, each step's model outputs averaged per pixel over the windows covering it (MultiDiffusion, Bar-Tal et
 * al. 2023, arXiv:2302.08113). The regenerated area is the union of the windows' holes.
 */
export interface Tiling {
  method: 'multidiffusion';
  /** Per-pixel weight of a window's output in the average: 'tent' falls off linearly towards the window's edges. */
  weighting: 'tent' | 'uniform';
  /** Most batch rows per model call; a step's rows (windows, twice when guided) go in calls of this many, in order. */
  rowsPerCall: number;
  /**
   * Pixels of a feather band along the inside of each hole's edge (off the painted pixels) where the known-region
   * blend mixes the photo in with weights falling from 1 - 1/(F + 1) to 0 (a soft keep mask; the model's keep
   * input stays binary). Absent = 0.
   */
  feather?: number;
  /**
   * With a feather: pixels of a hole farther than this from the painted defect are blended towards the photo too
   * (weights rising to 1 over the feather's width), so only a soft band around the defect is regenerated.
   */
  reach?: number;
}

export interface BasePhotoInfo {
  name: string;
  /** sha256 of the photo's 8-bit gray pixels (what the model saw). */
  sha256: string;
  width: number;
  height: number;
}

/** Everything needed to regenerate the image exactly, plus where and how fast it ran. */
export interface Provenance extends SamplingParams {
  modelId: string;
  modelVersion: string;
  modelSha256: string;
  classIndex: number;
  maskSource: 'given' | 'library' | 'none';
  maskSha256: string;
  inpainting: boolean;
  backend: Backend;
  timings: Timings;
  /** Photo mode: the defect-free photo the defect was put on, and the windows regenerated in it. */
  basePhoto?: BasePhotoInfo;
  windows?: PhotoWindow[];
  /**
   * Photo items of more than one window made by protocol 5 and later: the windows were denoised jointly.
   * Absent: one after another (older items); for a single window the two are the same computation.
   */
  tiling?: Tiling;
  /** How the mask was made in the UI (painted, random from the library, from the prompt). */
  maskOrigin?: 'painted' | 'library' | 'prompt';
  /**
   * CPU threads the runtime ran the network with (WASM or onnxruntime-node; absent for WebGPU and older items).
   * Another count can round a value the other way, so an exact reproduction uses the same count.
   */
  threads?: number;
  /**
   * Network evaluations spent on the image: one per image in each model call, so a guided step (a batch of 2:
   * class and null label) counts 2, and a photo item counts every window. Absent on items made before protocol 4.
   */
  modelEvaluations?: number;
}

export interface GenerateResult {
  width: number;
  height: number;
  /** 8-bit gray pixels. */
  pixels: Uint8Array;
  /** 0/1 defect mask the model was conditioned on. */
  mask: Uint8Array;
  /** PNG of the image with the deterministic generation parameters in tEXt chunks. */
  png: Uint8Array;
  maskPng: Uint8Array;
  provenance: Provenance;
  /** Per-image quality from the evaluation classifier (absent when it is not loaded or does not know the class). */
  quality?: ImageQuality;
}

/** The API the worker exposes through comlink. */
export interface DiffusionWorkerApi {
  handshake(): Promise<HandshakeInfo>;
  loadModel(source: ModelSource, options: LoadOptions): Promise<LoadedModelInfo>;
  generate(request: GenerateRequest, onProgress: (p: StepProgress) => void): Promise<GenerateResult>;
  /** Puts a defect into a real photo: windows over the painted regions (tiled jointly where a region is larger than one), the rest of the photo untouched. */
  generateOnPhoto(request: GenerateRequest, photo: { width: number; height: number; pixels: Uint8Array; name: string }, mask: Uint8Array, margin: number, onProgress: (p: StepProgress) => void): Promise<GenerateResult>;
  /** Classifier features of classifier-sized 8-bit gray windows, from the loaded model's judge (there must be one). */
  embedWindows(windows: Uint8Array[]): Promise<Float32Array[]>;
  /** The loaded model's judge's manifest and reference features; null when the model has no judge. */
  judgeData(): Promise<JudgeData | null>;
  /** The downstream-utility check (real only vs real + synthetic), run off the main thread. */
  downstream(input: DownstreamInput): Promise<DownstreamResult>;
  /** One raw model call (diagnostics, cross-backend checks, benchmarks); returns the output and the ms inside session.run. */
  runModel(inputs: DenoiseBatch): Promise<{ output: Float32Array; ms: number }>;
  cancel(): void;
  dispose(): Promise<void>;
}

/**
 * Test-only hooks, not part of DiffusionWorkerApi: the worker installs them only when it is started with the
 * name DEBUG_WORKER_NAME, which only src/client/debugClient.ts does (the studio uses it with ?debug, for the
 * e2e specs). A production worker answers none of them. (Not a protocol change: the production calls are the same.)
 */
export interface DiffusionDebugHooks {
  /** Throws an uncaught error in the worker, as a crashing runtime would (crash recovery e2e). */
  debugCrash(): void;
}
export const DEBUG_WORKER_NAME = 'denoiser-debug';
