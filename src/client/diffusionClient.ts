/**
 * The one module that owns the Worker (squoosh's worker-bridge shape): a comlink-wrapped worker, a protocol
 * version check on start, one job at a time, cancel that is answered within a step or ends in terminate +
 * respawn, late results of an aborted job ignored, and error codes mapped once (toStudioError).
 */
import * as Comlink from 'comlink';
import { StudioError, isErrorCode } from '../core/errors';
import type { DenoiseBatch } from '../core/generate';
import type { DownstreamInput, DownstreamResult } from '../core/quality';
import { PROTOCOL_VERSION } from '../core/protocol';
import type {
  BackendPreference,
  DiffusionWorkerApi,
  GenerateRequest,
  GenerateResult,
  HandshakeInfo,
  LoadedModelInfo,
  ModelSource,
  StepProgress,
} from '../core/protocol';

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
}

interface Spawned {
  worker: Worker;
  api: Comlink.Remote<DiffusionWorkerApi>;
  info: HandshakeInfo;
}

export class DiffusionClient {
  private spawned: Promise<Spawned> | null = null;
  private lastSource: ModelSource | null = null;
  private model: LoadedModelInfo | null = null;
  private jobId = 0;
  private running: { id: number; reject: (e: unknown) => void } | null = null;
  private restarting: Promise<unknown> | null = null;

  constructor(private options: ClientOptions) {}

  private spawn(): Promise<Spawned> {
    this.spawned ??= (async () => {
      const worker = new Worker(new URL('../../workers/denoiser.worker.ts', import.meta.url), { type: 'module', name: 'denoiser' });
      const api = Comlink.wrap<DiffusionWorkerApi>(worker);
      // A crashed worker (an uncaught error, a failed module load) never answers: fail the running job so the
      // queue stops with a message instead of hanging; the next call spawns a fresh worker.
      worker.addEventListener('error', (ev) => {
        ev.preventDefault();
        this.crashed(`the worker crashed (${ev.message || 'no message'})`);
      });
      worker.addEventListener('messageerror', () => this.crashed('a message from the worker could not be read'));
      const info = await api.handshake();
      if (info.protocolVersion !== PROTOCOL_VERSION)
        throw new StudioError('protocol', `worker speaks protocol ${info.protocolVersion}, the page ${PROTOCOL_VERSION}: reload the page to update the cached worker`);
      return { worker, api, info };
    })();
    return this.spawned;
  }

  async handshake(): Promise<HandshakeInfo> {
    return (await this.spawn()).info;
  }

  async loadModel(source: ModelSource): Promise<LoadedModelInfo> {
    const { api } = await this.spawn();
    // Bytes are transferred, so keep a copy to be able to reload after a respawn.
    this.lastSource = source.kind === 'bytes' ? { ...source, onnx: source.onnx.slice(0) } : source;
    try {
      const send = source.kind === 'bytes' ? Comlink.transfer(source, [source.onnx]) : source;
      this.model = await api.loadModel(send, { backend: this.options.backend, numThreads: this.options.numThreads, ...(this.options.classifierBaseUrl ? { classifierBaseUrl: this.options.classifierBaseUrl } : {}) });
      return this.model;
    } catch (e) {
      throw toStudioError(e);
    }
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

  /** Puts a defect into a photo (any size) where the mask says; see src/core/composite.ts. */
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
        const { api } = await this.spawn();
        if (this.running?.id !== id) return; // cancelled while waiting
        const r = await start(api, Comlink.proxy((p: StepProgress) => {
          if (this.running?.id === id) onProgress(p);
        }));
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
  async runModel(inputs: DenoiseBatch): Promise<{ output: Float32Array; ms: number }> {
    const { api } = await this.spawn();
    try {
      return await api.runModel(inputs);
    } catch (e) {
      throw toStudioError(e);
    }
  }

  async embedWindows(windows: Uint8Array[]): Promise<Float32Array[]> {
    const { api } = await this.spawn();
    try {
      return await api.embedWindows(windows);
    } catch (e) {
      throw toStudioError(e);
    }
  }

  async downstream(input: DownstreamInput): Promise<DownstreamResult> {
    const { api } = await this.spawn();
    try {
      return await api.downstream(input);
    } catch (e) {
      throw toStudioError(e);
    }
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

  private crashed(why: string): void {
    const old = this.spawned;
    this.spawned = null;
    void old?.then((s) => s.worker.terminate(), () => undefined);
    if (this.running) {
      this.running.reject(new StudioError('inference', `${why}; the studio starts a fresh worker`));
      this.running = null;
    }
  }

  /** Terminates the worker and starts a fresh one with the last model (after a crash or a stuck job). */
  async restart(): Promise<LoadedModelInfo | null> {
    const p = this.doRestart();
    this.restarting = p;
    try {
      return await p;
    } finally {
      if (this.restarting === p) this.restarting = null;
    }
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
