/**
 * One reader of a denoiser's files (manifest.json, the ONNX file it names, the optional mask_library.json, the
 * optional classifier/ folder of its own evaluation classifier), shared by the worker (fetched from a URL, or bytes
 * stored in IndexedDB) and Node (scripts/lib/nodeModel.ts, from a folder). How the bytes are fetched is the
 * caller's (ModelFileSource); the order, the checks and their messages are here once: the manifest is parsed once,
 * the ONNX file's sha256 checked against it, the mask library parsed last. The classifier's files are only read
 * here, never refused here: a bad classifier costs the model its judge, not the model (src/core/quality/judgeChoice.ts
 * checks them). Creating the sessions is the runtime's (workers/ortWeb.ts, onnxruntime-node).
 */
import { parseMaskLibrary, type MaskLibrary } from '../formats/maskLibrary';
import { checkSha256, parseManifest, type ModelManifest } from './manifest';

/**
 * A model's own evaluation classifier as carried in its folder or zip: classifier/manifest.json,
 * classifier/model.onnx (the file that manifest names) and classifier/reference_features.json, each as read
 * (any may be missing; judgeChoice.ts checkOwnClassifier says which).
 */
export interface OwnClassifierFiles<B> {
  manifestText?: string;
  onnx?: B;
  referenceFeaturesText?: string;
}

export interface ModelFileSource<B extends ArrayBuffer | Uint8Array> {
  /** true when the files are fetched (the load's phases then time the fetch); false for bytes at hand */
  fetched: boolean;
  /** The raw manifest.json (not yet checked). */
  manifest(): Promise<unknown>;
  /** The ONNX file the manifest names. */
  onnx(file: string): Promise<B>;
  /** The raw mask_library.json, or undefined when the model ships none. */
  maskLibrary(): Promise<unknown>;
  /** The model's classifier/ files, or undefined when it carries none (a source without the method: none). */
  classifier?(): Promise<OwnClassifierFiles<B> | undefined>;
}

export interface ModelFiles<B> {
  manifestRaw: unknown;
  manifest: ModelManifest;
  onnx: B;
  maskLibrary: MaskLibrary | null;
  /**
   * The model's own classifier: null when it carries none; `problem` when its files could not be read (the model
   * itself still loads).
   */
  classifier: OwnClassifierFiles<B> | { problem: string } | null;
}

/** Reads and checks a model's files; `mark(phase)` is called as each phase ends (the worker times them). */
export async function readModelFiles<B extends ArrayBuffer | Uint8Array>(
  src: ModelFileSource<B>,
  sha256Hex: (bytes: B) => Promise<string> | string,
  mark: (phase: string) => void = () => undefined,
): Promise<ModelFiles<B>> {
  const manifestRaw = await src.manifest();
  const manifest = parseManifest(manifestRaw);
  const onnx = await src.onnx(manifest.file);
  if (src.fetched) mark('fetch manifest + model');
  const libRaw = await src.maskLibrary();
  mark('fetch mask library');
  checkSha256(manifest, await sha256Hex(onnx), onnx.byteLength);
  mark('sha256');
  const maskLibrary = libRaw === undefined ? null : parseMaskLibrary(libRaw);
  let classifier: ModelFiles<B>['classifier'] = null;
  if (src.classifier) {
    try {
      classifier = (await src.classifier()) ?? null;
    } catch (e) {
      classifier = { problem: `its classifier/ files could not be read: ${(e as Error).message}` };
    }
    if (src.fetched) mark('fetch classifier/');
  }
  return { manifestRaw, manifest, onnx, maskLibrary, classifier };
}
