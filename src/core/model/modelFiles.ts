/**
 * One reader of a denoiser's files (manifest.json, the ONNX file it names, the optional mask_library.json),
 * shared by the worker (fetched from a URL, or bytes stored in IndexedDB) and Node (scripts/lib/nodeModel.ts,
 * from a folder). How the bytes are fetched is the caller's (ModelFileSource); the order, the checks and their
 * messages are here once: the manifest is parsed once, the ONNX file's sha256 checked against it, the mask
 * library parsed last. Creating the session is the runtime's (workers/ortWeb.ts, onnxruntime-node).
 */
import { parseMaskLibrary, type MaskLibrary } from '../formats/maskLibrary';
import { checkSha256, parseManifest, type ModelManifest } from './manifest';

export interface ModelFileSource<B extends ArrayBuffer | Uint8Array> {
  /** true when the files are fetched (the load's phases then time the fetch); false for bytes at hand */
  fetched: boolean;
  /** The raw manifest.json (not yet checked). */
  manifest(): Promise<unknown>;
  /** The ONNX file the manifest names. */
  onnx(file: string): Promise<B>;
  /** The raw mask_library.json, or undefined when the model ships none. */
  maskLibrary(): Promise<unknown>;
}

export interface ModelFiles<B> {
  manifestRaw: unknown;
  manifest: ModelManifest;
  onnx: B;
  maskLibrary: MaskLibrary | null;
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
  return { manifestRaw, manifest, onnx, maskLibrary };
}
