/**
 * The base photo set: defect-free photos the user adds (a folder or several files), stored in IndexedDB
 * (src/dataset/db.ts photos + photoPixels) so they survive a reload, and the photo and real mask an image of the
 * set gets from its seed, by the same rule as `npm run generate -- --photos` (src/core/formats/photoChoice.ts
 * choosePhoto, then src/core/formats/partMasks.ts drawPartMask on the same Rng). No state of its own: the list is
 * the store's photoSet, the pixels stay in IndexedDB until an image needs them.
 */
import { StudioError } from '../core/errors';
import { decodeImage, graySha256 } from '../core/formats/image';
import { drawPartMask } from '../core/formats/partMasks';
import { choosePhoto, isPhotoFileName, photoOrder } from '../core/formats/photoChoice';
import { checkPhotoSize, declaredImageSize, formatBytes, MAX_PHOTO_PIXELS } from '../core/model/limits';
import type { ModelManifest } from '../core/model/manifest';
import * as db from '../dataset/db';
import { photoSetProblem } from '../state/store';
import { S } from './common';
import { activePartMasks } from './models';

/** Pixels one add may decode (they are held until the add is stored at once): 16 photos at the 16 MP limit. */
const MAX_ADD_PIXELS = 16 * MAX_PHOTO_PIXELS;

export async function loadPhotoSet(): Promise<void> {
  S().setPhotoSet(await db.listPhotos());
}

const accepted = (win: string) => `PNG or JPEG photos of defect-free parts, ${win}at most ${(MAX_PHOTO_PIXELS / 1e6).toFixed(0)} MP, whose names do not contain "mask"`;

/**
 * Adds photos to the set, all or nothing: every file is decoded (in JavaScript, as Node decodes it, so the gray
 * pixels' sha256 is the CLI's) and checked; one bad file refuses the whole add, naming it. From a folder
 * (`fromFolder`: an <input webkitdirectory> listing) only the files directly in it whose names make them photos
 * are taken, as the CLI's --photos reads a folder (masks beside the photos, other files and subfolders are
 * skipped and counted); files picked one by one must all be photos. A name already in the set with the same
 * pixels is skipped, with other pixels refused. Returns what was done, for a notice.
 */
export async function addPhotos(files: readonly File[], fromFolder: boolean): Promise<string> {
  const manifest = S().model?.manifest;
  const win = manifest ? `at least the model's ${manifest.image.width}x${manifest.image.height} window, ` : '';
  const stored = new Map(S().photoSet.map((p) => [p.name, p]));
  const problems: string[] = [];
  const add: { record: db.PhotoRecord; pixels: Uint8Array }[] = [];
  const seen = new Set<string>();
  const skipped = { masks: 0, other: 0, subfolder: 0, same: 0 };
  let pixelsHeld = 0;
  try {
    for (const [i, f] of files.entries()) {
      if (fromFolder) {
        const depth = (f.webkitRelativePath || f.name).split('/').length;
        if (depth > 2) {
          skipped.subfolder++;
          continue;
        }
        if (!isPhotoFileName(f.name)) {
          if (/\.(png|jpe?g)$/i.test(f.name)) skipped.masks++;
          else skipped.other++;
          continue;
        }
      } else if (!isPhotoFileName(f.name)) {
        problems.push(`${f.name}: ${/mask/i.test(f.name) ? 'a name with "mask" in it is a mask, not a photo (npm run generate --photos skips it too)' : 'not a .png, .jpg or .jpeg file'}`);
        continue;
      }
      if (seen.has(f.name)) {
        problems.push(`${f.name}: two files of this name (the set holds one photo per name)`);
        continue;
      }
      seen.add(f.name);
      S().setPhotoSetBusy(`reading ${i + 1}/${files.length}: ${f.name}`);
      // Let the page draw the progress between photos (decoding a large JPEG takes a while).
      await new Promise((r) => setTimeout(r, 0));
      try {
        const bytes = new Uint8Array(await f.arrayBuffer());
        const declared = declaredImageSize(bytes);
        if (declared) checkPhotoSize(f.name, declared.width, declared.height);
        const g = decodeImage(bytes, f.name);
        checkPhotoSize(f.name, g.width, g.height);
        if (manifest && (g.width < manifest.image.width || g.height < manifest.image.height))
          throw new StudioError('badRequest', `is ${g.width}x${g.height}, smaller than the model's ${manifest.image.width}x${manifest.image.height} window`);
        const hash = graySha256(g.pixels);
        const old = stored.get(f.name);
        if (old && old.sha256 === hash) {
          skipped.same++;
          continue;
        }
        if (old) throw new StudioError('badRequest', 'a different photo of this name is already in the set: remove it first, or rename the file');
        pixelsHeld += g.pixels.length;
        if (pixelsHeld > MAX_ADD_PIXELS)
          throw new StudioError('badRequest', `the photos up to this one hold ${(pixelsHeld / 1e6).toFixed(0)} MP, above ${(MAX_ADD_PIXELS / 1e6).toFixed(0)} MP for one add: add the folder in parts`);
        add.push({ record: { name: f.name, width: g.width, height: g.height, sha256: hash, fileBytes: f.size, addedAt: new Date().toISOString() }, pixels: g.pixels });
      } catch (e) {
        const msg = (e as Error).message.replace(/; accepted: .*$/, '');
        problems.push(msg.startsWith(f.name) ? msg : `${f.name}: ${msg}`);
        if (pixelsHeld > MAX_ADD_PIXELS) break;
      }
    }
    if (problems.length) {
      const shown = problems.slice(0, 4).join('; ');
      throw new StudioError('badRequest', `${problems.length === 1 ? 'A file' : `${problems.length} files`} could not be added, so nothing was: ${shown}${problems.length > 4 ? `; and ${problems.length - 4} more` : ''}. Accepted: ${accepted(win)}.`);
    }
    const skips = [
      skipped.masks && `${skipped.masks} mask file${skipped.masks === 1 ? '' : 's'}`,
      skipped.other && `${skipped.other} other file${skipped.other === 1 ? '' : 's'}`,
      skipped.subfolder && `${skipped.subfolder} file${skipped.subfolder === 1 ? '' : 's'} in subfolders`,
      skipped.same && `${skipped.same} already in the set`,
    ].filter(Boolean).join(', ');
    if (!add.length) {
      if (skipped.same) return `Nothing new: ${skips}.`;
      throw new StudioError('badRequest', `no photos found${skips ? ` (skipped: ${skips})` : ''}; accepted: ${accepted(win)}`);
    }
    await db.putPhotos(add);
    await loadPhotoSet();
    const bytes = add.reduce((a, p) => a + p.record.fileBytes, 0);
    return `Added ${add.length} photo${add.length === 1 ? '' : 's'} (${formatBytes(bytes)})${skips ? `; skipped ${skips}` : ''}.`;
  } finally {
    S().setPhotoSetBusy(null);
  }
}

export async function removePhoto(name: string): Promise<void> {
  await db.deletePhotos([name]);
  await loadPhotoSet();
}

export async function clearPhotoSet(): Promise<void> {
  await db.deletePhotos(null);
  await loadPhotoSet();
}

/** Why images of the class cannot go on the photo set now, or null (the store's rule on the current state). */
/** The stored set's photo names, as a queued job keeps them. */
export function photoSetNames(): string[] {
  return S().photoSet.map((p) => p.name);
}

export function photoSetProblemNow(className: string): string | null {
  return photoSetProblem(S(), className);
}

/**
 * The photo and real whole-part mask of the class for image seed `seed`: the photo by choosePhoto over the set in
 * photoOrder, the mask by drawPartMask on the same Rng, as `npm run generate -- --photos` picks them.
 */
export async function photoForSeed(seed: number, className: string, m: ModelManifest, names?: readonly string[]): Promise<{ photo: { name: string; width: number; height: number; pixels: Uint8Array }; mask: Uint8Array }> {
  const why = photoSetProblemNow(className);
  if (why) throw new StudioError('badRequest', `cannot place ${className} on the photo set: ${why}`);
  const byName = new Map(S().photoSet.map((p) => [p.name, p]));
  // over the set as it was when the job was queued (names), else as it is now
  const { photo: name, rng } = choosePhoto(seed, photoOrder(names ? [...names] : [...byName.keys()]));
  const rec = byName.get(name);
  if (!rec) throw new StudioError('badRequest', `photo ${name} was removed from the set after this job was queued; its seed ${seed} chooses it, so the image is not made on another photo`);
  const pixels = await db.getPhotoPixels(name);
  if (!pixels || pixels.length !== rec.width * rec.height) throw new StudioError('badRequest', `the stored pixels of photo ${name} are missing or damaged: remove it and add it again`);
  if (rec.width < m.image.width || rec.height < m.image.height) throw new StudioError('badRequest', `${name} is smaller than the model's window`);
  const { mask } = drawPartMask(activePartMasks() as NonNullable<ReturnType<typeof activePartMasks>>, className, rec.width, rec.height, rng);
  return { photo: { name, width: rec.width, height: rec.height, pixels }, mask };
}
