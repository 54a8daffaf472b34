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
import { readModelFiles, type ModelFileSource, type ModelFiles } from '../src/core/model/modelFiles';
import type { MaskLibrary } from '../src/core/formats/maskLibrary';
import { DEBUG_WORKER_NAME, type DiffusionDebugHooks, type DiffusionWorkerApi, type GenerateRequest, type GenerateResult, type LoadOptions, type LoadedModelInfo, type ModelSource, type StepProgress } from '../src/core/model/protocol';
import { createOrtDenoiser, probeClassLabels, type TensorCtor } from '../src/runtime/ortDenoiser';
import { checkDevice, createSession, handshake, prepareRuntime, type BrowserBackend } from './ortWeb';
import { downstreamCheck } from '../src/core/quality/downstream';
import { judgedRegion } from '../src/core/quality/region';
import { checkOwnClassifier, chooseJudge, type JudgeChoiceInput } from '../src/core/quality/judgeChoice';
import { fromUint8 } from '../src/core/formats/image';
import { EMBEDDED_MODEL_IDS } from '../src/config';
import { fetchClassifierFiles, fetchJson, loadEmbeddedEvaluator, loadOwnEvaluator, type Evaluator } from './evaluator';
import { sha256Hex } from '../src/runtime/webSha256';

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

/** The embedded classifier, loaded once and kept (the judge of the embedded models and of models trained on its data). */
let embedded: Evaluator | null = null;
/** The loaded model's judge (src/core/quality/judgeChoice.ts): its own classifier, the embedded one, or none. */
let active: { evaluator: Evaluator; kind: 'own' | 'embedded' } | null = null;

/**
 * Quality of a finished result, judged as npm run evaluate judges it (src/core/quality/region.ts judgedRegion):
 * the generated window, or a photo item's first window. For a photo item the same window with its regenerated
 * pixels filled in from the photo is embedded too, so a window that is near a real one only because of its real
 * background is not flagged memorised.
 */
async function judge(result: GenerateResult): Promise<void> {
  const ev = active?.evaluator;
  if (!ev || !ev.judge.knows(result.provenance.className)) return;
  const region = judgedRegion({ width: result.width, height: result.height, pixels: result.pixels }, result.provenance, ev.size, 'the result');
  if (region.region === 'centre crop') return; // neither a window nor a photo item: nothing the classifier was made for
  const { logits, features } = await ev.run(fromUint8(region.pixels, ev.pixelRange));
  const background = region.background ? (await ev.run(fromUint8(region.background, ev.pixelRange))).features : undefined;
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

/** Where a model's files come from in the worker: fetched from its folder URL, or bytes the page stored. */
function modelFileSource(source: ModelSource): ModelFileSource<ArrayBuffer> {
  if (source.kind === 'bytes')
    return { fetched: false, manifest: async () => source.manifest, onnx: async () => source.onnx, maskLibrary: async () => source.maskLibrary, classifier: async () => source.classifier };
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
    classifier: () => fetchClassifierFiles(base),
  };
}

/**
 * The loaded model's judge (src/core/quality/judgeChoice.ts chooseJudge): its own classifier when it carries one
 * (checked by checkOwnClassifier, then loaded), else the embedded one where the rule allows it, else none. Never
 * throws: a problem leaves the model without a judge, and `quality.reason` says what it was.
 */
async function chooseActiveJudge(
  manifest: ModelManifest,
  ownFiles: ModelFiles<ArrayBuffer>['classifier'],
  embeddedModel: boolean,
  getEmbedded: (() => Promise<Evaluator>) | null,
  mark: (phase: string) => void,
): Promise<{ quality: LoadedModelInfo['quality']; next: typeof active }> {
  let own: Evaluator | null = null;
  let ownOutcome: JudgeChoiceInput['own'] = null;
  if (ownFiles && 'problem' in ownFiles) ownOutcome = { ok: false, problem: ownFiles.problem };
  else if (ownFiles) {
    const f0 = performance.now();
    const checked = checkOwnClassifier(ownFiles, manifest, ownFiles.onnx ? await sha256Hex(ownFiles.onnx) : null);
    if (!checked.ok) ownOutcome = { ok: false, problem: checked.problem };
    else {
      try {
        own = await loadOwnEvaluator(checked.value, { manifestText: ownFiles.manifestText as string, referenceFeaturesText: ownFiles.referenceFeaturesText as string, onnx: ownFiles.onnx as ArrayBuffer }, performance.now() - f0);
        ownOutcome = { ok: true, classifierId: own.judge.classifierId };
      } catch (e) {
        ownOutcome = { ok: false, problem: (e as Error).message };
      }
    }
    mark('own classifier: check + session');
  }
  let emb: Evaluator | null = null;
  let embProblem: string | null = null;
  if (getEmbedded) {
    try {
      emb = await getEmbedded();
    } catch (e) {
      embProblem = (e as Error).message;
    }
  }
  const choice = chooseJudge({ modelId: manifest.id, modelTraining: manifest.training, embeddedModel, own: ownOutcome, embeddedClassifier: emb ? { id: emb.judge.classifierId, training: emb.training } : null });
  if (choice.kind === 'none') return { quality: { enabled: false, judge: 'none', reason: embProblem ? `the embedded evaluation classifier could not be loaded: ${embProblem}` : choice.reason }, next: null };
  const ev = choice.kind === 'own' ? (own as Evaluator) : (emb as Evaluator);
  const unknown = manifest.classes.filter((c) => !ev.judge.knows(c));
  const reason = `${choice.reason}${unknown.length ? `; no flags for ${unknown.join(', ')} (no reference features of the evaluation classifier)` : ''}`;
  return { quality: { enabled: true, judge: choice.kind, classifierId: choice.classifierId, reason }, next: { evaluator: ev, kind: choice.kind } };
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
    // On the WASM build the embedded classifier's session is created while the model downloads: it pays for the
    // runtime's start (wasm compile, threads). On WebGPU it waits for the main session, whose device must be set
    // up first. A model that brings its own classifier does not need it.
    let classifierMs = -1;
    const classifierUrl = options.classifierBaseUrl;
    const startEmbedded = (): Promise<Evaluator> => {
      const c0 = performance.now();
      const p = embedded ? Promise.resolve(embedded) : loadEmbeddedEvaluator(classifierUrl ?? '');
      return p.then((ev) => {
        embedded = ev;
        classifierMs = performance.now() - c0;
        return ev;
      });
    };
    const mayNeedEmbedded = !!classifierUrl && !(source.kind === 'bytes' && source.classifier);
    const early: Promise<Evaluator | null> = mayNeedEmbedded ? preparing.then((build) => (build === 'wasm' ? startEmbedded() : null)) : Promise.resolve(null);
    early.catch(() => undefined); // awaited below; a failure only leaves the model without a judge
    const { manifest, onnx, maskLibrary, classifier: ownFiles } = await readModelFiles(modelFileSource(source), sha256Hex, mark);
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
    const embeddedModel = source.kind === 'url' && EMBEDDED_MODEL_IDS.includes(manifest.id);
    const getEmbedded = mayNeedEmbedded && !ownFiles ? async () => (await early) ?? (await startEmbedded()) : null;
    const { quality, next } = await chooseActiveJudge(manifest, ownFiles, embeddedModel, getEmbedded, mark);
    if (getEmbedded) {
      const lt = embedded?.loadTimings;
      mark(`wait for evaluation classifier (its load took ${classifierMs.toFixed(0)} ms${lt ? `: files ${lt.filesMs.toFixed(0)} ms, session ${lt.sessionMs.toFixed(0)} ms` : ''}${created.backend === 'wasm' ? '; overlapped with the model download' : ''})`);
    }
    const previous = active;
    active = next;
    if (previous?.kind === 'own' && previous.evaluator !== next?.evaluator) await previous.evaluator.release().catch(() => undefined);
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
    const ev = active?.evaluator;
    if (!ev) throw new StudioError('capability', 'the loaded model has no evaluation classifier, so images cannot be embedded');
    const out: Float32Array[] = [];
    for (const w of windows) {
      if (w.length !== ev.size * ev.size) throw new StudioError('badRequest', `a window has ${w.length} pixels; the classifier takes ${ev.size}x${ev.size}`);
      out.push((await ev.run(fromUint8(w, ev.pixelRange))).features);
    }
    return out;
  },

  async judgeData() {
    if (!active) return null;
    return { classifierId: active.evaluator.judge.classifierId, judge: active.kind, manifest: active.evaluator.manifestRaw, referenceFeatures: active.evaluator.referenceRaw };
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
    if (active?.kind === 'own') await active.evaluator.release();
    active = null;
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
