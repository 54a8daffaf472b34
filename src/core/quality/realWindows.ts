/**
 * Real windows for an evaluation, drawn as training/ddstudio/data.py `crop` draws them: one function for the
 * studio's downstream check and scripts/evaluate.ts (each passes how an image's bytes are read).
 *
 * Per class and side of the split (0 train, 1 held out), perClass windows from Rng(deriveSeed(windowSeed,
 * 2 class + side)): an image of that side picked uniformly, then a model-sized window centred on a random
 * defect pixel (+- jitter) when its mask has one, else a random window; an image smaller than the window is
 * reflection-padded first (numpy "reflect"). An image that cannot be read is left out (listed with why) and
 * the draw goes on from the others.
 */
import { StudioError } from '../errors';
import { deriveSeed, Rng } from '../diffusion/rng';
import type { Gray } from '../formats/image';

/** tile_group per image basename, from a CSV with columns image and tile_group (manifest_extra.csv; data.py _groups). */
export function parseGroupsCsv(text: string, source = 'manifest_extra.csv'): Map<string, string> {
  const lines = text.split(/\r?\n/).filter((l) => l.trim());
  const split = (l: string): string[] => {
    const out: string[] = [];
    let cur = '';
    let q = false;
    for (let i = 0; i < l.length; i++) {
      const ch = l[i] as string;
      if (q) {
        if (ch === '"' && l[i + 1] === '"') {
          cur += '"';
          i++;
        } else if (ch === '"') q = false;
        else cur += ch;
      } else if (ch === '"') q = true;
      else if (ch === ',') {
        out.push(cur);
        cur = '';
      } else cur += ch;
    }
    out.push(cur);
    return out;
  };
  const head = split(lines[0] ?? '');
  const ii = head.indexOf('image');
  const gi = head.indexOf('tile_group');
  if (ii < 0 || gi < 0) throw new StudioError('badRequest', `${source} has columns ${head.join(', ')}; accepted: a CSV with columns image and tile_group`);
  const m = new Map<string, string>();
  for (const l of lines.slice(1)) {
    const r = split(l);
    if (r[ii] && r[gi]) m.set((r[ii] as string).split(/[\\/]/).pop() as string, r[gi] as string);
  }
  return m;
}

/** data.py: an image not listed in the manifest is its own group, "<class>/<file name>". */
export function groupOf(className: string, fileName: string, groups: ReadonlyMap<string, string> | null): string {
  return groups?.get(fileName) ?? `${className}/${fileName}`;
}

export interface RealImage {
  className: string;
  /** file name (what the groups CSV lists) */
  name: string;
  /** where it is: a path (CLI) or a folder-relative path (studio); also its key for the loader */
  path: string;
  group: string;
  test: boolean;
}

/** A decoded real image and the flat indices (row-major, as np.argwhere) of its mask pixels > 127. */
export interface LoadedReal {
  img: Gray;
  defects: Int32Array;
}

/** Decoded image + optional decoded mask -> LoadedReal; a mask of another size is refused. */
export function loadedReal(img: Gray, mask: Gray | null, name: string): LoadedReal {
  if (mask && (mask.width !== img.width || mask.height !== img.height))
    throw new StudioError('badRequest', `${name}: mask is ${mask.width}x${mask.height}, image is ${img.width}x${img.height}; they must match`);
  const defects: number[] = [];
  if (mask) for (let i = 0; i < mask.pixels.length; i++) if ((mask.pixels[i] as number) > 127) defects.push(i);
  return { img, defects: Int32Array.from(defects) };
}

function reflect(i: number, n: number): number {
  // numpy pad mode "reflect" (edge not repeated), for i in [0, 2n - 2]
  return i < n ? i : 2 * (n - 1) - i;
}

/** data.py crop(): reflection-pad small images, centre on a random defect pixel +- jitter, else a random window. */
export function cropRealWindow(l: LoadedReal, size: number, rng: Rng, jitter: number): Uint8Array {
  let { width: w, height: h, pixels } = l.img;
  const srcW = w;
  if (h < size || w < size) {
    const nh = Math.max(h, size);
    const nw = Math.max(w, size);
    const p = new Uint8Array(nw * nh);
    for (let r = 0; r < nh; r++) for (let c = 0; c < nw; c++) p[r * nw + c] = pixels[reflect(r, h) * srcW + reflect(c, w)] as number;
    pixels = p;
    w = nw;
    h = nh;
  }
  const randint = (lo: number, hi: number) => lo + Math.floor(rng.nextFloat() * (hi - lo + 1)); // inclusive
  let top: number;
  let left: number;
  if (l.defects.length) {
    const k = l.defects[Math.floor(rng.nextFloat() * l.defects.length)] as number;
    const r = Math.floor(k / srcW) + randint(-jitter, jitter);
    const c = (k % srcW) + randint(-jitter, jitter);
    top = Math.min(Math.max(r - Math.floor(size / 2), 0), h - size);
    left = Math.min(Math.max(c - Math.floor(size / 2), 0), w - size);
  } else {
    top = randint(0, h - size);
    left = randint(0, w - size);
  }
  const out = new Uint8Array(size * size);
  for (let r = 0; r < size; r++) out.set(pixels.subarray((top + r) * w + left, (top + r) * w + left + size), r * size);
  return out;
}

export interface RealWindows {
  pixels: Uint8Array[];
  labels: number[];
  test: boolean[];
  /** index into the images of each window's source */
  source: number[];
  /** Real images that could not be used (unreadable, a mask of another size), with why; the rest go on. */
  skipped: { item: string; why: string }[];
}

type Load = { image: RealImage };
type Loaded = { ok: LoadedReal } | { error: Error };

/**
 * The draw itself, as a generator that asks for each image it needs (yield) and is handed it back decoded or
 * the error, so the one loop serves a synchronous reader (the CLI) and an asynchronous one (the studio).
 */
function* draw(images: readonly RealImage[], classes: readonly string[], perClass: number, size: number, windowSeed: number, jitter: number): Generator<Load, RealWindows, Loaded> {
  const out: RealWindows = { pixels: [], labels: [], test: [], source: [], skipped: [] };
  const index = new Map(images.map((r, i) => [r, i]));
  for (const [ci, c] of classes.entries()) {
    const cache = new Map<string, LoadedReal>();
    for (const side of [0, 1]) {
      const pool = images.filter((r) => r.className === c && r.test === (side === 1));
      const rng = new Rng(deriveSeed(windowSeed, 2 * ci + side));
      for (let k = 0; k < perClass && pool.length; k++) {
        const at = Math.floor(rng.nextFloat() * pool.length);
        const r = pool[at] as RealImage;
        let l = cache.get(r.path);
        if (!l) {
          const got = yield { image: r };
          if ('error' in got) {
            out.skipped.push({ item: r.path, why: got.error.message });
            pool.splice(at, 1);
            k--;
            continue;
          }
          l = got.ok;
          cache.set(r.path, l);
        }
        out.pixels.push(cropRealWindow(l, size, rng, jitter));
        out.labels.push(ci);
        out.test.push(side === 1);
        out.source.push(index.get(r) as number);
      }
    }
  }
  return out;
}

/** perClass windows per class on each side of the split (fewer only when a side has no readable images). */
export function drawRealWindowsSync(images: readonly RealImage[], classes: readonly string[], perClass: number, size: number, windowSeed: number, jitter: number, load: (image: RealImage) => LoadedReal): RealWindows {
  const g = draw(images, classes, perClass, size, windowSeed, jitter);
  let step = g.next();
  while (!step.done) {
    let res: Loaded;
    try {
      res = { ok: load(step.value.image) };
    } catch (e) {
      res = { error: e as Error };
    }
    step = g.next(res);
  }
  return step.value;
}

/** drawRealWindowsSync with an asynchronous reader (the same windows for the same images). */
export async function drawRealWindows(images: readonly RealImage[], classes: readonly string[], perClass: number, size: number, windowSeed: number, jitter: number, load: (image: RealImage) => Promise<LoadedReal>): Promise<RealWindows> {
  const g = draw(images, classes, perClass, size, windowSeed, jitter);
  let step = g.next();
  while (!step.done) {
    let res: Loaded;
    try {
      res = { ok: await load(step.value.image) };
    } catch (e) {
      res = { error: e as Error };
    }
    step = g.next(res);
  }
  return step.value;
}
