/**
 * The synthetic set of `npm run evaluate`: an exported zip (the accepted items, read with readExportZip), a zip
 * of images/<class>/*.png, or a folder of images/<class>/*.png or <class>/*.png (what scripts/generate.ts
 * writes, with its metadata.jsonl). Each image is judged on src/core/quality/region.ts judgedRegion: a photo
 * item (provenance basePhoto + windows, from the zip's records or the folder's metadata.jsonl) on its first
 * window, with the background-only window beside it for the memorisation check; a larger image without
 * windows on its centre; a smaller one is refused. One bad image is listed with why; the rest are evaluated.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { decodeToGray } from '../../src/core/formats/image';
import type { Provenance } from '../../src/core/model/protocol';
import { judgedRegion, type JudgedRegion } from '../../src/core/quality/region';
import { readExportZip } from '../../src/dataset/zip';

export class DatasetError extends Error {}

type Where = Pick<Provenance, 'basePhoto' | 'windows'>;

export interface SyntheticImage {
  className: string;
  name: string;
  /** the judged window */
  pixels: Uint8Array;
  region: JudgedRegion['region'];
  background: Uint8Array | null;
}

export interface SyntheticSet {
  images: SyntheticImage[];
  kind: string;
  /** larger images without windows, judged on their centre */
  cropped: number;
  /** photo items, judged on their first window */
  photoItems: number;
  skipped: { item: string; why: string }[];
}

const ACCEPTED = 'accepted: an exported .zip or a folder with images/<class>/*.png';

/** metadata.jsonl of a generate.ts folder: file -> where it was made (photo items only; other lines are ignored). */
function folderMetadata(path: string, skipped: SyntheticSet['skipped']): Map<string, Where> {
  const m = new Map<string, Where>();
  const file = join(path, 'metadata.jsonl');
  if (!existsSync(file)) return m;
  readFileSync(file, 'utf8').split('\n').forEach((l, i) => {
    if (!l.trim()) return;
    try {
      const r = JSON.parse(l) as { file?: unknown; basePhoto?: Where['basePhoto']; windows?: Where['windows'] };
      if (typeof r.file === 'string' && r.basePhoto && Array.isArray(r.windows)) m.set(r.file, { basePhoto: r.basePhoto, windows: r.windows });
    } catch {
      skipped.push({ item: `metadata.jsonl line ${i + 1}`, why: 'is not valid JSON' });
    }
  });
  return m;
}

export function readSynthetic(path: string, w: number, h: number): SyntheticSet {
  const raw: { className: string; name: string; png: Uint8Array; where: Where | null }[] = [];
  const skipped: SyntheticSet['skipped'] = [];
  let kind: string;
  if (statSync(path).isFile()) {
    const bytes = new Uint8Array(readFileSync(path));
    let files: Record<string, Uint8Array>;
    try {
      files = unzipSync(bytes);
    } catch (e) {
      throw new DatasetError(`--dataset ${path} is not a readable zip (${(e as Error).message}); ${ACCEPTED}`);
    }
    if (files['metadata.jsonl']) {
      kind = 'exported zip (accepted items)';
      const ds = readExportZip(bytes, { skipBad: true });
      for (const s of ds.skipped) skipped.push({ item: `metadata.jsonl line ${s.line}${s.id !== undefined ? ` (${s.id})` : ''}`, why: s.problem });
      for (const it of ds.items)
        if (it.status === 'accepted') raw.push({ className: it.className, name: it.id, png: (ds.images.get(it.id) as { png: Uint8Array }).png, where: it.provenance });
    } else {
      kind = 'zip (images/<class>/*.png)';
      for (const [p, b] of Object.entries(files)) {
        const m = /^images\/([^/]+)\/([^/]+\.png)$/i.exec(p);
        if (m) raw.push({ className: m[1] as string, name: m[2] as string, png: b, where: null });
      }
    }
  } else {
    const root = existsSync(join(path, 'images')) ? join(path, 'images') : path;
    kind = root === path ? 'folder (<class>/*.png)' : 'folder (images/<class>/*.png)';
    const meta = folderMetadata(path, skipped);
    for (const c of readdirSync(root).sort()) {
      if (!statSync(join(root, c)).isDirectory()) continue;
      for (const f of readdirSync(join(root, c)).sort())
        if (f.toLowerCase().endsWith('.png') && !f.includes('_mask'))
          raw.push({ className: c, name: f, png: new Uint8Array(readFileSync(join(root, c, f))), where: meta.get(root === path ? `${c}/${f}` : `images/${c}/${f}`) ?? null });
    }
  }
  if (!raw.length) throw new DatasetError(`--dataset ${path} holds no images; ${ACCEPTED}`);
  if (w !== h) throw new DatasetError(`the classifier takes ${w}x${h} windows; only square windows are supported`);
  const images = raw.flatMap((r) => {
    try {
      const g = decodeToGray(r.png);
      const j = judgedRegion(g, r.where, w, `${r.className}/${r.name}`);
      return [{ className: r.className, name: r.name, pixels: j.pixels, region: j.region, background: j.background }];
    } catch (e) {
      skipped.push({ item: `${r.className}/${r.name}`, why: (e as Error).message });
      return [];
    }
  });
  if (!images.length) throw new DatasetError(`--dataset ${path}: none of its ${raw.length} images could be read (first: ${skipped[0]?.item}: ${skipped[0]?.why})`);
  return { images, kind, cropped: images.filter((i) => i.region === 'centre crop').length, photoItems: images.filter((i) => i.region === 'photo window').length, skipped };
}
