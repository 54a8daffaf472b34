/**
 * Which base photo a seeded image goes on, stated once for the command-line generator (scripts/generate.ts
 * --photos) and the studio's stored photo set (src/app/photos.ts), so the same seed picks the same photo and the
 * same real mask in both.
 *
 *  - The photos of a folder are its PNG and JPEG files whose name does not contain "mask" (a dataset class folder
 *    keeps each photo's mask beside it), in JavaScript's default sort order of their names (UTF-16 code units).
 *  - Image seed s draws from Rng(deriveSeed(s, 3)): first the photo, index nextUint32() mod the photo count; the
 *    same Rng then draws the mask (partMasks.ts drawPartMask, or a --masks folder's file), so mask and photo
 *    come from one stream.
 */
import { Rng, deriveSeed } from '../diffusion/rng';

/** Stream index of the photo and mask draw (deriveSeed(seed, PHOTO_STREAM)); 1.. are the windows of older items. */
export const PHOTO_STREAM = 3;

const IMAGE_EXT = /\.(png|jpe?g)$/i;

/** Whether a file of a photo folder is a photo by the rule above (PNG or JPEG, no "mask" in its name). */
export function isPhotoFileName(name: string): boolean {
  return IMAGE_EXT.test(name) && !/mask/i.test(name);
}

/** The photo files of a folder listing, in the order the choice indexes them. */
export function photoOrder(names: readonly string[]): string[] {
  return names.filter(isPhotoFileName).sort();
}

/**
 * The photo for image seed `seed` among `photos` (already in photoOrder), and the Rng positioned after that draw,
 * from which the caller draws the mask.
 */
export function choosePhoto<T>(seed: number, photos: readonly T[]): { photo: T; index: number; rng: Rng } {
  if (!photos.length) throw new RangeError('choosePhoto: the photo set is empty');
  const rng = new Rng(deriveSeed(seed, PHOTO_STREAM));
  const index = rng.nextUint32() % photos.length;
  return { photo: photos[index] as T, index, rng };
}
