/**
 * Worker entry: exposes the DiffusionWorkerApi through comlink and nothing else (plus the test-only
 * DiffusionDebugHooks in a worker started as DEBUG_WORKER_NAME). The sampling loop is the
 * core's generateImage; the onnxruntime-web adapter (provider choice, sessions, device) is workers/ortWeb.ts.
 */
import * as Comlink from 'comlink';
import type { InferenceSession } from 'onnxruntime-common';
import { StudioError } from '../src/core/errors';
import { generateOnPhoto } from '../src/core/diffusion/tiled';
import { generateImage, type GenerateHooks } from '../src/core/diffusion/generate';
import type { DenoiseFn } from '../src/core/model/denoiser';
import type { ModelManifest } from '../src/core/model/manifest';
import { readModelFiles, type ModelFileSource } from '../src/core/model/modelFiles';
import type { MaskLibrary } from '../src/core/formats/maskLibrary';
import { DEBUG_WORKER_NAME, type DiffusionDebugHooks, type DiffusionWorkerApi, type GenerateRequest, type GenerateResult, type LoadOptions, type LoadedModelInfo, type ModelSource, type StepProgress } from '../src/core/model/protocol';
import { createOrtDenoiser, probeClassLabels, type TensorCtor } from '../src/runtime/ortDenoiser';
import { checkDevice, createAuxSession, createSession, handshake, prepareRuntime, type BrowserBackend } from './ortWeb';
import { QualityJudge } from '../src/core/quality/imageQuality';
import { downstreamCheck } from '../src/core/quality/downstream';
import { parseReferenceFeatures } from '../src/core/quality/features';
import { judgedRegion } from '../src/core/quality/region';
import { fromUint8 } from '../src/core/formats/image';

interface Loaded {
  manifest: ModelManifest;
  maskLibrary: MaskLibrary | null;
  session: InferenceSession;
  denoise: DenoiseFn;
  backend: BrowserBackend;
  /** WASM threads; null on WebGPU. */
  threads: number | null;
}
let loaded: Loaded | null = null;

interface Evaluator {
  judge: QualityJudge;
  run: (window: Float32Array) => Promise<{ logits: Float32Array; features: Float32Array }>;
  size: number;
  /** Where its load went: fetching + checking its files, creating its session. */
  loadTimings: { filesMs: number; sessionMs: number };
}
let evaluator: Evaluator | null = null;

/** Loads the evaluation classifier and its real reference features (per-image quality flags). */
async function loadEvaluator(baseUrl: string): Promise<Evaluator> {
  const base = baseUrl.replace(/\/$/, '');
  const f0 = performance.now();
  const m = (await fetchJson(`${base}/manifest.json`, 'classifier manifest.json')) as {
    task?: string; id?: string; file?: string; sha256?: string; classes?: string[]; image?: { width: number; height: number };
    inputs?: { name: string }[]; outputs?: { name: string; role: string }[];
  };
  if (m.task !== 'classifier' || !m.file || !m.classes || !m.image || !m.inputs?.[0] || !m.outputs) throw new StudioError('modelInvalid', `${base}/manifest.json is not a classifier manifest (task "classifier" with file, classes, image, inputs, outputs)`);
  const res = await fetch(`${base}/${m.file}`);
  if (!res.ok) throw new StudioError('modelInvalid', `classifier ${m.file} could not be fetched (HTTP ${res.status})`);
  const bytes = await res.arrayBuffer();
  const hex = await sha256Hex(bytes);
  if (hex !== m.sha256) throw new StudioError('modelInvalid', `classifier sha256 ${hex} does not match its manifest (${m.sha256})`);
  const ref = parseReferenceFeatures(await fetchJson(`${base}/reference_features.json`, 'reference_features.json'));
  const s0 = performance.now();
  const { session, Tensor } = await createAuxSession(new Uint8Array(bytes));
  const loadTimings = { filesMs: s0 - f0, sessionMs: performance.now() - s0 };
  const inName = m.inputs[0].name;
  const logitsName = m.outputs.find((o) => o.role === 'logits')?.name ?? 'logits';
  const featName = m.outputs.find((o) => o.role === 'features')?.name ?? 'features';
  const size = m.image.width;
  return {
    judge: new QualityJudge(m.id ?? 'classifier', m.classes, ref),
    size,
    loadTimings,
    run: async (win) => {
      const out = await session.run({ [inName]: new Tensor('float32', win, [1, 1, size, size]) });
      return { logits: (out[logitsName]?.data as Float32Array).slice(), features: (out[featName]?.data as Float32Array).slice() };
    },
  };
}

/**
 * Quality of a finished result, judged as npm run evaluate judges it (src/core/quality/region.ts judgedRegion):
 * the generated window, or a photo item's first window. For a photo item the same window with its regenerated
 * pixels filled in from the photo is embedded too, so a window that is near a real one only because of its real
 * background is not flagged memorised.
 */
async function judge(result: GenerateResult): Promise<void> {
  const ev = evaluator;
  if (!ev || !ev.judge.knows(result.provenance.className)) return;
  const region = judgedRegion({ width: result.width, height: result.height, pixels: result.pixels }, result.provenance, ev.size, 'the result');
  if (region.region === 'centre crop') return; // neither a window nor a photo item: nothing the classifier was made for
  const { logits, features } = await ev.run(fromUint8(region.pixels, [-1, 1]));
  const background = region.background ? (await ev.run(fromUint8(region.background, [-1, 1]))).features : undefined;
  result.quality = ev.judge.judge(result.provenance.className, logits, features, background);
}
let cancelled = false;
let busy = false;

/**
 * Lets the worker's event loop run queued messages (a cancel, from the page) between model calls. Without
 * it a whole job runs without leaving the task it started in (session.run resolves through microtasks), so a
 * cancel was only seen after the job or when the client's grace period terminated the worker. A message to
 * itself over a MessageChannel costs ~0.1 ms (setTimeout(0) is clamped to 4 ms when nested).
 */
const tick = new MessageChannel();
const ticks: (() => void)[] = [];
tick.port1.onmessage = () => ticks.shift()?.();
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    ticks.push(resolve);
    tick.port2.postMessage(null);
  });
}

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

/** Where a model's files come from in the worker: fetched from its folder URL, or bytes the page stored. */
function modelFileSource(source: ModelSource): ModelFileSource<ArrayBuffer> {
  if (source.kind === 'bytes')
    return { fetched: false, manifest: async () => source.manifest, onnx: async () => source.onnx, maskLibrary: async () => source.maskLibrary };
  const base = source.baseUrl.replace(/\/$/, '');
  return {
    fetched: true,
    manifest: () => fetchJson(`${base}/manifest.json`, 'manifest.json'),
    onnx: async (file) => {
      const res = await fetch(`${base}/${file}`);
      if (!res.ok) throw new StudioError('modelInvalid', `${file} could not be fetched from ${base} (HTTP ${res.status})`);
      return res.arrayBuffer();
    },
    maskLibrary: async () => {
      const libRes = await fetch(`${base}/mask_library.json`);
      // A dev/preview server answers unknown paths with index.html: only JSON counts as a library.
      return libRes.ok && (libRes.headers.get('content-type') ?? '').includes('json') ? ((await libRes.json()) as unknown) : undefined;
    },
  };
}

/** One job at a time; cancellation is checked before every model call; pixel buffers are transferred back. */
async function runJob(onProgress: (p: StepProgress) => void, job: (l: Loaded, hooks: GenerateHooks) => Promise<GenerateResult>): Promise<GenerateResult> {
  if (!loaded) throw new StudioError('badRequest', 'no model is loaded; call loadModel first');
  if (busy) throw new StudioError('badRequest', 'a generation is already running in this worker; one job at a time');
  busy = true;
  cancelled = false;
  const l = loaded;
  const checked: Loaded = { ...l, denoise: async (b) => {
    await yieldToEventLoop();
    if (cancelled) throw new StudioError('aborted', 'generation cancelled');
    checkDevice();
    return l.denoise(b);
  } };
  try {
    const result = await job(checked, {
      isCancelled: () => cancelled,
      now: () => performance.now(),
      // A comlink proxy call only posts a message; nothing to await.
      onProgress: (p) => {
        Promise.resolve(onProgress(p)).catch(() => undefined);
      },
    });
    if (l.threads !== null) result.provenance.threads = l.threads;
    // The quality check must never cost the image: on failure the result simply has no flags.
    await judge(result).catch(() => undefined);
    return Comlink.transfer(result, [result.pixels.buffer, result.mask.buffer, result.png.buffer, result.maskPng.buffer] as ArrayBuffer[]);
  } finally {
    busy = false;
  }
}

const api: DiffusionWorkerApi = {
  handshake,

  async loadModel(source: ModelSource, options: LoadOptions): Promise<LoadedModelInfo> {
    if (busy) throw new StudioError('badRequest', 'a generation is running; load the model when it has finished or been cancelled');
    const t0 = performance.now();
    const phases: { name: string; ms: number }[] = [];
    let last = t0;
    const mark = (name: string) => {
      const now = performance.now();
      phases.push({ name, ms: now - last });
      last = now;
    };
    let runtimeMs = -1;
    const preparing = prepareRuntime(options.backend, options.numThreads ?? 0);
    const warming = preparing.then(() => {
      runtimeMs = performance.now() - t0;
    }, () => undefined);
    // On the WASM build the classifier's session is created while the model downloads: it pays for the
    // runtime's start (wasm compile, threads). On WebGPU it waits for the main session, whose device must be
    // set up first.
    let classifierMs = -1;
    const classifierUrl = options.classifierBaseUrl;
    const startEvaluator = (): Promise<Evaluator> => {
      const c0 = performance.now();
      const p = evaluator ? Promise.resolve(evaluator) : loadEvaluator(classifierUrl ?? '');
      return p.then((ev) => {
        evaluator = ev;
        classifierMs = performance.now() - c0;
        return ev;
      });
    };
    const early: Promise<Evaluator | null> = classifierUrl ? preparing.then((build) => (build === 'wasm' ? startEvaluator() : null)) : Promise.resolve(null);
    early.catch(() => undefined); // awaited below; a failure only turns the quality flags off
    const { manifest, onnx, maskLibrary } = await readModelFiles(modelFileSource(source), sha256Hex, mark);
    await warming;
    mark(`wait for the runtime import (done ${runtimeMs.toFixed(0)} ms after the start, in parallel)`);
    // The model that is loaded stays loaded until the new one has been checked: a refused model loses nothing.
    const created = await createSession(new Uint8Array(onnx), options.backend, options.numThreads ?? 0);
    mark('session create');
    let denoise: DenoiseFn;
    try {
      denoise = createOrtDenoiser(created.session, manifest, created.Tensor as unknown as TensorCtor);
      // A user's model: one call with its largest class label, so a class list longer than the network's class
      // embedding is refused now (the embedded default is checked by the tests, and its start-up is benchmarked).
      if (source.kind === 'bytes') {
        await probeClassLabels(denoise, manifest);
        mark('class-label probe');
      }
    } catch (e) {
      await created.session.release();
      throw e;
    }
    await loaded?.session.release();
    loaded = { manifest, maskLibrary, session: created.session, denoise, backend: created.backend, threads: created.backend === 'wasm' ? created.numThreads : null };
    let quality: LoadedModelInfo['quality'] = { enabled: false, reason: 'no evaluation classifier configured' };
    if (classifierUrl) {
      try {
        const ev = (await early) ?? (await startEvaluator());
        const unknown = manifest.classes.filter((c) => !ev.judge.knows(c));
        quality = { enabled: true, classifierId: ev.judge.classifierId, ...(unknown.length ? { reason: `no flags for ${unknown.join(', ')} (not classes of the evaluation classifier)` } : {}) };
      } catch (e) {
        quality = { enabled: false, reason: (e as Error).message };
      }
      const lt = evaluator?.loadTimings;
      mark(`wait for evaluation classifier (its load took ${classifierMs.toFixed(0)} ms${lt ? `: files ${lt.filesMs.toFixed(0)} ms, session ${lt.sessionMs.toFixed(0)} ms` : ''}${created.backend === 'wasm' ? '; overlapped with the model download' : ''})`);
    }
    return { manifest, backend: created.backend, numThreads: created.numThreads, loadMs: performance.now() - t0, phases, hasMaskLibrary: maskLibrary !== null, quality };
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

  async embedWindows(windows) {
    const ev = evaluator;
    if (!ev) throw new StudioError('capability', 'the evaluation classifier is not loaded, so images cannot be embedded');
    const out: Float32Array[] = [];
    for (const w of windows) {
      if (w.length !== ev.size * ev.size) throw new StudioError('badRequest', `a window has ${w.length} pixels; the classifier takes ${ev.size}x${ev.size}`);
      out.push((await ev.run(fromUint8(w, [-1, 1]))).features);
    }
    return out;
  },

  async downstream(input) {
    return downstreamCheck(input);
  },

  cancel() {
    cancelled = true;
  },

  async dispose() {
    await loaded?.session.release();
    loaded = null;
  },
};

/** Test-only (DiffusionDebugHooks): installed only in a worker started as DEBUG_WORKER_NAME (src/client/debugClient.ts). */
const debugHooks: DiffusionDebugHooks = {
  debugCrash() {
    setTimeout(() => {
      throw new Error('debugCrash: an uncaught error in the worker (test hook)');
    }, 0);
  },
};

Comlink.expose(self.name === DEBUG_WORKER_NAME ? { ...api, ...debugHooks } : api);
