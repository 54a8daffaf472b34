/**
 * Whole-part mask library (part_masks.json, written by training/export.py from the model's training tile groups):
 * every distinct real defect mask of a class at its photo's native size, as a bounding box on a width x height
 * part and the run-length encoding of that box. drawPartMask puts one, chosen by a seeded Rng, on a defect-free
 * photo with placeRealMask (same scale, same relative place, seeded flips), so a defect generated on a photo has a
 * real size and a real placement for its class: a Break on the edge, a Fray across a fifth of the tile.
 */
import { StudioError } from '../errors';
import type { Rng } from '../diffusion/rng';
import { decodeRuns } from './maskLibrary';
import { placeRealMask, type GrayMask } from './photoMask';

export const PART_MASKS_FORMAT = 'defect-diffusion-part-masks';
export const PART_MASKS_FILE = 'part_masks.json';

export interface PartMask {
  width: number;
  height: number;
  /** [x, y, w, h] of the defect on its part */
  bbox: [number, number, number, number];
  /** run lengths over the bbox, row-major, alternating 0 and 1, starting with 0 */
  runs: number[];
}

export interface PartMaskLibrary {
  format: typeof PART_MASKS_FORMAT;
  formatVersion: 1;
  source: string;
  classes: Record<string, PartMask[]>;
}

const MAX_SIDE = 8192;
const isInt = (v: unknown, lo: number, hi: number): v is number => Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;

function bad(where: string, what: string): never {
  throw new StudioError('modelInvalid', `${PART_MASKS_FILE}: ${where} ${what}`);
}

/** Checks every field; the error names the class and index of the first bad mask and what is accepted. */
export function parsePartMaskLibrary(raw: unknown): PartMaskLibrary {
  const o = raw as Partial<PartMaskLibrary> | null;
  if (!o || typeof o !== 'object' || o.format !== PART_MASKS_FORMAT)
    bad('', `must be {"format": "${PART_MASKS_FORMAT}", "formatVersion": 1, "classes": {name: [{width, height, bbox, runs}]}}`);
  if (o.formatVersion !== 1) bad('formatVersion', `is ${String(o.formatVersion)}; this studio reads version 1`);
  if (!o.classes || typeof o.classes !== 'object' || Array.isArray(o.classes)) bad('classes', 'must map class names to lists of masks');
  for (const [name, list] of Object.entries(o.classes)) {
    if (!Array.isArray(list)) bad(`classes.${name}`, 'must be a list of masks');
    list.forEach((m: Partial<PartMask>, i) => {
      const at = `classes.${name}[${i}]`;
      if (!m || !isInt(m.width, 1, MAX_SIDE) || !isInt(m.height, 1, MAX_SIDE)) bad(at, `needs integer width and height in 1..${MAX_SIDE}`);
      const b = m.bbox;
      if (!Array.isArray(b) || b.length !== 4 || !isInt(b[0], 0, m.width - 1) || !isInt(b[1], 0, m.height - 1) || !isInt(b[2], 1, m.width - b[0]) || !isInt(b[3], 1, m.height - b[1]))
        bad(at, `bbox must be [x, y, w, h] inside its ${m.width}x${m.height} part`);
      if (!Array.isArray(m.runs) || !m.runs.every((r) => isInt(r, 0, MAX_SIDE * MAX_SIDE))) bad(at, 'runs must be a list of non-negative integers');
      const total = m.runs.reduce((s, r) => s + r, 0);
      if (total !== b[2] * b[3]) bad(at, `runs add up to ${total}, expected ${b[2] * b[3]} (the bbox's pixels)`);
    });
  }
  return { format: PART_MASKS_FORMAT, formatVersion: 1, source: typeof o.source === 'string' ? o.source : '', classes: o.classes };
}

/** The mask on its own part: width x height, 0/1. */
export function decodePartMask(m: PartMask): GrayMask {
  const [x0, y0, w, h] = m.bbox;
  const box = decodeRuns(m.runs, w * h);
  const pixels = new Uint8Array(m.width * m.height);
  for (let y = 0; y < h; y++) pixels.set(box.subarray(y * w, (y + 1) * w), (y0 + y) * m.width + x0);
  return { width: m.width, height: m.height, pixels };
}

export function partMaskCount(lib: PartMaskLibrary, className: string): number {
  return lib.classes[className]?.length ?? 0;
}

/**
 * A real mask of the class placed on a width x height photo: masks are drawn from the Rng until one lands on the
 * photo (at most 16 tries). Returns the 0/1 mask and which library mask it was.
 */
export function drawPartMask(lib: PartMaskLibrary, className: string, width: number, height: number, rng: Rng): { mask: Uint8Array; index: number } {
  const list = lib.classes[className];
  if (!list?.length)
    throw new StudioError('badRequest', `the model's ${PART_MASKS_FILE} has no masks of class ${className}; it has: ${Object.keys(lib.classes).join(', ') || 'none'}`);
  for (let tries = 0; tries < 16; tries++) {
    const index = rng.nextUint32() % list.length;
    const mask = placeRealMask(decodePartMask(list[index] as PartMask), width, height, rng);
    if (mask) return { mask, index };
  }
  throw new StudioError('badRequest', `16 ${className} masks in a row fell off a ${width}x${height} photo`);
}
