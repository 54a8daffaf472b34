import { strFromU8, unzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { decodeCocoRle } from '../core/formats/coco';
import { decodeMaskPng, decodeToGray, encodeGrayPng, encodeMaskPng } from '../core/formats/image';
import { parseYoloLabel, rasterisePolygons } from '../core/formats/yolo';
import type { Provenance } from '../core/model/protocol';
import { buildExportZip, readExportZip } from './zip';
import type { DatasetItem, ItemImages, ReviewStatus } from './types';

function item(id: string, cls: string, status: ReviewStatus, seed: number): { item: DatasetItem; images: ItemImages } {
  const w = 8, h = 8;
  const px = Uint8Array.from({ length: w * h }, (_, i) => (i * 7 + seed) % 256);
  const mask = Uint8Array.from({ length: w * h }, (_, i) => (cls !== 'Free' && i % 9 === seed % 9 ? 1 : 0));
  const provenance = { modelId: 'm', modelVersion: '1', modelSha256: 'ab'.repeat(32), className: cls, classIndex: 0, prompt: '', seed, sampler: 'dpmpp2m', steps: 20, guidance: 2, eta: 0, timestepSpacing: 'trailing', clipSample: true, maskSource: 'library', maskSha256: 'cd'.repeat(32), inpainting: false, backend: 'wasm', timings: { totalMs: 1, modelMs: 1, steps: 20 } } as Provenance;
  return {
    item: { id, createdAt: `2026-01-0${seed}T00:00:00Z`, status, decidedAt: status === 'pending' ? null : '2026-01-02T00:00:00Z', className: cls, width: w, height: h, provenance, citation: 'Huang et al. 2020' },
    images: { id, png: encodeGrayPng(px, w, h, { 'dds:params': JSON.stringify({ seed }) }), maskPng: encodeMaskPng(mask, w, h) },
  };
}

const entries = [item('a', 'Crack', 'accepted', 1), item('b', 'Blowhole', 'accepted', 2), item('c', 'Crack', 'rejected', 3), item('d', 'Free', 'pending', 4), item('e', 'Free', 'accepted', 5)];
const items = entries.map((e) => e.item);
const images = new Map(entries.map((e) => [e.item.id, e.images]));
const classes = ['Blowhole', 'Break', 'Crack', 'Fray', 'Uneven', 'Free'];
const zip = buildExportZip(items, images, classes, '2026-02-01T00:00:00Z');
const files = unzipSync(zip);

describe('buildExportZip', () => {
  it('writes accepted images in class folders with same-sized masks, the rest under review/', () => {
    const imgs = Object.keys(files).filter((f) => f.startsWith('images/')).sort();
    expect(imgs).toEqual(['images/Blowhole/b.png', 'images/Crack/a.png', 'images/Free/e.png']);
    for (const f of imgs) {
      const m = files[f.replace('images/', 'masks/')] as Uint8Array;
      const a = decodeToGray(files[f] as Uint8Array), b = decodeToGray(m);
      expect([b.width, b.height]).toEqual([a.width, a.height]);
    }
    expect(files['review/rejected/Crack/c.png']).toBeDefined();
    expect(files['review/pending/Free/d.png']).toBeDefined();
  });

  it('writes COCO whose RLE decodes to each accepted mask, categories from the classes', () => {
    const coco = JSON.parse(strFromU8(files['annotations.coco.json'] as Uint8Array));
    expect(coco.categories).toHaveLength(6);
    expect(coco.images).toHaveLength(3);
    expect(coco.annotations).toHaveLength(2); // Free has an empty mask
    for (const ann of coco.annotations) {
      const img = coco.images.find((i: { id: number }) => i.id === ann.image_id);
      const mask = decodeToGray(files[img.file_name.replace('images/', 'masks/')] as Uint8Array).pixels;
      expect(Array.from(decodeCocoRle(ann.segmentation))).toEqual(Array.from(mask, (v) => (v ? 1 : 0)));
    }
  });

  it('writes YOLO labels beside each accepted image (polygons fill back to its mask) and data.yaml with the classes in order', () => {
    const labels = Object.keys(files).filter((f) => f.startsWith('labels/')).sort();
    expect(labels).toEqual(['labels/Blowhole/b.txt', 'labels/Crack/a.txt', 'labels/Free/e.txt']);
    for (const f of labels) {
      const img = f.replace(/^labels\//, 'images/').replace(/\.txt$/, '.png');
      const mask = decodeMaskPng(files[img.replace('images/', 'masks/')] as Uint8Array);
      const objects = parseYoloLabel(strFromU8(files[f] as Uint8Array), mask.width, mask.height);
      const cls = img.split('/')[1] as string;
      expect(objects.every((o) => o.classIndex === classes.indexOf(cls))).toBe(true);
      expect(Array.from(rasterisePolygons(objects.map((o) => o.polygon), mask.width, mask.height))).toEqual(Array.from(mask.pixels));
    }
    expect(strFromU8(files['labels/Free/e.txt'] as Uint8Array)).toBe(''); // an empty mask: a background image
    expect(strFromU8(files['labels/Crack/a.txt'] as Uint8Array).trim().split('\n')).toHaveLength(1); // a's mask is a diagonal run of pixels: one 8-connected region
    const yaml = strFromU8(files['data.yaml'] as Uint8Array);
    expect(yaml).toMatch(/^train: images$/m);
    expect(yaml).toContain(`names:\n${classes.map((c, i) => `  ${i}: "${c}"\n`).join('')}`);
    expect(strFromU8(files['README.txt'] as Uint8Array)).toMatch(/labels\/<class>\/\*\.txt: YOLO segmentation labels/);
  });

  it('refuses to export an accepted item whose class is not among the classes (it could not be labelled)', () => {
    expect(() => buildExportZip(items, images, ['Crack', 'Free'], '2026-02-01T00:00:00Z')).toThrow(/item b is of class "Blowhole", which is not among the export's classes \(Crack, Free\)/);
  });

  it('writes one metadata line per item and a README with the citation', () => {
    const lines = strFromU8(files['metadata.jsonl'] as Uint8Array).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.id)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(lines[0]).toMatchObject({ file: 'images/Crack/a.png', status: 'accepted', provenance: { seed: 1, sampler: 'dpmpp2m' } });
    expect(strFromU8(files['README.txt'] as Uint8Array)).toContain('Huang et al. 2020');
  });

  it('round-trips: importing the zip restores items and bytes exactly', () => {
    const back = readExportZip(zip);
    expect(back.items).toEqual(items);
    for (const [id, img] of images) {
      expect(Buffer.from(back.images.get(id)?.png as Uint8Array).equals(Buffer.from(img.png))).toBe(true);
      expect(Buffer.from(back.images.get(id)?.maskPng as Uint8Array).equals(Buffer.from(img.maskPng))).toBe(true);
    }
  });

  it('refuses a non-zip and a zip without metadata, saying what is accepted', () => {
    expect(() => readExportZip(new TextEncoder().encode('hello'))).toThrow(/not a readable zip file.*accepted: a zip made by "Export dataset"/);
    expect(() => readExportZip(zipSync({ 'images/a.png': new Uint8Array(3) }))).toThrow(/the zip has no metadata\.jsonl; accepted: a zip made by "Export dataset"/);
  });
});
