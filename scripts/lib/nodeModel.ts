/**
 * Loads a model directory (manifest.json + ONNX + optional mask_library.json) under Node with either
 * onnxruntime-node (backend "native") or onnxruntime-web's WASM backend (backend "wasm"), checking the
 * sha256 and the manifest against the session exactly as the browser worker does (the same reader,
 * src/core/model/modelFiles.ts, with the files read from the folder).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InferenceSession } from 'onnxruntime-common';
import type { DenoiseFn } from '../../src/core/model/denoiser';
import type { ModelManifest } from '../../src/core/model/manifest';
import { readModelFiles } from '../../src/core/model/modelFiles';
import type { MaskLibrary } from '../../src/core/formats/maskLibrary';
import { createOrtDenoiser, type TensorCtor } from '../../src/runtime/ortDenoiser';
import { StudioError } from '../../src/core/errors';

export type NodeBackend = 'native' | 'wasm';
export const NODE_BACKENDS: readonly NodeBackend[] = ['native', 'wasm'];

export interface NodeModel {
  manifest: ModelManifest;
  maskLibrary: MaskLibrary | null;
  session: InferenceSession;
  denoise: DenoiseFn;
  backend: NodeBackend;
  threads: number;
}

export async function loadNodeModel(dir: string, backend: NodeBackend, threads = 0): Promise<NodeModel> {
  const manifestPath = join(dir, 'manifest.json');
  const { manifest, onnx: bytes, maskLibrary } = await readModelFiles<Buffer>(
    {
      fetched: false,
      manifest: async () => {
        if (!existsSync(manifestPath)) throw new StudioError('modelInvalid', `${manifestPath} does not exist; --model must be a folder holding manifest.json and the ONNX file`);
        try {
          return JSON.parse(readFileSync(manifestPath, 'utf8')) as unknown;
        } catch (e) {
          throw new StudioError('modelInvalid', `${manifestPath} is not valid JSON (${(e as Error).message})`);
        }
      },
      onnx: async (file) => readFileSync(join(dir, file)),
      maskLibrary: async () => {
        const libPath = join(dir, 'mask_library.json');
        return existsSync(libPath) ? (JSON.parse(readFileSync(libPath, 'utf8')) as unknown) : undefined;
      },
    },
    (b) => createHash('sha256').update(b).digest('hex'),
  );
  const n = threads > 0 ? threads : (await import('node:os')).availableParallelism();
  let session: InferenceSession;
  let Tensor: TensorCtor;
  if (backend === 'native') {
    // onnxruntime-node is CommonJS: under ESM loaders its API may sit on the default export or on the namespace.
    const mod: typeof import('onnxruntime-node') & { default?: typeof import('onnxruntime-node') } = await import('onnxruntime-node');
    const ort = mod.default ?? mod;
    session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: n, interOpNumThreads: 1, executionMode: 'sequential' });
    Tensor = ort.Tensor as unknown as TensorCtor;
  } else {
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = n;
    session = await ort.InferenceSession.create(new Uint8Array(bytes), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    Tensor = ort.Tensor as unknown as TensorCtor;
  }
  return { manifest, maskLibrary, session, denoise: createOrtDenoiser(session, manifest, Tensor), backend, threads: n };
}
