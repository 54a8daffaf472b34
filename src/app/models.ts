/**
 * Model lifecycle: the model picker's list (embedded + stored user models), activating one (the worker loads it,
 * the page its mask library and whole-part masks), loading a user's model from files or a .zip (unzipped in the
 * zip worker, validated by loading it for real before it is stored), deleting one. State: `active`, the one owned
 * object of this module: the active model's parsed mask-shape library (for random and prompt masks drawn in the
 * page) and its part_masks.json (for images on the photo set, src/app/photos.ts); not UI state, so not in the
 * store (the store holds what is shown: the loaded model's info, the list of models, part mask counts per class).
 */
import * as Comlink from 'comlink';
import { modelBaseUrl, DEFAULT_MODEL_ID, DEFAULT_TARGET_PER_DEFECT_CLASS, EMBEDDED_MODEL_IDS, EMBEDDED_MODEL_NOTES } from '../config';
import { StudioError } from '../core/errors';
import { parseMaskLibrary, type MaskLibrary } from '../core/formats/maskLibrary';
import { parsePartMaskLibrary, partMaskCount, PART_MASKS_FILE, type PartMaskLibrary } from '../core/formats/partMasks';
import { formatBytes, MAX_MODEL_JSON_BYTES, MAX_MODEL_ONNX_BYTES, MAX_MODEL_ZIP_INFLATED_BYTES } from '../core/model/limits';
import { parseManifest, type ModelManifest } from '../core/model/manifest';
import type { ModelSource } from '../core/model/protocol';
import * as db from '../dataset/db';
import { classifierPart, fromZip, pickClassifierFiles, storedClassifier } from './ownClassifier';
import type { ModelChoice, Settings } from '../state/store';
import { archiveCall } from './archive';
import { client } from './client';
import { fail, S } from './common';
import { runQueue } from './queue';

const active: { maskLibrary: MaskLibrary | null; partMasks: PartMaskLibrary | null } = { maskLibrary: null, partMasks: null };

/** The active model's mask-shape library (null: it ships none). */
export function activeMaskLibrary(): MaskLibrary | null {
  return active.maskLibrary;
}

/** The active model's whole-part masks (part_masks.json; null: it ships none). */
export function activePartMasks(): PartMaskLibrary | null {
  return active.partMasks;
}

function setPartMasks(lib: PartMaskLibrary | null): void {
  active.partMasks = lib;
  S().setPartMaskCounts(lib ? Object.fromEntries(Object.keys(lib.classes).map((c) => [c, partMaskCount(lib, c)])) : null);
}

/** rec: the user model's stored record, read once per activation (null for an embedded model or one no longer stored). */
function sourceFor(choice: ModelChoice, rec: db.UserModelRecord | null): ModelSource {
  if (choice.source === 'embedded') return { kind: 'url', baseUrl: modelBaseUrl(choice.id) };
  if (!rec) throw new StudioError('modelInvalid', `model ${choice.id} is no longer stored in this browser`);
  return { kind: 'bytes', manifest: rec.manifest, onnx: rec.onnx, ...(rec.maskLibrary ? { maskLibrary: rec.maskLibrary } : {}), ...classifierPart(storedClassifier(rec)) };
}

async function fetchMaskLibrary(choice: ModelChoice, rec: db.UserModelRecord | null): Promise<MaskLibrary | null> {
  try {
    if (choice.source === 'user') return rec?.maskLibrary ? parseMaskLibrary(rec.maskLibrary) : null;
    const res = await fetch(`${modelBaseUrl(choice.id)}/mask_library.json`);
    return res.ok && (res.headers.get('content-type') ?? '').includes('json') ? parseMaskLibrary(await res.json()) : null;
  } catch {
    return null;
  }
}

/**
 * The model's part_masks.json: fetched beside an embedded model's files, from a user model's stored record.
 * A model without one gets null (the photo set option then says so); a file that does not parse is reported.
 */
async function fetchPartMasks(choice: ModelChoice, rec: db.UserModelRecord | null): Promise<PartMaskLibrary | null> {
  let raw: unknown;
  if (choice.source === 'user') raw = rec?.partMasks;
  else {
    const res = await fetch(`${modelBaseUrl(choice.id)}/${PART_MASKS_FILE}`).catch(() => null);
    if (!res?.ok || !(res.headers.get('content-type') ?? '').includes('json')) return null;
    raw = await res.json().catch(() => undefined);
    if (raw === undefined) {
      S().setNotice({ kind: 'error', text: `${choice.id}/${PART_MASKS_FILE} is not valid JSON: the photo set cannot be used with this model` });
      return null;
    }
  }
  if (raw === undefined) return null;
  try {
    return parsePartMaskLibrary(raw);
  } catch (e) {
    S().setNotice({ kind: 'error', text: `${(e as Error).message}: the photo set cannot be used with model ${choice.id}` });
    return null;
  }
}

/**
 * A JSON file an embedded model may ship beside its manifest (downstream.json: the downstream protocol's report)
 * as text; null when it ships none (a 404, or the server's page fallback, which is not JSON). Other failures throw.
 */
export async function embeddedModelJson(id: string, file: string): Promise<string | null> {
  const res = await fetch(`${modelBaseUrl(id)}/${file}`);
  if (res.status === 404 || (res.ok && !(res.headers.get('content-type') ?? '').includes('json'))) return null;
  if (!res.ok) throw new Error(`${id}/${file}: HTTP ${res.status}`);
  return res.text();
}

export async function refreshModels(): Promise<ModelChoice[]> {
  const users = await db.listUserModels().catch(() => []);
  const models: ModelChoice[] = [
    ...EMBEDDED_MODEL_IDS.map((id) => ({ id, label: `${id} (${EMBEDDED_MODEL_NOTES[id] ?? 'embedded'})`, source: 'embedded' as const })),
    ...users.map((u) => ({ id: u.id, label: `${u.id} (loaded ${u.addedAt.slice(0, 10)})`, source: 'user' as const })),
  ];
  S().setModels(models);
  return models;
}

/**
 * The settings a model brings when it becomes the active one: its own sampler defaults when the model changes (a
 * distilled student takes guidance 1 and few steps; a teacher's 20 guided steps would waste it, or be refused),
 * and a class it has. Used for embedded and user models alike.
 */
function settingsFor(manifest: ModelManifest, id: string): Partial<Settings> {
  const { settings } = S();
  const patch: Partial<Settings> = { modelId: id };
  const d = manifest.defaults;
  if (settings.modelId !== id || (manifest.distillation && settings.guidance !== 1))
    Object.assign(patch, { sampler: d.sampler, steps: d.steps, guidance: d.guidance });
  if (!manifest.classes.includes(settings.className)) patch.className = manifest.classes[0] ?? '';
  // Defect classes without a target yet start at the protocol's count (a target the user set is kept).
  const lib = active.maskLibrary;
  const unset = lib ? manifest.classes.filter((c) => (lib.classes[c]?.length ?? 0) > 0 && settings.targets[c] === undefined) : [];
  if (unset.length) patch.targets = { ...settings.targets, ...Object.fromEntries(unset.map((c) => [c, DEFAULT_TARGET_PER_DEFECT_CLASS])) };
  return patch;
}

export async function activateModel(id: string): Promise<void> {
  const choice = S().models.find((m) => m.id === id) ?? S().models[0];
  if (!choice) return;
  S().setStatus({ kind: 'loadingModel' });
  try {
    const rec = choice.source === 'user' ? await db.getUserModel(choice.id) : null;
    const [model, lib, parts] = await Promise.all([client.loadModel(sourceFor(choice, rec)), fetchMaskLibrary(choice, rec), fetchPartMasks(choice, rec)]);
    active.maskLibrary = lib;
    setPartMasks(parts);
    S().setEngine(S().handshake, model);
    S().updateSettings(settingsFor(model.manifest, choice.id));
    S().setStatus({ kind: 'ready' });
    void runQueue();
  } catch (e) {
    S().setStatus({ kind: 'error', ...fail(e) });
  }
}

/**
 * Loads a user model from files: model.onnx + manifest.json (+ optional mask_library.json and part_masks.json),
 * or one .zip holding them. The worker validates it (manifest fields, sha256, session tensor names) before it is stored.
 */
export async function addUserModel(files: readonly File[]): Promise<string> {
  let manifestText: string | undefined;
  let onnx: ArrayBuffer | undefined;
  let lib: string | undefined;
  let partsText: string | undefined;
  const tooBig = (f: File, limit: number, what: string) => {
    if (f.size > limit) throw new StudioError('modelInvalid', `${f.name} is ${formatBytes(f.size)}; the limit for ${what} is ${formatBytes(limit)}`);
  };
  // The model's own classifier (its judge), when the files carry one: loose files, or a zip's classifier/ folder.
  const picked = await pickClassifierFiles(files);
  let classifier = picked.classifier;
  for (const f of picked.rest) {
    const name = f.name.toLowerCase();
    if (name.endsWith('.zip')) {
      tooBig(f, MAX_MODEL_ZIP_INFLATED_BYTES, 'a model .zip');
      const bytes = new Uint8Array(await f.arrayBuffer());
      const read = await archiveCall((w) => w.readModelZip(Comlink.transfer(bytes, [bytes.buffer]), f.name));
      manifestText = read.manifestText ?? manifestText;
      lib = read.maskLibraryText ?? lib;
      partsText = read.partMasksText ?? partsText;
      classifier = fromZip(read.classifier) ?? classifier;
      if (read.onnx) onnx = read.onnx.buffer.byteLength === read.onnx.byteLength ? (read.onnx.buffer as ArrayBuffer) : read.onnx.slice().buffer;
    } else if (name.endsWith('.onnx')) {
      tooBig(f, MAX_MODEL_ONNX_BYTES, 'an .onnx file');
      onnx = await f.arrayBuffer();
    } else if (name.endsWith('.json')) {
      tooBig(f, MAX_MODEL_JSON_BYTES, "a model's JSON file");
      if (name === 'mask_library.json') lib = await f.text();
      else if (name === PART_MASKS_FILE) partsText = await f.text();
      else manifestText = await f.text();
    } else throw new StudioError('modelInvalid', `${f.name} is not a model file; accepted: model .onnx + manifest.json (+ mask_library.json, ${PART_MASKS_FILE}), or a .zip of them`);
  }
  if (!manifestText || !onnx) throw new StudioError('modelInvalid', `a model needs both manifest.json and an .onnx file; got ${files.map((f) => f.name).join(', ')}`);
  let manifestRaw: unknown;
  try {
    manifestRaw = JSON.parse(manifestText);
  } catch {
    throw new StudioError('modelInvalid', 'manifest.json is not valid JSON');
  }
  const manifest = parseManifest(manifestRaw);
  if (EMBEDDED_MODEL_IDS.includes(manifest.id))
    throw new StudioError('modelInvalid', `manifest.json has id "${manifest.id}", the id of an embedded model; give your model its own id (letters, digits, ".", "_", "-")`);
  let maskLibraryRaw: unknown;
  try {
    maskLibraryRaw = lib ? (JSON.parse(lib) as unknown) : undefined;
  } catch {
    throw new StudioError('modelInvalid', 'mask_library.json is not valid JSON');
  }
  let partMasksRaw: unknown;
  let partMasks: PartMaskLibrary | null = null;
  if (partsText !== undefined) {
    try {
      partMasksRaw = JSON.parse(partsText) as unknown;
    } catch {
      throw new StudioError('modelInvalid', `${PART_MASKS_FILE} is not valid JSON`);
    }
    partMasks = parsePartMaskLibrary(partMasksRaw);
  }
  // Validate by loading it for real before storing it.
  S().setStatus({ kind: 'loadingModel' });
  try {
    const model = await client.loadModel({ kind: 'bytes', manifest: manifestRaw, onnx: onnx.slice(0), ...(maskLibraryRaw ? { maskLibrary: maskLibraryRaw } : {}), ...classifierPart(classifier) });
    // (the record's `classifier` field is read back by storedClassifier)
    await db.putUserModel({ id: manifest.id, addedAt: new Date().toISOString(), manifest: manifestRaw, onnx, ...(maskLibraryRaw ? { maskLibrary: maskLibraryRaw } : {}), ...(partMasks ? { partMasks: partMasksRaw } : {}), ...classifierPart(classifier) });
    await refreshModels();
    active.maskLibrary = maskLibraryRaw ? parseMaskLibrary(maskLibraryRaw) : null;
    setPartMasks(partMasks);
    S().setEngine(S().handshake, model);
    S().updateSettings(settingsFor(model.manifest, manifest.id));
    S().setStatus({ kind: 'ready' });
    return manifest.id;
  } catch (e) {
    // The bad model is not stored. The worker keeps the model that was loaded when a new one is refused (and
    // the client reloads it after a crash); when the worker took the new model but storing it failed (storage
    // full), or none is loaded, the page's active model is loaded again so page and worker agree.
    const active = S().settings.modelId || DEFAULT_MODEL_ID;
    if (client.loadedModel && client.loadedModel.manifest.id === active) S().setStatus({ kind: 'ready' });
    else await activateModel(active);
    throw e;
  }
}

/**
 * Deletes a stored user model. The embedded default cannot be deleted; when the deleted model is the active one,
 * the default is loaded in its place.
 */
export async function deleteUserModel(id: string): Promise<void> {
  const choice = S().models.find((m) => m.id === id);
  if (!choice || choice.source !== 'user') throw new StudioError('badRequest', `${id} is not a stored user model (the embedded default cannot be deleted)`);
  await db.deleteUserModel(id);
  await refreshModels();
  if (S().settings.modelId === id || client.loadedModel?.manifest.id === id) await activateModel(DEFAULT_MODEL_ID);
}
