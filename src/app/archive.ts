/**
 * Dataset export and import through the zip worker (workers/archive.worker.ts: export, import and model zips run
 * there, so a large file does not block the page). State: `zipWorker`, the one owned object of this module (the
 * live worker, not UI state). The worker is started at start-up, while the studio's files can still be fetched;
 * if its script fails to load (offline before it was ever fetched) or it dies, every pending call fails with a
 * message and the next call starts a fresh one, instead of a promise that never settles (which left the Export
 * button disabled for good).
 */
import * as Comlink from 'comlink';
import { StudioError, isErrorCode } from '../core/errors';
import { formatBytes, MAX_IMPORT_INFLATED_BYTES } from '../core/model/limits';
import type { ArchiveWorkerApi } from '../dataset/archiveApi';
import * as db from '../dataset/db';
import { pngUrl, S, strip } from './common';

interface ZipWorker {
  remote: Comlink.Remote<ArchiveWorkerApi>;
  worker: Worker;
  failed: Promise<never>;
}
const zipWorker: { current: ZipWorker | null } = { current: null };

/** The zip worker, started if none is running. */
export function archiveWorker(): ZipWorker {
  if (zipWorker.current) return zipWorker.current;
  const worker = new Worker(new URL('../../workers/archive.worker.ts', import.meta.url), { type: 'module', name: 'archive' });
  const failed = new Promise<never>((_, reject) => {
    worker.addEventListener('error', (ev: ErrorEvent) => {
      ev.preventDefault();
      reject(new StudioError('capability', `the zip worker ${ev.message ? `stopped (${ev.message})` : 'could not be loaded (its script could not be fetched: offline?)'}; it is started again on the next try, and a reload fetches it again`));
    });
  });
  failed.catch(() => undefined);
  const a = { remote: Comlink.wrap<ArchiveWorkerApi>(worker), worker, failed };
  zipWorker.current = a;
  return a;
}

export async function archiveCall<T>(call: (api: Comlink.Remote<ArchiveWorkerApi>) => Promise<T>): Promise<T> {
  const a = archiveWorker();
  try {
    return await Promise.race([call(a.remote), a.failed]);
  } catch (e) {
    if ((e as Error).name === 'capability') {
      a.worker.terminate();
      if (zipWorker.current === a) zipWorker.current = null;
    }
    return rethrow(e);
  }
}

/** comlink rebuilds a thrown error as a plain Error with its name and message: keep them a StudioError. */
function rethrow(e: unknown): never {
  const err = e as Error;
  throw new StudioError(isErrorCode(err.name) ? err.name : 'badRequest', err.message);
}

export async function exportDataset(): Promise<{ bytes: Uint8Array; name: string }> {
  const items = S().items.map(strip);
  const images = await db.getImages(items.map((i) => i.id));
  // Categories: the model's classes in manifest order, then any other class present in the dataset (imports,
  // items made with another model), so no accepted item loses its annotation.
  const classes = [...new Set([...(S().model?.manifest.classes ?? []), ...items.map((i) => i.className)])];
  const now = new Date().toISOString();
  const bytes = await archiveCall((w) => w.buildExport(items, [...images.values()], classes, now));
  return { bytes, name: `defect-dataset-${now.slice(0, 19).replace(/[:T]/g, '-')}.zip` };
}

/**
 * Imports an export zip: the archive worker checks all of it (schema, PNGs, limits) first, then every new item is
 * stored in one transaction (all or nothing). Items whose id is already in the studio are kept as they are and
 * counted, not overwritten.
 */
export async function importDataset(file: File, opts: { skipBad?: boolean } = {}): Promise<{ imported: number; alreadyHere: number; skipped: { line: number; problem: string }[] }> {
  if (file.size > MAX_IMPORT_INFLATED_BYTES)
    throw new StudioError('badRequest', `${file.name} is ${formatBytes(file.size)}; the limit for a dataset zip is ${formatBytes(MAX_IMPORT_INFLATED_BYTES)}`);
  const bytes = new Uint8Array(await file.arrayBuffer());
  const read = await archiveCall((w) => w.readExport(Comlink.transfer(bytes, [bytes.buffer]), opts.skipBad ?? false));
  const images = new Map(read.images.map((i) => [i.id, i]));
  const existing = new Set(S().items.map((i) => i.id));
  const fresh = read.items.filter((i) => !existing.has(i.id));
  const entries = fresh.map((item) => {
    const img = images.get(item.id);
    if (!img) throw new StudioError('badRequest', `item ${item.id} came back from the zip worker without its pixels; nothing was imported`);
    return { item, images: img };
  });
  await db.putItems(entries);
  S().addItems(entries.map(({ item, images: img }) => ({ ...item, url: pngUrl(img.png), maskUrl: pngUrl(img.maskPng) })));
  return { imported: fresh.length, alreadyHere: read.items.length - fresh.length, skipped: read.skipped };
}
