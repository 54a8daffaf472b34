/**
 * The one constructor of a Provenance record (what metadata.jsonl, the PNG parameters and the studio's items
 * carry), used by the window loop (diffusion/generate.ts) and the photo paths (diffusion/composite.ts
 * photoProvenance, for tiled.ts and the older window-by-window items). The key order is the order of the
 * record in metadata.jsonl, so it must not change.
 *
 * Filled in after generation by the one who knows: `threads` by whoever ran the network (the worker, the CLI),
 * `maskOrigin` by the studio (how the mask was made in the UI).
 */
import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex } from '@noble/hashes/utils';
import type { ModelManifest } from './manifest';
import type { Backend, BasePhotoInfo, GenerateRequest, PhotoWindow, Provenance, Tiling } from './protocol';

/** How the image was made: what the sampling loop found out. */
export interface RunRecord {
  maskSource: Provenance['maskSource'];
  /** the 0/1 mask the model was conditioned on (its sha256 is recorded) */
  mask: Uint8Array;
  inpainting: boolean;
  backend: Backend;
  timings: Provenance['timings'];
  modelEvaluations: number;
}

/** Photo items: the photo, the windows regenerated in it and, when jointly denoised, the tiling. */
export interface PhotoRecord {
  basePhoto: BasePhotoInfo;
  windows: readonly PhotoWindow[];
  tiling?: Tiling | undefined;
}

export function buildProvenance(m: ModelManifest, req: GenerateRequest, run: RunRecord, photo?: PhotoRecord): Provenance {
  return {
    modelId: m.id,
    modelVersion: m.version,
    modelSha256: m.sha256,
    className: req.className,
    classIndex: m.classes.indexOf(req.className),
    prompt: req.prompt,
    seed: req.seed,
    sampler: req.sampler,
    steps: req.steps,
    guidance: req.guidance,
    ...(req.guidanceInterval ? { guidanceInterval: [req.guidanceInterval[0], req.guidanceInterval[1]] as const } : {}),
    eta: req.eta,
    timestepSpacing: req.timestepSpacing,
    clipSample: req.clipSample,
    maskSource: run.maskSource,
    maskSha256: bytesToHex(sha256(run.mask)),
    inpainting: run.inpainting,
    backend: run.backend,
    timings: run.timings,
    modelEvaluations: run.modelEvaluations,
    ...(photo
      ? {
          basePhoto: { ...photo.basePhoto },
          windows: photo.windows.map((w) => ({ x: w.x, y: w.y, size: w.size, hole: { ...w.hole } })),
          ...(photo.tiling ? { tiling: { ...photo.tiling } } : {}),
        }
      : {}),
  };
}
