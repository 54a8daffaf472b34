/**
 * A compact library of real defect-mask shapes per class, exported by training/export.py beside the model
 * (mask_library.json): windows of the model's size cropped around real defect components of the training
 * split, stored as run lengths. A "random mask" is one of them, chosen and flipped by a seeded Rng, so the
 * mask a request used is reproducible from its seed.
 */
import { Rng } from './rng';
import { StudioError } from './errors';

export interface MaskLibrary {
  width: number;
  height: number;
  /** class name -> run-length-encoded masks (alternating runs of 0 and 1, starting with 0, row-major). */
  classes: Record<string, number[][]>;
}

export function parseMaskLibrary(raw: unknown): MaskLibrary {
  const o = raw as Partial<MaskLibrary> | null;
  if (!o || typeof o !== 'object' || !Number.isInteger(o.width) || !Number.isInteger(o.height) || typeof o.classes !== 'object' || o.classes === null)
    throw new StudioError('modelInvalid', 'mask_library.json must be {width, height, classes: {name: [[runs...]]}}');
  return o as MaskLibrary;
}

export function decodeRuns(runs: readonly number[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let pos = 0;
  runs.forEach((len, i) => {
    if (i % 2 === 1) out.fill(1, pos, Math.min(size, pos + len));
    pos += len;
  });
  if (pos !== size) throw new StudioError('modelInvalid', `mask run lengths add up to ${pos}, expected ${size}`);
  return out;
}

export function encodeRuns(mask: Uint8Array): number[] {
  const runs: number[] = [];
  let cur = 0;
  let len = 0;
  for (const v of mask) {
    const b = v ? 1 : 0;
    if (b === cur) len++;
    else {
      runs.push(len);
      cur = b;
      len = 1;
    }
  }
  runs.push(len);
  return runs;
}

/** A seeded random mask of `className`, or an all-zero mask when the library has none for it (e.g. Free). */
export function randomMask(lib: MaskLibrary, className: string, seed: number): Uint8Array {
  const { width: w, height: h } = lib;
  const shapes = lib.classes[className] ?? [];
  if (shapes.length === 0) return new Uint8Array(w * h);
  const rng = new Rng(seed);
  const base = decodeRuns(shapes[rng.nextUint32() % shapes.length] as number[], w * h);
  const flipX = (rng.nextUint32() & 1) === 1;
  const flipY = (rng.nextUint32() & 1) === 1;
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) out[y * w + x] = base[(flipY ? h - 1 - y : y) * w + (flipX ? w - 1 - x : x)] as number;
  return out;
}
