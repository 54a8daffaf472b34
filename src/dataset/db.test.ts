/**
 * The IndexedDB schema and its upgrade (fake-indexeddb: the IndexedDB API in memory): a database written by
 * version 1 (items, images, userModels) opens at version 2 with every record kept and the photo set's stores
 * added; the photo set is stored all or nothing, listed in name order, removed one by one or all at once.
 */
import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import { encodeGrayPng, encodeMaskPng } from '../core/formats/image';
import type { Provenance } from '../core/model/protocol';
import * as db from './db';
import type { DatasetItem, ItemImages } from './types';

const W = 8, H = 8;
function entry(id: string): { item: DatasetItem; images: ItemImages } {
  const provenance: Provenance = {
    modelId: 'm', modelVersion: '1', modelSha256: 'ab'.repeat(32), className: 'Crack', classIndex: 0, prompt: '', seed: 3, sampler: 'dpmpp2m', steps: 20,
    guidance: 2, eta: 0, timestepSpacing: 'trailing', clipSample: true, maskSource: 'library', maskSha256: 'cd'.repeat(32), inpainting: false,
    backend: 'wasm', timings: { totalMs: 1, modelMs: 1, steps: 20 },
  };
  return {
    item: { id, createdAt: `2026-01-0${id.length}T00:00:00.000Z`, status: 'accepted', decidedAt: '2026-01-02T00:00:00.000Z', className: 'Crack', width: W, height: H, provenance, citation: 'Huang et al. 2020' },
    images: { id, png: encodeGrayPng(new Uint8Array(W * H).fill(90), W, H), maskPng: encodeMaskPng(new Uint8Array(W * H), W, H) },
  };
}
const photo = (name: string, w = 4, h = 3) => ({
  record: { name, width: w, height: h, sha256: '00'.repeat(32), fileBytes: 100, addedAt: '2026-12-01T00:00:00.000Z' },
  pixels: Uint8Array.from({ length: w * h }, (_, i) => i),
});

describe('studio database', () => {
  it('a version-1 database keeps its items, images and user models when version 2 opens it, and gains the photo stores', async () => {
    // The schema as version 1 of db.ts created it, with records in every store.
    const v1 = await openDB(db.DB_NAME, 1, {
      upgrade(d) {
        d.createObjectStore('items', { keyPath: 'id' }).createIndex('byCreated', 'createdAt');
        d.createObjectStore('images', { keyPath: 'id' });
        d.createObjectStore('userModels', { keyPath: 'id' });
      },
    });
    const [a, b] = [entry('a'), entry('bb')];
    for (const e of [a, b]) {
      await v1.put('items', e.item);
      await v1.put('images', e.images);
    }
    await v1.put('userModels', { id: 'mine', addedAt: '2026-11-01', manifest: { id: 'mine' }, onnx: new Uint8Array([1, 2, 3]).buffer });
    v1.close();

    const { items, damaged } = await db.listItems();
    expect(damaged).toEqual([]);
    expect(items).toEqual([a.item, b.item]);
    const images = await db.getImages(['a', 'bb']);
    expect(Buffer.from(images.get('bb')?.png ?? []).equals(Buffer.from(b.images.png))).toBe(true);
    expect((await db.listUserModels()).map((m) => [m.id, new Uint8Array(m.onnx).length])).toEqual([['mine', 3]]);
    const opened = await db.db();
    expect(opened.version).toBe(db.DB_VERSION);
    expect([...opened.objectStoreNames].sort()).toEqual(['images', 'items', 'photoPixels', 'photos', 'userModels']);
    expect(await db.listPhotos()).toEqual([]);
  });

  it('stores photos all or nothing, lists them by name, keeps them across a reopen, removes one or all', async () => {
    await db.putPhotos([photo('b.jpg'), photo('a.png', 5, 2)]);
    expect((await db.listPhotos()).map((p) => p.name)).toEqual(['a.png', 'b.jpg']);
    // One bad entry (pixels of another size): nothing of that add is stored.
    const bad = { ...photo('d.jpg'), pixels: new Uint8Array(5) };
    await expect(db.putPhotos([photo('c.jpg'), bad])).rejects.toThrow(/photo "d.jpg" cannot be stored: .*nothing was saved/);
    expect((await db.listPhotos()).map((p) => p.name)).toEqual(['a.png', 'b.jpg']);

    await db.closeDb();
    expect((await db.listPhotos()).map((p) => p.name)).toEqual(['a.png', 'b.jpg']);
    expect(Array.from((await db.getPhotoPixels('a.png')) ?? [])).toEqual(Array.from({ length: 10 }, (_, i) => i));
    await db.deletePhotos(['a.png']);
    expect((await db.listPhotos()).map((p) => p.name)).toEqual(['b.jpg']);
    expect(await db.getPhotoPixels('a.png')).toBeNull();
    await db.putPhotos([photo('c.jpg')]);
    await db.deletePhotos(null);
    expect(await db.listPhotos()).toEqual([]);
    expect(await db.getPhotoPixels('c.jpg')).toBeNull();
    // The items were never touched.
    expect((await db.listItems()).items.map((i) => i.id)).toEqual(['a', 'bb']);
  });
});
