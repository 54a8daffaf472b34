/**
 * The onnxruntime-web runtime adapter: execution-provider choice and fallback, session creation, WebGPU
 * device-lost handling. An ordered table of providers (transformers.js style): WebGPU when the browser
 * offers an adapter (the device is requested with the adapter's real limits), else multi-threaded WASM.
 *
 * ORT's env cannot be reconfigured once loaded, so a worker loads one ORT build once; a different backend
 * or thread count needs a fresh worker (the client respawns it).
 */
import type { InferenceSession } from 'onnxruntime-common';
import { StudioError } from '../src/core/errors';
import type { BackendPreference, HandshakeInfo } from '../src/core/model/protocol';
import { PROTOCOL_VERSION } from '../src/core/model/protocol';

type OrtModule = typeof import('onnxruntime-web');
export type BrowserBackend = 'webgpu' | 'wasm';

let ort: OrtModule | null = null;
let ortBuild: BrowserBackend | null = null;
let adapterPromise: Promise<GPUAdapter | null> | null = null;
let device: GPUDevice | null = null;
let deviceLostReason: string | null = null;

/**
 * A software adapter (SwiftShader: isFallbackAdapter, or a CPU device) runs the model ~100x slower than WASM on
 * the same cores (npm run bench), so 'auto' passes it over; an explicit ?backend=webgpu still uses it.
 */
export function isSoftwareAdapter(adapter: GPUAdapter): boolean {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const legacy = (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter;
  return info.isFallbackAdapter === true || legacy === true || /swiftshader/i.test(`${info.vendor} ${info.architecture} ${info.description}`);
}

/** The adapter the preference may use: none for 'wasm', any for 'webgpu', a hardware one for 'auto'. */
async function adapterFor(pref: BackendPreference): Promise<GPUAdapter | null> {
  if (pref === 'wasm') return null;
  const adapter = await getAdapter();
  if (adapter && pref === 'auto' && isSoftwareAdapter(adapter)) return null;
  return adapter;
}

function getAdapter(): Promise<GPUAdapter | null> {
  adapterPromise ??= (async () => {
    const gpu = (self.navigator as Navigator & { gpu?: GPU }).gpu;
    if (!gpu) return null;
    try {
      return await gpu.requestAdapter();
    } catch {
      return null;
    }
  })();
  return adapterPromise;
}

export async function handshake(): Promise<HandshakeInfo> {
  const adapter = await getAdapter();
  const mod = await import('onnxruntime-common');
  const info: HandshakeInfo = {
    protocolVersion: PROTOCOL_VERSION,
    ortVersion: mod.env.versions.common ?? 'unknown',
    crossOriginIsolated: self.crossOriginIsolated,
    hardwareConcurrency: self.navigator.hardwareConcurrency,
    available: { webgpu: adapter !== null, wasm: typeof WebAssembly === 'object', wasmThreads: self.crossOriginIsolated },
  };
  if (adapter) {
    const ai = adapter.info;
    info.adapter = { vendor: ai.vendor, architecture: ai.architecture, description: ai.description, isFallbackAdapter: isSoftwareAdapter(adapter) };
  }
  return info;
}

async function loadOrt(build: BrowserBackend): Promise<OrtModule> {
  if (ort) {
    if (ortBuild !== build && build === 'webgpu')
      throw new StudioError('capability', 'this worker already loaded the WASM-only runtime; a fresh worker is needed for WebGPU');
    return ort;
  }
  ort = build === 'webgpu' ? ((await import('onnxruntime-web/webgpu')) as unknown as OrtModule) : ((await import('onnxruntime-web/wasm')) as unknown as OrtModule);
  ortBuild = build;
  return ort;
}

async function createDevice(adapter: GPUAdapter): Promise<GPUDevice> {
  const want: GPUFeatureName[] = ['shader-f16', 'timestamp-query', 'subgroups' as GPUFeatureName];
  const requiredFeatures = want.filter((f) => adapter.features.has(f));
  const l = adapter.limits;
  const dev = await adapter.requestDevice({
    requiredFeatures,
    requiredLimits: {
      maxBufferSize: l.maxBufferSize,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupSizeY: l.maxComputeWorkgroupSizeY,
      maxComputeWorkgroupSizeZ: l.maxComputeWorkgroupSizeZ,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
    },
  });
  void dev.lost.then((info) => {
    deviceLostReason = `${info.reason}: ${info.message}`;
  });
  return dev;
}

export function checkDevice(): void {
  if (deviceLostReason !== null) throw new StudioError('deviceLost', `the WebGPU device was lost (${deviceLostReason}); the studio restarts the worker`);
}

export interface CreatedSession {
  session: InferenceSession;
  backend: BrowserBackend;
  numThreads: number;
  Tensor: OrtModule['Tensor'];
}

/** A small CPU session (the evaluation classifier) on the WASM provider of whichever build is loaded. */
export async function createAuxSession(model: Uint8Array): Promise<{ session: InferenceSession; Tensor: OrtModule['Tensor'] }> {
  const rt = await loadOrt(ortBuild ?? 'wasm');
  const session = await rt.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  return { session, Tensor: rt.Tensor };
}

function threadCount(numThreads: number): number {
  return numThreads > 0 ? numThreads : self.crossOriginIsolated ? self.navigator.hardwareConcurrency : 1;
}

/**
 * Loads the runtime build the preference will need and sets its thread count, so that it overlaps with
 * fetching the model. Resolves to the build loaded. ORT compiles its 12 MB .wasm and starts its threads on the
 * first session created, not on import: a small session created now (the evaluation classifier) moves that
 * cost out from behind the model download.
 */
export async function prepareRuntime(pref: BackendPreference, numThreads: number): Promise<BrowserBackend> {
  const adapter = await adapterFor(pref);
  const build: BrowserBackend = adapter ? 'webgpu' : 'wasm';
  const rt = await loadOrt(build);
  rt.env.wasm.numThreads = threadCount(numThreads);
  rt.env.wasm.proxy = false;
  return build;
}

/** Creates a session on the first provider of the ordered table that works for this preference. */
export async function createSession(model: Uint8Array, pref: BackendPreference, numThreads: number): Promise<CreatedSession> {
  const adapter = await adapterFor(pref);
  if (pref === 'webgpu' && !adapter)
    throw new StudioError('capability', 'WebGPU was requested but this browser offers no WebGPU adapter; accepted backends here: wasm');
  const order: BrowserBackend[] = adapter ? ['webgpu', 'wasm'] : ['wasm'];
  const rt = await loadOrt(await prepareRuntime(pref, numThreads));
  const threads = rt.env.wasm.numThreads ?? threadCount(numThreads);
  const errors: string[] = [];
  for (const backend of order) {
    if (pref === 'webgpu' && backend !== 'webgpu') break;
    try {
      if (backend === 'webgpu' && adapter) {
        device ??= await createDevice(adapter);
        rt.env.webgpu.device = device;
      }
      const session = await rt.InferenceSession.create(model, {
        executionProviders: [backend],
        graphOptimizationLevel: 'all',
      });
      return { session, backend, numThreads: threads, Tensor: rt.Tensor };
    } catch (e) {
      errors.push(`${backend}: ${(e as Error).message}`);
    }
  }
  const msg = errors.join('; ');
  if (/protobuf|parse|invalid model|Failed to load model/i.test(msg))
    throw new StudioError('modelInvalid', `the ONNX file could not be loaded (${msg}); accepted: an ONNX model exported by training/export.py`);
  throw new StudioError('capability', `no execution provider could run the model (${msg})`);
}
