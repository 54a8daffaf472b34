/**
 * Dataset export and import (one zip, fflate).
 *
 * Layout:
 *   images/<class>/<id>.png        accepted images (class-folder layout: torchvision ImageFolder reads images/)
 *   masks/<class>/<id>.png         their defect masks (0/255), same size as the image
 *   labels/<class>/<id>.txt        YOLO segmentation labels of the accepted images (core/formats/yolo.ts)
 *   data.yaml                      the Ultralytics dataset file: images/, class names in the given order
 *   annotations.coco.json          COCO instance segmentation of the accepted images, RLE masks
 *   metadata.jsonl                 one line per item (accepted, rejected and pending): provenance + review
 *   review/<status>/<class>/<id>.png and review-masks/...   items not accepted, so an import restores everything
 *   README.txt                     what this is, counts, the models' training-data citations
 * Each PNG carries its generation parameters in tEXt chunks and the XMP mark of AI-generated media (written when
 * it was generated).
 * <class> and <id> are written through safePathSegment: a name with "..", a separator, a control character or a
 * character Windows refuses becomes a safe segment with a hash suffix; metadata.jsonl keeps the real names.
 */
import { strFromU8, strToU8, zipSync, type Zippable } from 'fflate';
import { buildCoco } from '../core/formats/coco';
import { StudioError } from '../core/errors';
import { decodeMaskPng, decodeToGray } from '../core/formats/image';
import { yoloDataYaml, yoloLabel } from '../core/formats/yolo';
import { MAX_IMPORT_ENTRIES, MAX_IMPORT_INFLATED_BYTES } from '../core/model/limits';
import { parseDatasetItem, RecordError } from './record';
import { safePathSegment, unzipWithLimits } from './safeZip';
import type { DatasetItem, ItemImages } from './types';
import { REVIEW_STATUSES } from './types';

export interface MetadataLine extends DatasetItem {
  file: string;
  mask: string;
}

/** Where an item's PNGs go; class names and ids pass through safePathSegment (no traversal, nothing Windows refuses). */
function paths(it: DatasetItem): { file: string; mask: string } {
  const rel = `${safePathSegment(it.className)}/${safePathSegment(it.id)}.png`;
  if (it.status === 'accepted') return { file: `images/${rel}`, mask: `masks/${rel}` };
  return { file: `review/${it.status}/${rel}`, mask: `review-masks/${it.status}/${rel}` };
}

export function buildExportZip(items: readonly DatasetItem[], images: ReadonlyMap<string, ItemImages>, classes: readonly string[], now: string): Uint8Array {
  const files: Zippable = {};
  const lines: string[] = [];
  const accepted: { item: DatasetItem; mask: Uint8Array }[] = [];
  for (const it of items) {
    const img = images.get(it.id);
    if (!img) throw new StudioError('badRequest', `item ${it.id} has no stored pixels; the export would be incomplete`);
    const p = paths(it);
    // PNGs are already deflated: store them (level 0) instead of compressing twice.
    files[p.file] = [img.png, { level: 0 }];
    files[p.mask] = [img.maskPng, { level: 0 }];
    const line: MetadataLine = { ...it, ...p };
    lines.push(JSON.stringify(line));
    if (it.status === 'accepted') {
      let mask: Uint8Array;
      try {
        mask = decodeMaskPng(img.maskPng).pixels;
      } catch (e) {
        throw new StudioError('badRequest', `item ${it.id}: its stored mask is ${(e as Error).message}; delete the item (or re-import it) and export again`);
      }
      accepted.push({ item: it, mask });
      const classIndex = classes.indexOf(it.className);
      if (classIndex < 0) throw new StudioError('badRequest', `item ${it.id} is of class "${it.className}", which is not among the export's classes (${classes.join(', ')})`);
      // Ultralytics finds an image's labels by swapping /images/ for /labels/ and the extension for .txt.
      files[p.file.replace(/^images\//, 'labels/').replace(/\.png$/, '.txt')] = strToU8(yoloLabel(mask, it.width, it.height, classIndex));
    }
  }
  const coco = buildCoco(
    accepted.map(({ item, mask }) => ({ id: item.id, fileName: paths(item).file, width: item.width, height: item.height, className: item.className, mask })),
    classes,
    now,
  );
  files['annotations.coco.json'] = strToU8(JSON.stringify(coco));
  files['data.yaml'] = strToU8(yoloDataYaml(classes));
  files['metadata.jsonl'] = strToU8(lines.join('\n') + (lines.length ? '\n' : ''));
  const counts = REVIEW_STATUSES.map((s) => `${s}: ${items.filter((i) => i.status === s).length}`).join(', ');
  const citations = [...new Set(items.map((i) => `- ${i.provenance.modelId}: ${i.citation}`))];
  files['README.txt'] = strToU8(
    [
      'Synthetic defect dataset exported by Defect Diffusion Studio',
      `Exported: ${now}`,
      `Items: ${items.length} (${counts})`,
      '',
      'images/<class>/*.png: accepted images (load with torchvision.datasets.ImageFolder("images"))',
      'masks/<class>/*.png: the defect mask of each accepted image (255 = defect), same size',
      'labels/<class>/*.txt: YOLO segmentation labels of the accepted images, one polygon per defect region',
      '  (normalised to the image; the traced outline of the mask), with data.yaml: Ultralytics reads this folder',
      'annotations.coco.json: COCO instance segmentation of the accepted images (uncompressed RLE, pycocotools)',
      'Every generated PNG is marked as AI-generated (XMP, IPTC DigitalSourceType trainedAlgorithmicMedia).',
      'metadata.jsonl: one line per item with everything needed to regenerate it (model id + sha256, sampler,',
      '  steps, guidance, seed, class, prompt, mask sha256, backend, timings) and the review decision',
      'review/: rejected and pending items, kept so that importing this zip restores the whole session',
      '',
      'Models and the data they were trained on (cite these when you use the images):',
      ...citations,
      '',
    ].join('\n'),
  );
  return zipSync(files);
}

export interface ImportedDataset {
  items: DatasetItem[];
  images: Map<string, ItemImages>;
}

export interface ImportLimits {
  maxEntries: number;
  maxTotalBytes: number;
}

export interface ReadOptions {
  limits?: ImportLimits;
  /**
   * Skip a line that fails (reporting it in `skipped`) instead of refusing the whole zip: for tools that go on
   * item by item (npm run reproduce). The studio's import refuses the zip: all or nothing.
   */
  skipBad?: boolean;
}

export interface SkippedLine {
  line: number;
  /** The item id, when the line got as far as having a valid one. */
  id?: string;
  problem: string;
}

const ACCEPTED = 'a zip made by "Export dataset"';

/** A problem with one metadata line (its message names file, line and field). */
class LineProblem extends Error {}

/**
 * Reads and checks a whole export before anything is stored: the zip's entry count and inflated size (from the
 * central directory, before inflating), every metadata.jsonl line against the item schema (record.ts), ids
 * unique, and each image and mask decoded as a PNG of the item's size. The first problem throws a StudioError
 * naming the file, the line and the field; nothing is returned half-checked (unless skipBad).
 */
export function readExportZip(bytes: Uint8Array, opts: ReadOptions = {}): ImportedDataset & { skipped: SkippedLine[] } {
  const limits = opts.limits ?? { maxEntries: MAX_IMPORT_ENTRIES, maxTotalBytes: MAX_IMPORT_INFLATED_BYTES };
  const files = unzipWithLimits(bytes, { what: 'the dataset zip', code: 'badRequest', accepted: ACCEPTED, ...limits });
  const meta = files['metadata.jsonl'];
  if (!meta) throw new StudioError('badRequest', `the zip has no metadata.jsonl; accepted: ${ACCEPTED}`);
  const items: DatasetItem[] = [];
  const images = new Map<string, ItemImages>();
  const skipped: SkippedLine[] = [];
  const lineOfId = new Map<string, number>();
  strFromU8(meta).split('\n').forEach((l, i) => {
    if (!l.trim()) return;
    let id: string | undefined;
    try {
      const at = `metadata.jsonl line ${i + 1}`;
      let raw: unknown;
      try {
        raw = JSON.parse(l);
      } catch {
        throw new LineProblem(`${at} is not valid JSON`);
      }
      let item: DatasetItem;
      try {
        item = parseDatasetItem(raw, { extra: ['file', 'mask'] });
      } catch (e) {
        if (e instanceof RecordError) throw new LineProblem(`${at}, ${e.message}`);
        throw e;
      }
      id = item.id;
      const seen = lineOfId.get(item.id);
      if (seen !== undefined) throw new LineProblem(`${at}, field id: "${item.id}" is also the id on line ${seen}; ids must be unique`);
      lineOfId.set(item.id, i + 1);
      const line = raw as { file?: unknown; mask?: unknown };
      const png = pngOf(files, line.file, 'file', at, item);
      const maskPng = pngOf(files, line.mask, 'mask', at, item);
      items.push(item);
      images.set(item.id, { id: item.id, png, maskPng });
    } catch (e) {
      if (!(e instanceof LineProblem)) throw e;
      if (!opts.skipBad) throw new StudioError('badRequest', `${e.message}; nothing was imported`);
      skipped.push({ line: i + 1, ...(id !== undefined ? { id } : {}), problem: e.message });
    }
  });
  return { items, images, skipped };
}

/** The entry a metadata line names, decoded as a PNG of the item's size (an image or a mask). */
function pngOf(files: Record<string, Uint8Array>, path: unknown, field: 'file' | 'mask', at: string, item: DatasetItem): Uint8Array {
  if (typeof path !== 'string' || !path) throw new LineProblem(`${at}, field ${field}: expected the path of a PNG in the zip, got ${JSON.stringify(path) ?? 'nothing'}`);
  const bytes = files[path];
  if (!bytes) throw new LineProblem(`${at}, field ${field}: names ${path}, which the zip does not contain`);
  let g: { width: number; height: number };
  try {
    g = field === 'mask' ? decodeMaskPng(bytes) : decodeToGray(bytes);
  } catch (e) {
    throw new LineProblem(`${at}, field ${field}: ${path} (item ${item.id}) is ${(e as Error).message}`);
  }
  if (g.width !== item.width || g.height !== item.height)
    throw new LineProblem(`${at}, field ${field}: ${path} (item ${item.id}) is ${g.width}x${g.height} but the item is ${item.width}x${item.height}`);
  return bytes;
}
