/**
 * The one module that owns the Worker (squoosh's worker-bridge shape): a comlink-wrapped worker, a protocol
 * version check on start, one job at a time, cancel that is answered within a step or ends in terminate +
 * respawn, late results of an aborted job ignored, and error codes mapped once (toStudioError).
 */
import * as Comlink from 'comlink';
import { StudioError, isErrorCode } from '../core/errors';
import type { DenoiseBatch } from '../core/model/denoiser';
import type { DownstreamInput, DownstreamResult } from '../core/quality/downstream';
import { DEBUG_WORKER_NAME, PROTOCOL_VERSION } from '../core/model/protocol';
import type {
  BackendPreference,
  ClassifierFiles,
  DiffusionWorkerApi,
  GenerateRequest,
  GenerateResult,
  HandshakeInfo,
  JudgeData,
  LoadedModelInfo,
  ModelSource,
  StepProgress,
} from '../core/model/protocol';

/** Maps whatever crossed the worker boundary to a StudioError with a known code. */
export function toStudioError(e: unknown): StudioError {
  if (e instanceof StudioError) return e;
  if (e instanceof Error) {
    if (isErrorCode(e.name)) return new StudioError(e.name, e.message);
    return new StudioError('inference', e.message);
  }
  return new StudioError('inference', String(e));
}

/** Copies the request's pixel arrays (they are transferred, so the caller keeps its own). */
function copyRequest(r: GenerateRequest): GenerateRequest {
  const req: GenerateRequest = { ...r };
  if (req.defectMask) req.defectMask = req.defectMask.slice();
  if (req.knownImage) req.knownImage = req.knownImage.slice();
  if (req.keepMask) req.keepMask = req.keepMask.slice();
  return req;
}
function ownBuffers(r: GenerateRequest): ArrayBuffer[] {
  return [r.defectMask, r.knownImage, r.keepMask].filter((a): a is Uint8Array => a !== undefined).map((a) => a.buffer as ArrayBuffer);
}

export interface ClientOptions {
  backend: BackendPreference;
  numThreads: number;
  classifierBaseUrl?: string;
  /** How long a cancelled job may take to stop before the worker is terminated and respawned. */
  cancelGraceMs?: number;
  /**
   * Called when the worker crashed while no job was running and the client has reloaded the model on a fresh
   * worker (`reloaded`), or failed to (`reloadError`). A crash during a job reaches the job's caller instead.
   */
  onIdleCrash?: (event: { error: StudioError; reloaded: LoadedModelInfo | null; reloadError?: unknown }) => void;
}

interface Spawned {
  worker: Worker;
  api: Comlink.Remote<DiffusionWorkerApi>;
  info: HandshakeInfo;
  /** Rejects when this worker crashes: every call to it races this, so none waits forever on a dead worker. */
  dead: Promise<never>;
}

export class DiffusionClient {
  private spawned: Promise<Spawned> | null = null;
  private lastSource: ModelSource | null = null;
  private model: LoadedModelInfo | null = null;
  private jobId = 0;
  private running: { id: number; reject: (e: unknown) => void } | null = null;
  private restarting: Promise<LoadedModelInfo | null> | null = null;

  /** withDebugHooks: start workers with the test-only hooks (only DebugDiffusionClient passes true). */
  constructor(private options: ClientOptions, private readonly withDebugHooks = false) {}

  private spawn(): Promise<Spawned> {
    if (this.spawned) return this.spawned;
    const worker = new Worker(new URL('../../workers/denoiser.worker.ts', import.meta.url), { type: 'module', name: this.withDebugHooks ? DEBUG_WORKER_NAME : 'denoiser' });
    const api = Comlink.wrap<DiffusionWorkerApi>(worker);
    let die: (e: StudioError) => void = () => undefined;
    const dead = new Promise<never>((_, reject) => {
      die = reject;
    });
    dead.catch(() => undefined);
    const spawned: Promise<Spawned> = (async () => {
      const info = await Promise.race([api.handshake(), dead]);
      if (info.protocolVersion !== PROTOCOL_VERSION)
        throw new StudioError('protocol', `worker speaks protocol ${info.protocolVersion}, the page ${PROTOCOL_VERSION}: reload the page to update the cached worker`);
      return { worker, api, info, dead };
    })();
    // A crashed worker (an uncaught error, a failed module load) never answers: whatever was waiting on it fails
    // with a message instead of hanging, and a fresh worker is started with the model that was loaded.
    const crash = (why: string) => {
      const err = new StudioError('inference', `${why}; the studio starts a fresh worker`);
      die(err);
      this.crashed(spawned, worker, err);
    };
    worker.addEventListener('error', (ev) => {
      ev.preventDefault();
      crash(`the worker crashed (${ev.message || 'no message'})`);
    });
    worker.addEventListener('messageerror', () => crash('a message from the worker could not be read'));
    this.spawned = spawned;
    return spawned;
  }

  /** A call to the worker that fails (instead of hanging) if the worker crashes meanwhile. */
  private async call<T>(fn: (api: Comlink.Remote<DiffusionWorkerApi>) => Promise<T>): Promise<T> {
    const s = await this.spawn();
    try {
      return await Promise.race([fn(s.api), s.dead]);
    } catch (e) {
      throw toStudioError(e);
    }
  }

  async handshake(): Promise<HandshakeInfo> {
    return (await this.spawn()).info;
  }

  /**
   * Loads a model. A refused model leaves the one that was loaded in place (the worker swaps only after the
   * new one is checked), and only a model that loaded becomes the one a restart reloads.
   */
  async loadModel(source: ModelSource): Promise<LoadedModelInfo> {
    // Bytes are transferred, so keep a copy to be able to reload after a respawn.
    const copyClassifier = (c: ClassifierFiles | undefined) => (c?.onnx ? { classifier: { ...c, onnx: c.onnx.slice(0) } } : {});
    const kept = source.kind === 'bytes' ? { ...source, onnx: source.onnx.slice(0), ...copyClassifier(source.classifier) } : source;
    const send = source.kind === 'bytes' ? Comlink.transfer(source, [source.onnx, ...(source.classifier?.onnx ? [source.classifier.onnx] : [])]) : source;
    const options = { backend: this.options.backend, numThreads: this.options.numThreads, ...(this.options.classifierBaseUrl ? { classifierBaseUrl: this.options.classifierBaseUrl } : {}) };
    const model = await this.call((api) => api.loadModel(send, options));
    this.lastSource = kept;
    this.model = model;
    return model;
  }

  get loadedModel(): LoadedModelInfo | null {
    return this.model;
  }

  /** Runs one generation; rejects with StudioError('aborted') when cancelled. */
  generate(request: GenerateRequest, onProgress: (p: StepProgress) => void): Promise<GenerateResult> {
    return this.job(onProgress, (api, progress) => {
      const req = copyRequest(request);
      return api.generate(Comlink.transfer(req, ownBuffers(req)), progress);
    });
  }

  /** Puts a defect into a photo (any size) where the mask says; see src/core/diffusion/composite.ts. */
  generateOnPhoto(request: GenerateRequest, photo: { width: number; height: number; pixels: Uint8Array; name: string }, mask: Uint8Array, margin: number, onProgress: (p: StepProgress) => void): Promise<GenerateResult> {
    return this.job(onProgress, (api, progress) => {
      const p = { ...photo, pixels: photo.pixels.slice() };
      const m = mask.slice();
      return api.generateOnPhoto(Comlink.transfer(copyRequest(request), []), Comlink.transfer(p, [p.pixels.buffer as ArrayBuffer]), Comlink.transfer(m, [m.buffer as ArrayBuffer]), margin, progress);
    });
  }

  /** One job at a time; progress of an old job and late results of an aborted job are ignored. */
  private job(onProgress: (p: StepProgress) => void, start: (api: Comlink.Remote<DiffusionWorkerApi>, progress: (p: StepProgress) => void) => Promise<GenerateResult>): Promise<GenerateResult> {
    if (this.running) return Promise.reject(new StudioError('badRequest', 'a generation is already running; one job at a time'));
    const id = ++this.jobId;
    return new Promise<GenerateResult>((resolve, reject) => {
      // Reserved synchronously, so a second call or a cancel() during the awaits below sees this job.
      this.running = { id, reject };
      void (async () => {
        // A restart in progress (cancel timeout, crash) must finish loading the model first.
        await this.restarting?.catch(() => undefined);
        const { api, dead } = await this.spawn();
        if (this.running?.id !== id) return; // cancelled while waiting
        const r = await Promise.race([start(api, Comlink.proxy((p: StepProgress) => {
          if (this.running?.id === id) onProgress(p);
        })), dead]);
        if (this.running?.id !== id) return; // late result of an aborted job
        this.running = null;
        resolve(r);
      })().catch((e: unknown) => {
        if (this.running?.id !== id) return;
        this.running = null;
        reject(toStudioError(e));
      });
    });
  }


  /** One raw model call on the worker's session (diagnostics and benchmarks). */
  runModel(inputs: DenoiseBatch): Promise<{ output: Float32Array; ms: number }> {
    return this.call((api) => api.runModel(inputs));
  }

  embedWindows(windows: Uint8Array[]): Promise<Float32Array[]> {
    return this.call((api) => api.embedWindows(windows));
  }

  /** The loaded model's judge's manifest and reference features (null: the model has no judge). */
  judgeData(): Promise<JudgeData | null> {
    return this.call((api) => api.judgeData());
  }

  downstream(input: DownstreamInput): Promise<DownstreamResult> {
    return this.call((api) => api.downstream(input));
  }

  /** The live worker (spawned if none): for the test-only hooks of src/client/debugClient.ts. */
  protected async currentWorker(): Promise<Worker> {
    return (await this.spawn()).worker;
  }

  /** Asks the worker to stop; if it has not stopped after the grace period, terminates and respawns it. */
  async cancel(): Promise<void> {
    const job = this.running;
    if (!job) return;
    const spawned = await this.spawn();
    spawned.api.cancel().catch(() => undefined);
    const grace = this.options.cancelGraceMs ?? 2000;
    await new Promise((r) => setTimeout(r, 0));
    const deadline = Date.now() + grace;
    while (this.running?.id === job.id && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (this.running?.id === job.id) {
      this.running = null;
      job.reject(new StudioError('aborted', `the job did not stop within ${grace} ms; the worker was restarted`));
      await this.restart();
    }
  }

  /**
   * The running job fails with the crash's message (calls waiting on the worker fail through its `dead`
   * promise). A model that was loaded is reloaded on a fresh worker at once, also when no job was running
   * (else the next job would find a worker without a model); a crash while idle is reported through
   * `onIdleCrash` once the reload has ended; a crash during a load (also a restart's: offline, the fresh worker's
   * script may not load) is left to the caller of loadModel (no retry loop).
   */
  private crashed(which: Promise<Spawned>, worker: Worker, err: StudioError): void {
    worker.terminate();
    if (this.spawned !== which) return; // an old worker, already replaced
    this.spawned = null;
    const job = this.running;
    if (job) {
      this.running = null;
      job.reject(err);
    }
    if (!this.model || !this.lastSource) return;
    // A worker that dies while a restart is loading the model (offline, its script cannot be fetched) belongs to
    // that restart: its caller gets the failure; reporting it as a crash while idle would be wrong.
    if (this.restarting) return;
    const notify = job ? undefined : this.options.onIdleCrash; // a job's caller has its error already
    this.restart().then(
      (reloaded) => notify?.({ error: err, reloaded }),
      (reloadError: unknown) => notify?.({ error: err, reloaded: null, reloadError }),
    );
  }

  /**
   * Terminates the worker and starts a fresh one with the last model (after a crash or a stuck job). Calls
   * during a restart share it.
   */
  restart(): Promise<LoadedModelInfo | null> {
    if (this.restarting) return this.restarting;
    const p = this.doRestart();
    const shared = p.finally(() => {
      if (this.restarting === shared) this.restarting = null;
    });
    this.restarting = shared;
    return shared;
  }

  private async doRestart(): Promise<LoadedModelInfo | null> {
    const old = this.spawned;
    this.spawned = null;
    if (old) (await old.catch(() => null))?.worker.terminate();
    if (this.running) {
      this.running.reject(new StudioError('aborted', 'the worker was restarted'));
      this.running = null;
    }
    if (!this.lastSource) return null;
    return this.loadModel(this.lastSource);
  }

  /** Switches backend (ORT's env is fixed per worker, so this respawns). */
  async setBackend(backend: BackendPreference, numThreads = this.options.numThreads): Promise<LoadedModelInfo | null> {
    await this.restarting?.catch(() => undefined);
    this.options = { ...this.options, backend, numThreads };
    return this.restart();
  }

  async dispose(): Promise<void> {
    const s = this.spawned;
    this.spawned = null;
    if (s) {
      const sp = await s.catch(() => null);
      await sp?.api.dispose().catch(() => undefined);
      sp?.worker.terminate();
    }
  }
}
