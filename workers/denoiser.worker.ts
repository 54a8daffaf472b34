/**
 * Worker entry: exposes the DiffusionWorkerApi through comlink and nothing else. The sampling loop is the
 * core's generateImage; the runtime is workers/runtime.ts.
 */
import * as Comlink from 'comlink';
import type { InferenceSession } from 'onnxruntime-common';
import { StudioError } from '../src/core/errors';
import { generateOnPhoto } from '../src/core/composite';
import { generateImage, type DenoiseFn, type GenerateHooks } from '../src/core/generate';
import { checkSha256, parseManifest, type ModelManifest } from '../src/core/manifest';
import { parseMaskLibrary, type MaskLibrary } from '../src/core/maskLibrary';
import type { DiffusionWorkerApi, GenerateRequest, GenerateResult, LoadOptions, LoadedModelInfo, ModelSource, StepProgress } from '../src/core/protocol';
import { createOrtDenoiser, type TensorCtor } from '../src/runtime/ortDenoiser';
import { checkDevice, createSession, handshake, warmRuntime, type BrowserBackend } from './runtime';

interface Loaded {
  manifest: ModelManifest;
  maskLibrary: MaskLibrary | null;
  session: InferenceSession;
  denoise: DenoiseFn;
  backend: BrowserBackend;
}
let loaded: Loaded | null = null;
let cancelled = false;
let busy = false;

async function fetchJson(url: string, what: string): Promise<unknown> {
  const res = await fetch(url);
  if (!res.ok) throw new StudioError('modelInvalid', `${what} could not be fetched from ${url} (HTTP ${res.status})`);
  try {
    return await res.json();
  } catch {
    throw new StudioError('modelInvalid', `${what} at ${url} is not valid JSON`);
  }
}

async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  const d = await crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** One job at a time; cancellation is checked before every model call; pixel buffers are transferred back. */
async function runJob(onProgress: (p: StepProgress) => void, job: (l: Loaded, hooks: GenerateHooks) => Promise<GenerateResult>): Promise<GenerateResult> {
  if (!loaded) throw new StudioError('badRequest', 'no model is loaded; call loadModel first');
  if (busy) throw new StudioError('badRequest', 'a generation is already running in this worker; one job at a time');
  busy = true;
  cancelled = false;
  const l = loaded;
  const checked: Loaded = { ...l, denoise: async (b) => {
    checkDevice();
    return l.denoise(b);
  } };
  try {
    const result = await job(checked, {
      isCancelled: () => cancelled,
      now: () => performance.now(),
      // A comlink proxy call only posts a message; nothing to await.
      onProgress: (p) => void onProgress(p),
    });
    return Comlink.transfer(result, [result.pixels.buffer, result.mask.buffer, result.png.buffer, result.maskPng.buffer] as ArrayBuffer[]);
  } finally {
    busy = false;
  }
}

const api: DiffusionWorkerApi = {
  handshake,

  async loadModel(source: ModelSource, options: LoadOptions): Promise<LoadedModelInfo> {
    const t0 = performance.now();
    const warming = warmRuntime(options.backend).catch(() => undefined);
    let manifestRaw: unknown;
    let onnx: ArrayBuffer;
    let libRaw: unknown = undefined;
    if (source.kind === 'url') {
      const base = source.baseUrl.replace(/\/$/, '');
      manifestRaw = await fetchJson(`${base}/manifest.json`, 'manifest.json');
      const manifest = parseManifest(manifestRaw);
      const res = await fetch(`${base}/${manifest.file}`);
      if (!res.ok) throw new StudioError('modelInvalid', `${manifest.file} could not be fetched from ${base} (HTTP ${res.status})`);
      onnx = await res.arrayBuffer();
      const libRes = await fetch(`${base}/mask_library.json`);
      // A dev/preview server answers unknown paths with index.html: only JSON counts as a library.
      if (libRes.ok && (libRes.headers.get('content-type') ?? '').includes('json')) libRaw = await libRes.json();
    } else {
      manifestRaw = source.manifest;
      onnx = source.onnx;
      libRaw = source.maskLibrary;
    }
    const manifest = parseManifest(manifestRaw);
    checkSha256(manifest, await sha256Hex(onnx), onnx.byteLength);
    const maskLibrary = libRaw === undefined ? null : parseMaskLibrary(libRaw);
    await loaded?.session.release();
    loaded = null;
    await warming;
    const created = await createSession(new Uint8Array(onnx), options.backend, options.numThreads ?? 0);
    const denoise = createOrtDenoiser(created.session, manifest, created.Tensor as unknown as TensorCtor);
    loaded = { manifest, maskLibrary, session: created.session, denoise, backend: created.backend };
    return { manifest, backend: created.backend, numThreads: created.numThreads, loadMs: performance.now() - t0, hasMaskLibrary: maskLibrary !== null };
  },

  async generate(request: GenerateRequest, onProgress: (p: StepProgress) => void) {
    return runJob(onProgress, (l, hooks) => generateImage(l.manifest, l.maskLibrary, l.denoise, request, l.backend, hooks));
  },

  async generateOnPhoto(request, photo, mask, margin, onProgress) {
    return runJob(onProgress, (l, hooks) => generateOnPhoto(l.manifest, l.maskLibrary, l.denoise, request, photo, mask, l.backend, hooks, margin));
  },

  async runModel(inputs) {
    if (!loaded) throw new StudioError('badRequest', 'no model is loaded; call loadModel first');
    checkDevice();
    const t0 = performance.now();
    const output = await loaded.denoise(inputs);
    const ms = performance.now() - t0;
    return Comlink.transfer({ output, ms }, [output.buffer as ArrayBuffer]);
  },

  cancel() {
    cancelled = true;
  },

  async dispose() {
    await loaded?.session.release();
    loaded = null;
  },
};

Comlink.expose(api);
