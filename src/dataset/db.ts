/**
 * IndexedDB persistence (idb): items (metadata), images (PNG bytes, kept apart so listing stays light),
 * userModels (models the user loaded), photos and photoPixels (the base photo set: metadata, and the gray pixels
 * apart so listing stays light; since version 2). Every write is awaited
 * before the UI reports it done, so a reload or a tab crash loses nothing that was shown as saved.
 * A full quota surfaces as StudioError('storageFull').
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { StudioError } from '../core/errors';
import { parseDatasetItem } from './record';
import type { DatasetItem, ItemImages } from './types';

export interface UserModelRecord {
  id: string;
  addedAt: string;
  manifest: unknown;
  onnx: ArrayBuffer;
  maskLibrary?: unknown;
  /** part_masks.json (whole-part masks for the photo set), parsed and checked before it was stored */
  partMasks?: unknown;
}

/** A stored base photo (the pixels are in photoPixels under the same name). */
export interface PhotoRecord {
  /** file name, unique in the set (the name the CLI's --photos folder would have it under) */
  name: string;
  width: number;
  height: number;
  /** sha256 of the 8-bit gray pixels, as provenance.basePhoto records it */
  sha256: string;
  /** size of the file that was added */
  fileBytes: number;
  addedAt: string;
}

export interface PhotoPixels {
  name: string;
  /** 8-bit gray, row-major, width x height */
  pixels: Uint8Array;
}

interface StudioDb extends DBSchema {
  items: { key: string; value: DatasetItem; indexes: { byCreated: string } };
  images: { key: string; value: ItemImages };
  userModels: { key: string; value: UserModelRecord };
  photos: { key: string; value: PhotoRecord };
  photoPixels: { key: string; value: PhotoPixels };
}

export const DB_NAME = 'defect-diffusion-studio';
export const DB_VERSION = 2;
let dbp: Promise<IDBPDatabase<StudioDb>> | null = null;

/**
 * The database, opened once. Upgrades go version by version from the one found, so a database of any earlier
 * version keeps its stores and records: 1 items, images, userModels; 2 photos, photoPixels. A tab still holding
 * an older version open is asked to close it (blocking) so the upgrade is not held up.
 */
export function db(): Promise<IDBPDatabase<StudioDb>> {
  dbp ??= openDB<StudioDb>(DB_NAME, DB_VERSION, {
    upgrade(d, oldVersion) {
      if (oldVersion < 1) {
        const items = d.createObjectStore('items', { keyPath: 'id' });
        items.createIndex('byCreated', 'createdAt');
        d.createObjectStore('images', { keyPath: 'id' });
        d.createObjectStore('userModels', { keyPath: 'id' });
      }
      if (oldVersion < 2) {
        d.createObjectStore('photos', { keyPath: 'name' });
        d.createObjectStore('photoPixels', { keyPath: 'name' });
      }
    },
    blocking() {
      void dbp?.then((d) => d.close());
      dbp = null;
    },
    // Another tab holds an older version open and does not let go (a build from before the blocking handler):
    // the upgrade waits for it, and the page says so instead of sitting on "Loading".
    blocked() {
      onBlocked?.();
    },
  });
  return dbp;
}

let onBlocked: (() => void) | null = null;
/** Called when opening the database waits for another tab of the studio to close (src/app/start.ts shows a notice). */
export function onDatabaseBlocked(fn: () => void): void {
  onBlocked = fn;
}

/** Closes the connection (tests; a later call opens it again). */
export async function closeDb(): Promise<void> {
  const p = dbp;
  dbp = null;
  if (p) (await p).close();
}

function mapQuota(e: unknown): never {
  const err = e as DOMException;
  if (err?.name === 'QuotaExceededError')
    throw new StudioError('storageFull', 'browser storage is full: nothing more can be saved. Export the dataset and delete rejected items, or free space, before generating more.');
  throw e;
}

/**
 * Stores items with their pixels in ONE transaction: all or nothing. A put that throws synchronously (a record
 * without its key path) aborts the transaction explicitly: left alone, the puts queued before it would commit.
 */
export async function putItems(entries: readonly { item: DatasetItem; images: ItemImages }[]): Promise<void> {
  for (const { item, images } of entries)
    if (typeof item?.id !== 'string' || !item.id || images?.id !== item.id)
      throw new StudioError('badRequest', `item ${JSON.stringify(item?.id)} cannot be stored: it has no id or its pixels carry another one; nothing was saved`);
  const tx = (await db()).transaction(['items', 'images'], 'readwrite');
  const reqs: Promise<unknown>[] = [];
  try {
    for (const { item, images } of entries) {
      const at = item.id;
      try {
        reqs.push(tx.objectStore('items').put(item), tx.objectStore('images').put(images));
      } catch (e) {
        throw new StudioError('badRequest', `item ${at} cannot be stored (${(e as Error).message}); nothing was saved`);
      }
    }
  } catch (e) {
    tx.abort();
    await Promise.allSettled([...reqs, tx.done]);
    throw e;
  }
  try {
    await Promise.all([...reqs, tx.done]);
  } catch (e) {
    mapQuota(e);
  }
}

export async function updateItems(items: readonly DatasetItem[]): Promise<void> {
  try {
    const tx = (await db()).transaction('items', 'readwrite');
    await Promise.all([...items.map((it) => tx.store.put(it)), tx.done]);
  } catch (e) {
    mapQuota(e);
  }
}

/** A stored record that does not pass the item schema: listed apart so the studio starts, deletable. */
export interface DamagedRecord {
  key: string;
  problem: string;
  raw: unknown;
}

/**
 * Every stored item, oldest first, each checked against the schema (record.ts). A record that fails it (an old
 * bug, a hand-edited database) comes back in `damaged` instead of reaching the UI. All records are read, not
 * the byCreated index: the index skips a record without createdAt, which would then never be listed.
 */
export async function listItems(): Promise<{ items: DatasetItem[]; damaged: DamagedRecord[] }> {
  const tx = (await db()).transaction('items');
  const [keys, values] = await Promise.all([tx.store.getAllKeys(), tx.store.getAll(), tx.done]);
  const items: DatasetItem[] = [];
  const damaged: DamagedRecord[] = [];
  values.forEach((raw, i) => {
    const key = String(keys[i]);
    try {
      parseDatasetItem(raw, { allowUnknown: true });
      items.push(raw);
    } catch (e) {
      damaged.push({ key, problem: (e as Error).message, raw });
    }
  });
  items.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  return { items, damaged };
}

export async function getImages(ids: readonly string[]): Promise<Map<string, ItemImages>> {
  const tx = (await db()).transaction('images');
  const out = new Map<string, ItemImages>();
  await Promise.all(
    ids.map(async (id) => {
      const v = await tx.store.get(id);
      if (v) out.set(id, v);
    }),
  );
  await tx.done;
  return out;
}

export async function deleteItems(ids: readonly string[]): Promise<void> {
  const tx = (await db()).transaction(['items', 'images'], 'readwrite');
  await Promise.all([...ids.flatMap((id) => [tx.objectStore('items').delete(id), tx.objectStore('images').delete(id)]), tx.done]);
}

export async function putUserModel(rec: UserModelRecord): Promise<void> {
  try {
    await (await db()).put('userModels', rec);
  } catch (e) {
    mapQuota(e);
  }
}

export async function listUserModels(): Promise<UserModelRecord[]> {
  return (await db()).getAll('userModels');
}

/** One stored user model (its ONNX bytes included), or null. */
export async function getUserModel(id: string): Promise<UserModelRecord | null> {
  return (await (await db()).get('userModels', id)) ?? null;
}

export async function deleteUserModel(id: string): Promise<void> {
  await (await db()).delete('userModels', id);
}

/** The photo set's records (no pixels), in the order the photo choice indexes them (photoChoice.ts photoOrder). */
export async function listPhotos(): Promise<PhotoRecord[]> {
  const all = await (await db()).getAll('photos');
  return all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export async function getPhotoPixels(name: string): Promise<Uint8Array | null> {
  return (await (await db()).get('photoPixels', name))?.pixels ?? null;
}

/** Stores photos with their pixels in ONE transaction: all or nothing. */
export async function putPhotos(entries: readonly { record: PhotoRecord; pixels: Uint8Array }[]): Promise<void> {
  for (const { record, pixels } of entries)
    if (typeof record?.name !== 'string' || !record.name || pixels?.length !== record.width * record.height)
      throw new StudioError('badRequest', `photo ${JSON.stringify(record?.name)} cannot be stored: no name, or its pixels are not ${record?.width} x ${record?.height}; nothing was saved`);
  try {
    const tx = (await db()).transaction(['photos', 'photoPixels'], 'readwrite');
    let puts: Promise<unknown>[];
    try {
      puts = entries.flatMap(({ record, pixels }) => [tx.objectStore('photos').put(record), tx.objectStore('photoPixels').put({ name: record.name, pixels })]);
    } catch (e) {
      tx.abort(); // a put that throws at once (a value IndexedDB cannot clone) must not leave the earlier ones committed
      throw e;
    }
    await Promise.all([...puts, tx.done]);
  } catch (e) {
    mapQuota(e);
  }
}

/** Deletes the named photos (all of them when names is null). */
export async function deletePhotos(names: readonly string[] | null): Promise<void> {
  const tx = (await db()).transaction(['photos', 'photoPixels'], 'readwrite');
  if (names === null) await Promise.all([tx.objectStore('photos').clear(), tx.objectStore('photoPixels').clear(), tx.done]);
  else await Promise.all([...names.flatMap((n) => [tx.objectStore('photos').delete(n), tx.objectStore('photoPixels').delete(n)]), tx.done]);
}

export interface StorageInfo {
  usedBytes: number;
  quotaBytes: number;
  persisted: boolean;
}

export async function storageInfo(): Promise<StorageInfo | null> {
  if (!navigator.storage?.estimate) return null;
  const e = await navigator.storage.estimate();
  const persisted = navigator.storage.persisted ? await navigator.storage.persisted() : false;
  return { usedBytes: e.usage ?? 0, quotaBytes: e.quota ?? 0, persisted };
}

export async function requestPersistence(): Promise<boolean> {
  return navigator.storage?.persist ? navigator.storage.persist() : false;
}
