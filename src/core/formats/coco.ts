/**
 * COCO instance-segmentation annotations with uncompressed RLE masks, decodable by pycocotools
 * (mask.frPyObjects(rle, h, w) then mask.decode). COCO RLE runs go down columns (Fortran order), start with
 * a run of zeros (possibly empty) and alternate.
 */
export interface CocoRle {
  size: [number, number]; // [height, width]
  counts: number[];
}

/** Row-major 0/1 mask -> COCO uncompressed RLE (column-major runs). */
export function encodeCocoRle(mask: Uint8Array, width: number, height: number): CocoRle {
  if (mask.length !== width * height) throw new RangeError(`mask has ${mask.length} pixels, expected ${width}x${height}`);
  const counts: number[] = [];
  let cur = 0;
  let run = 0;
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) {
      const v = mask[y * width + x] ? 1 : 0;
      if (v === cur) run++;
      else {
        counts.push(run);
        cur = v;
        run = 1;
      }
    }
  }
  counts.push(run);
  return { size: [height, width], counts };
}

/** COCO RLE -> row-major 0/1 mask. */
export function decodeCocoRle(rle: CocoRle): Uint8Array {
  const [h, w] = rle.size;
  const out = new Uint8Array(w * h);
  let pos = 0;
  rle.counts.forEach((len, i) => {
    if (i % 2 === 1)
      for (let k = pos; k < pos + len; k++) {
        const x = Math.floor(k / h);
        const y = k % h;
        out[y * w + x] = 1;
      }
    pos += len;
  });
  if (pos !== w * h) throw new RangeError(`RLE counts add up to ${pos}, expected ${w * h}`);
  return out;
}

export function maskBbox(mask: Uint8Array, width: number, height: number): [number, number, number, number] | null {
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      if (mask[y * width + x]) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
  return x1 < 0 ? null : [x0, y0, x1 - x0 + 1, y1 - y0 + 1];
}

export interface CocoImageInput {
  id: string;
  fileName: string;
  width: number;
  height: number;
  className: string;
  mask: Uint8Array;
}

export interface CocoDataset {
  info: { description: string; version: string; date_created: string };
  images: { id: number; file_name: string; width: number; height: number; dds_id: string }[];
  annotations: { id: number; image_id: number; category_id: number; segmentation: CocoRle; area: number; bbox: [number, number, number, number]; iscrowd: 0 }[];
  categories: { id: number; name: string; supercategory: string }[];
}

/**
 * One image entry per item and one annotation per non-empty mask (the whole defect mask as one instance).
 * Categories are the model's classes, ids from 1 in manifest order. `iscrowd: 0` with an RLE segmentation is
 * what pycocotools' annToMask handles for uncompressed RLE.
 */
export function buildCoco(items: readonly CocoImageInput[], classes: readonly string[], created: string): CocoDataset {
  const categories = classes.map((name, i) => ({ id: i + 1, name, supercategory: 'defect' }));
  const images: CocoDataset['images'] = [];
  const annotations: CocoDataset['annotations'] = [];
  items.forEach((it, i) => {
    images.push({ id: i + 1, file_name: it.fileName, width: it.width, height: it.height, dds_id: it.id });
    const bbox = maskBbox(it.mask, it.width, it.height);
    const cat = classes.indexOf(it.className);
    if (bbox && cat >= 0) {
      let area = 0;
      for (const v of it.mask) area += v ? 1 : 0;
      annotations.push({ id: annotations.length + 1, image_id: i + 1, category_id: cat + 1, segmentation: encodeCocoRle(it.mask, it.width, it.height), area, bbox, iscrowd: 0 });
    }
  });
  return { info: { description: 'Defect Diffusion Studio export', version: '1', date_created: created }, images, annotations, categories };
}
