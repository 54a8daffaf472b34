/**
 * How a dataset's window masks are drawn (the command-line generator's --mask-draw): 'library', the generator's
 * own draw (maskLibrary.ts randomMask: a library window, flipped), or 'varied' (variedMask below).
 */
import { maskBbox } from './coco';
import { clearOfBorder, randomMask, sampleMask, type MaskLibrary, type MaskShapeOptions } from './maskLibrary';
import { deriveSeed, Rng } from '../diffusion/rng';

export const MASK_DRAWS = ['library', 'varied'] as const;
export type MaskDraw = (typeof MASK_DRAWS)[number];

export type MaskSize = NonNullable<MaskShapeOptions['size']>;
const MASK_SIZES: readonly MaskSize[] = ['small', 'medium', 'large'];

/**
 * A seeded mask of `className` for a varied dataset. It starts from the library draw of the same seed (randomMask
 * with deriveSeed(seed, 0), the generator's own): a shape the window cut (touching its border: Uneven, Fray, long
 * Cracks, most Breaks) is kept as drawn, since turning or moving it would put the cut inside the window as a
 * straight edge. A whole shape is replaced by a whole library shape at a size third drawn uniformly among the
 * class's whole shapes (so a shape is no longer tied to its own size), turned by a random angle and placed
 * anywhere in the window (sampleMask with `whole`). Library windows keep each defect at the size, angle and place
 * it had on its tile; these cover sizes and angles in between. Deterministic for (library, className, seed);
 * `size` is null for a kept library draw, for the image's record.
 */
export function variedMask(lib: MaskLibrary, className: string, seed: number): { mask: Uint8Array; size: MaskSize | null } {
  const { width: w, height: h } = lib;
  const drawn = randomMask(lib, className, deriveSeed(seed, 0));
  const bbox = maskBbox(drawn, w, h);
  if (!bbox || !clearOfBorder(bbox, w, h)) return { mask: drawn, size: null };
  const size = MASK_SIZES[new Rng(deriveSeed(seed, 1)).nextUint32() % MASK_SIZES.length] as MaskSize;
  return { mask: sampleMask(lib, className, deriveSeed(seed, 2), { size, orientation: 'any', whole: true }), size };
}
