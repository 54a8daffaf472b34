/**
 * Dataset export and import (one zip, fflate).
 *
 * Layout:
 *   images/<class>/<id>.png        accepted images (class-folder layout: torchvision ImageFolder reads images/)
 *   masks/<class>/<id>.png         their defect masks (0/255), same size as the image
 *   annotations.coco.json          COCO instance segmentation of the accepted images, RLE masks
 *   metadata.jsonl                 one line per item (accepted, rejected and pending): provenance + review
 *   review/<status>/<class>/<id>.png and review-masks/...   items not accepted, so an import restores everything
 *   README.txt                     what this is, counts, the models' training-data citations
 * Each PNG carries its generation parameters in tEXt chunks (written when it was generated).
 */
import { strFromU8, strToU8, unzipSync, zipSync, type Zippable } from 'fflate';
import { buildCoco } from '../core/coco';
import { StudioError } from '../core/errors';
import { decodeMaskPng } from '../core/image';
import type { DatasetItem, ItemImages, ReviewStatus } from './types';
import { REVIEW_STATUSES } from './types';

export interface MetadataLine extends DatasetItem {
  file: string;
  mask: string;
}

function paths(it: DatasetItem): { file: string; mask: string } {
  if (it.status === 'accepted') return { file: `images/${it.className}/${it.id}.png`, mask: `masks/${it.className}/${it.id}.png` };
  return { file: `review/${it.status}/${it.className}/${it.id}.png`, mask: `review-masks/${it.status}/${it.className}/${it.id}.png` };
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
      accepted.push({ item: it, mask: decodeMaskPng(img.maskPng).pixels });
    }
  }
  const coco = buildCoco(
    accepted.map(({ item, mask }) => ({ id: item.id, fileName: paths(item).file, width: item.width, height: item.height, className: item.className, mask })),
    classes,
    now,
  );
  files['annotations.coco.json'] = strToU8(JSON.stringify(coco));
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
      'annotations.coco.json: COCO instance segmentation of the accepted images (uncompressed RLE, pycocotools)',
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

export function readExportZip(bytes: Uint8Array): ImportedDataset {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (e) {
    throw new StudioError('badRequest', `not a readable zip file (${(e as Error).message}); accepted: a zip made by "Export dataset"`);
  }
  const meta = files['metadata.jsonl'];
  if (!meta) throw new StudioError('badRequest', 'the zip has no metadata.jsonl; accepted: a zip made by "Export dataset"');
  const items: DatasetItem[] = [];
  const images = new Map<string, ItemImages>();
  strFromU8(meta)
    .split('\n')
    .filter((l) => l.trim())
    .forEach((l, i) => {
      let line: MetadataLine;
      try {
        line = JSON.parse(l) as MetadataLine;
      } catch {
        throw new StudioError('badRequest', `metadata.jsonl line ${i + 1} is not valid JSON`);
      }
      const png = files[line.file];
      const maskPng = files[line.mask];
      if (!png || !maskPng) throw new StudioError('badRequest', `metadata.jsonl line ${i + 1} names ${line.file} / ${line.mask}, which the zip does not contain`);
      if (!REVIEW_STATUSES.includes(line.status as ReviewStatus)) throw new StudioError('badRequest', `metadata.jsonl line ${i + 1}: status "${line.status}" is not one of ${REVIEW_STATUSES.join(', ')}`);
      const { file: _f, mask: _m, ...item } = line;
      void _f;
      void _m;
      items.push(item);
      images.set(item.id, { id: item.id, png, maskPng });
    });
  return { items, images };
}
