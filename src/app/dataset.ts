/**
 * The stored dataset in the page: loading it from IndexedDB at start-up, deleting rejected items, and the
 * damaged records (listed, downloaded, deleted). No state of its own: items live in the store, bytes in IndexedDB.
 */
import * as db from '../dataset/db';
import { pngUrl, S } from './common';

/** How much the browser lets the studio store, and whether it is persistent (the Dataset panel shows it). */
export { storageInfo, type StorageInfo } from '../dataset/db';

/**
 * Loads the stored dataset in chunks, yielding to the event loop between them: creating thousands of Blob
 * URLs in one go blocks the page for seconds (measured by bench/studio.ts).
 */
export async function loadDataset(): Promise<void> {
  const { items, damaged } = await db.listItems();
  const CHUNK = 100;
  S().setItems([]);
  for (let i = 0; i < items.length; i += CHUNK) {
    const part = items.slice(i, i + CHUNK);
    const images = await db.getImages(part.map((it) => it.id));
    S().addItems(
      part.flatMap((it) => {
        const img = images.get(it.id);
        if (!img || !(img.png instanceof Uint8Array) || !(img.maskPng instanceof Uint8Array)) {
          damaged.push({ key: it.id, problem: 'its image or mask bytes are not stored', raw: it });
          return [];
        }
        return [{ ...it, url: pngUrl(img.png), maskUrl: pngUrl(img.maskPng) }];
      }),
    );
    await new Promise((r) => setTimeout(r, 0));
  }
  S().setDamaged(damaged);
  if (damaged.length)
    S().setNotice({ kind: 'error', text: `${damaged.length} stored item${damaged.length === 1 ? ' is' : 's are'} damaged and not shown (first: ${damaged[0]?.key}: ${damaged[0]?.problem}). The Dataset panel lists them; download or delete them there.` });
}

/** Deletes the damaged records (and any pixels stored under their keys). */
export async function deleteDamaged(): Promise<number> {
  const keys = S().damaged.map((d) => d.key);
  await db.deleteItems(keys);
  S().setDamaged([]);
  return keys.length;
}

/** The damaged records as they are stored, with their pixels base64-encoded where present, as one JSON file. */
export async function exportDamaged(): Promise<{ bytes: Uint8Array; name: string }> {
  const { damaged } = S();
  const images = await db.getImages(damaged.map((d) => d.key));
  const b64 = (b: unknown) => (b instanceof Uint8Array ? btoa(Array.from(b, (c) => String.fromCharCode(c)).join('')) : null);
  const out = damaged.map((d) => ({ key: d.key, problem: d.problem, record: d.raw, png: b64(images.get(d.key)?.png), maskPng: b64(images.get(d.key)?.maskPng) }));
  return { bytes: new TextEncoder().encode(JSON.stringify(out, null, 1)), name: 'damaged-items.json' };
}

export async function deleteRejected(): Promise<number> {
  const ids = S().items.filter((i) => i.status === 'rejected').map((i) => i.id);
  await db.deleteItems(ids);
  const gone = new Set(ids);
  for (const it of S().items) if (gone.has(it.id)) {
    URL.revokeObjectURL(it.url);
    URL.revokeObjectURL(it.maskUrl);
  }
  S().setItems(S().items.filter((i) => !gone.has(i.id)));
  return ids.length;
}
