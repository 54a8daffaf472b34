/**
 * Command-line generator on the same sampler core as the browser.
 *
 *   npm run generate -- --model public/models/magtile-defect-64 --class Crack --n 16 --seed 1 \
 *     --sampler dpmpp2m --steps 20 --guidance 1.5 --out out/
 *
 * Image k of a run uses seed (seed + k); --seed-start/--seed-end (end exclusive) give disjoint,
 * reproducible shards for several machines. --class takes one class, a comma list (Crack,Fray) or "defects" (every class
 * of the model's mask_library.json that has masks, in its order): each class gets the same seeds, class by class, and
 * the folder is byte for byte what one run per class into the same --out makes (metadata.jsonl's timings aside).
 * Writes images/<class>/<class>_s<seed>.png, masks/<class>/... and
 * metadata.jsonl, and for mask-conditioned models labels/<class>/<class>_s<seed>.txt (YOLO segmentation polygons
 * of the mask, src/core/formats/yolo.ts) with data.yaml (the model's classes), so Ultralytics reads the folder.
 * The same arguments give byte-identical files (timings live only in metadata.jsonl).
 *
 * --mask-draw varied: instead of the library window the generator draws itself, each image's mask is
 * src/core/formats/maskDraw.ts variedMask of its seed (whole shapes at a random size, angle and place; window-cut
 * shapes as drawn), given to the generator and recorded with maskDraw: {draw, size}.
 *
 * On whole photos:
 *   npm run generate -- --model <dir> --class Fray --photos <folder of defect-free photos> --n 100 --seed 1 --out <dir>
 * Each image picks a photo (PNG or JPEG, by sorted name) and a real mask of the class from its seed: from the model's
 * whole-part mask library (part_masks.json: the training split's masks at native size), or from --masks <folder>
 * (its *.png, e.g. a class folder of a dataset: only its masks are read, so it goes with one class only); with
 * part_masks.json each class of --class draws its own, and a class it has none of is refused before anything is
 * generated. It puts the mask on the photo at native scale where it was on its own part (src/core/formats/photoMask.ts), and generates it there (src/core/diffusion/tiled.ts: windows tiled and
 * denoised jointly); images and masks are photo-sized, metadata.jsonl records basePhoto (its file name within
 * --photos and the sha256 of its gray pixels), the windows and the tiling. npm run reproduce -- --photos <folder>
 * makes them again.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateImage } from '../src/core/diffusion/generate';
import { checkGuidanceInterval, type GuidanceInterval } from '../src/core/diffusion/guidance';
import { decodeImage, decodeMaskPng, type Gray } from '../src/core/formats/image';
import { yoloDataYaml, yoloLabel } from '../src/core/formats/yolo';
import type { MaskLibrary } from '../src/core/formats/maskLibrary';
import { MASK_DRAWS, variedMask, type MaskDraw } from '../src/core/formats/maskDraw';
import { checkPhotoSize } from '../src/core/model/limits';
import type { ModelManifest } from '../src/core/model/manifest';
import { drawPartMask, parsePartMaskLibrary, partMaskCount, PART_MASKS_FILE, type PartMaskLibrary } from '../src/core/formats/partMasks';
import { placeRealMask } from '../src/core/formats/photoMask';
import { choosePhoto, photoOrder } from '../src/core/formats/photoChoice';
import { generateOnPhoto } from '../src/core/diffusion/tiled';
import type { GenerateRequest, GenerateResult } from '../src/core/model/protocol';
import { buildRequest, MAX_ETA, MAX_GUIDANCE } from '../src/core/model/request';
import { SAMPLER_NAMES, type SamplerName } from '../src/core/diffusion/samplers';
import { TIMESTEP_SPACINGS, type TimestepSpacing } from '../src/core/diffusion/schedule';
import { loadNodeModel, NODE_BACKENDS, type NodeBackend, type NodeModel } from './lib/nodeModel';

export class UsageError extends Error {}

/** --class defects: every class the model's mask library has masks of. */
export const DEFECTS = 'defects';

const USAGE = `usage: npm run generate -- --model <dir> --class <name>|<name,name,...>|defects [--n 16 --seed 1 | --seed-start A --seed-end B]
       [--sampler ${SAMPLER_NAMES.join('|')}] [--steps N] [--guidance G] [--guidance-interval LOW,HIGH|all] [--eta 0] [--spacing ${TIMESTEP_SPACINGS.join('|')}]
       [--no-clip] [--prompt text] [--mask mask.png | --mask-draw ${MASK_DRAWS.join('|')} | --photos <dir> [--masks <dir>]] [--backend ${NODE_BACKENDS.join('|')}] [--threads N] --out <dir>
       --class: one class, several separated by commas, or defects (every class of the model's mask library); each gets the same seeds
       --mask-draw: library (default) = a mask window of the model's library, flipped; varied = a whole library shape at a random
         size third of its class, turned and placed anywhere; a shape cut by its window is kept (src/core/formats/maskDraw.ts)
       --masks: a folder of one class's real masks (one class only); without it each class draws from the model's part_masks.json
       sampler, steps, guidance, guidance interval and spacing default to the model manifest's "defaults";
       --guidance-interval: guide only the steps whose noise level sigma is in (LOW, HIGH]; all = every step`;

export interface GenerateArgs {
  model: string;
  /** The classes, in the order generated; 'defects': those of the model's mask library (resolveClasses). */
  classNames: readonly string[] | typeof DEFECTS;
  seeds: number[];
  sampler?: SamplerName;
  steps?: number;
  guidance?: number;
  /** undefined: the manifest's; 'all': every step. */
  guidanceInterval?: GuidanceInterval | 'all';
  eta: number;
  spacing?: TimestepSpacing;
  clip: boolean;
  prompt: string;
  mask?: string;
  /** How each image's mask is drawn when no --mask is given: 'library' (default: the generator's own randomMask) or 'varied'. */
  maskDraw?: MaskDraw;
  /** Whole photos: a folder of defect-free photos and, optionally, one of real masks of the class (default: the model's part_masks.json). */
  photos?: string;
  masks?: string;
  backend: NodeBackend;
  threads: number;
  out: string;
}

function int(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got "${v}"`);
  return n;
}
function choice<T extends string>(name: string, v: string | undefined, accepted: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!accepted.includes(v as T)) throw new UsageError(`--${name} "${v}" is not valid; accepted: ${accepted.join(', ')}`);
  return v as T;
}

export function parseGenerateArgs(argv: string[]): GenerateArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        model: { type: 'string' }, class: { type: 'string' }, n: { type: 'string' }, seed: { type: 'string' },
        'seed-start': { type: 'string' }, 'seed-end': { type: 'string' }, sampler: { type: 'string' }, steps: { type: 'string' },
        guidance: { type: 'string' }, 'guidance-interval': { type: 'string' }, eta: { type: 'string' }, spacing: { type: 'string' }, 'no-clip': { type: 'boolean' },
        prompt: { type: 'string' }, mask: { type: 'string' }, 'mask-draw': { type: 'string' }, photos: { type: 'string' }, masks: { type: 'string' }, backend: { type: 'string' }, threads: { type: 'string' }, out: { type: 'string' },
      },
      strict: true,
    }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${USAGE}`);
  }
  if (!values.model) throw new UsageError(`--model is required\n${USAGE}`);
  if (!values.class) throw new UsageError(`--class is required\n${USAGE}`);
  const classNames = parseClassList(values.class);
  if (!values.out) throw new UsageError(`--out is required\n${USAGE}`);
  const start = int('seed-start', values['seed-start'], 0);
  const end = int('seed-end', values['seed-end'], 0);
  let seeds: number[];
  if (start !== undefined || end !== undefined) {
    if (start === undefined || end === undefined || end <= start) throw new UsageError('--seed-start and --seed-end go together, with end > start (end exclusive)');
    if (values.n !== undefined || values.seed !== undefined) throw new UsageError('use either --n/--seed or --seed-start/--seed-end, not both');
    seeds = Array.from({ length: end - start }, (_, k) => start + k);
  } else {
    const n = int('n', values.n ?? '1', 1) as number;
    const seed = int('seed', values.seed ?? '0', 0) as number;
    seeds = Array.from({ length: n }, (_, k) => seed + k);
  }
  const guidance = values.guidance === undefined ? undefined : Number(values.guidance);
  if (guidance !== undefined && !(Number.isFinite(guidance) && guidance >= 0 && guidance <= MAX_GUIDANCE)) throw new UsageError(`--guidance must be a number from 0 to ${MAX_GUIDANCE}, got "${values.guidance}"`);
  let guidanceInterval: GuidanceInterval | 'all' | undefined;
  const gi = values['guidance-interval'];
  if (gi === 'all') guidanceInterval = 'all';
  else if (gi !== undefined) {
    const parts = gi.split(',').map((v) => (v.trim() === '' ? NaN : Number(v)));
    const why = checkGuidanceInterval(parts);
    if (why) throw new UsageError(`--guidance-interval "${gi}" is not valid: ${why}; accepted: LOW,HIGH (noise levels sigma, 0 <= LOW < HIGH) or all`);
    guidanceInterval = [parts[0] as number, parts[1] as number];
  }
  const maskDraw = choice('mask-draw', values['mask-draw'], MASK_DRAWS) ?? 'library';
  if (values['mask-draw'] !== undefined && (values.mask !== undefined || values.photos !== undefined))
    throw new UsageError('--mask-draw chooses how window masks are drawn; it does not go with --mask (one given mask) or --photos (real whole-part masks)');
  if (values.masks !== undefined && values.photos === undefined)
    throw new UsageError('--masks goes with --photos: a folder of defect-free photos to put the real masks on');
  if (values.photos !== undefined && values.mask !== undefined) throw new UsageError('use either --mask (one window-sized mask) or --photos/--masks, not both');
  const eta = Number(values.eta ?? '0');
  if (!(Number.isFinite(eta) && eta >= 0 && eta <= MAX_ETA)) throw new UsageError(`--eta must be a number from 0 to ${MAX_ETA}, got "${values.eta}"`);
  return {
    model: values.model,
    classNames,
    seeds,
    sampler: choice('sampler', values.sampler, SAMPLER_NAMES),
    steps: int('steps', values.steps, 1),
    guidance,
    ...(guidanceInterval ? { guidanceInterval } : {}),
    eta,
    spacing: choice('spacing', values.spacing, TIMESTEP_SPACINGS),
    clip: !values['no-clip'],
    prompt: values.prompt ?? '',
    mask: values.mask,
    maskDraw,
    ...(values.photos !== undefined ? { photos: values.photos, ...(values.masks !== undefined ? { masks: values.masks } : {}) } : {}),
    backend: choice('backend', values.backend, NODE_BACKENDS) ?? 'native',
    threads: int('threads', values.threads, 0) ?? 0,
    out: values.out,
  };
}

const CLASS_FORMS = `a class, classes separated by commas (Crack,Fray) or ${DEFECTS}`;

/** --class: "defects", or class names separated by commas (each once). */
function parseClassList(v: string): readonly string[] | typeof DEFECTS {
  return v.trim() === DEFECTS ? DEFECTS : checkClassList(v.split(',').map((c) => c.trim()), `--class "${v}"`);
}

function checkClassList(names: readonly string[], what: string): readonly string[] {
  if (!names.length || names.some((c) => c === '')) throw new UsageError(`${what} has an empty class name; accepted: ${CLASS_FORMS}`);
  const twice = [...new Set(names.filter((c, i) => names.indexOf(c) !== i))];
  if (twice.length) throw new UsageError(`${what} names ${twice.join(', ')} more than once; give each class once`);
  return names;
}

/** The classes to generate, checked against the model: the list given, or the mask library's classes with masks, in its order. */
export function resolveClasses(spec: GenerateArgs['classNames'], m: ModelManifest, lib: MaskLibrary | null): string[] {
  if (spec !== DEFECTS) checkClassList(spec, `--class "${spec.join(',')}"`);
  else if (!lib)
    throw new UsageError(`--class ${DEFECTS}: model ${m.id} has no mask library (mask_library.json), so it names no defect classes; accepted for this model: a class of ${m.classes.join(', ')}, or several separated by commas`);
  const names = spec === DEFECTS ? Object.keys(lib?.classes ?? {}).filter((c) => (lib?.classes[c]?.length ?? 0) > 0) : [...spec];
  if (!names.length) throw new UsageError(`--class ${DEFECTS}: the mask library of model ${m.id} holds no masks; accepted for this model: a class of ${m.classes.join(', ')}, or several separated by commas`);
  for (const c of names)
    if (!m.classes.includes(c))
      throw new UsageError(`--class "${c}"${spec === DEFECTS ? ' (a class of the mask library)' : ''} is not a class of model ${m.id}; accepted: ${m.classes.join(', ')}, several separated by commas, or ${DEFECTS}`);
  return names;
}

export async function runGenerate(a: GenerateArgs, log: (s: string) => void = console.log): Promise<string[]> {
  const model = await loadNodeModel(a.model, a.backend, a.threads);
  try {
    return await generateClasses(a, model, log);
  } finally {
    await model.session.release();
  }
}

/** Everything is checked (classes, --mask, the photo set) before the first image; then class by class, seed by seed. */
async function generateClasses(a: GenerateArgs, model: NodeModel, log: (s: string) => void): Promise<string[]> {
  const m = model.manifest;
  const classNames = resolveClasses(a.classNames, m, model.maskLibrary);
  let defectMask: Uint8Array | undefined;
  if (a.mask) {
    const g = decodeMaskPng(readFileSync(a.mask));
    if (g.width !== m.image.width || g.height !== m.image.height)
      throw new UsageError(`--mask is ${g.width}x${g.height}; model ${m.id} takes ${m.image.width}x${m.image.height} masks`);
    defectMask = g.pixels;
  }
  if (a.maskDraw === 'varied' && !(m.conditions.defectMask && model.maskLibrary))
    throw new UsageError(`--mask-draw varied draws from the model's mask library; model ${m.id} ${m.conditions.defectMask ? 'ships none (mask_library.json)' : 'takes no defect mask'}: leave --mask-draw out`);
  if (a.masks !== undefined && classNames.length > 1)
    throw new UsageError(`--masks is a folder of one class's masks; with several classes (${classNames.join(', ')}) leave it out: each class then draws its own from the model's ${PART_MASKS_FILE}`);
  const photoSet = a.photos !== undefined ? openPhotoSet(a.photos, a.masks, a.model, m, classNames) : null;
  if (photoSet && !m.conditions.inpainting) throw new UsageError(`--photos: model ${m.id} cannot keep a known image (no inpainting inputs)`);
  const written: string[] = [];
  for (const className of classNames) {
    const imgDir = join(a.out, 'images', className);
    const maskDir = join(a.out, 'masks', className);
    const labelDir = join(a.out, 'labels', className);
    mkdirSync(imgDir, { recursive: true });
    if (m.conditions.defectMask) {
      mkdirSync(maskDir, { recursive: true });
      mkdirSync(labelDir, { recursive: true });
      // The same for every shard and class of a run (it names the model's classes only).
      writeFileSync(join(a.out, 'data.yaml'), yoloDataYaml(m.classes));
    }
    for (const seed of a.seeds) {
      // --mask-draw varied: the mask is drawn here and given (the record stores it, so npm run reproduce reads it back).
      const varied = a.maskDraw === 'varied' && model.maskLibrary ? variedMask(model.maskLibrary, className, seed) : null;
      // Left-out flags take the manifest's defaults (the builder's table); 'all' guides every step.
      const req = buildRequest(m, {
        className, prompt: a.prompt, seed, sampler: a.sampler, steps: a.steps, guidance: a.guidance, guidanceInterval: a.guidanceInterval,
        eta: a.eta, timestepSpacing: a.spacing, clipSample: a.clip, defectMask: varied ? varied.mask : defectMask,
      });
      const r = photoSet
        ? await generateOnPhotoSet(m, model, req, photoSet, seed)
        : await generateImage(m, model.maskLibrary, model.denoise, req, model.backend, { now: () => performance.now() });
      const name = `${className}_s${seed}`;
      writeFileSync(join(imgDir, `${name}.png`), r.png);
      written.push(join(imgDir, `${name}.png`));
      const rec: Record<string, unknown> = { file: `images/${className}/${name}.png`, ...r.provenance, threads: model.threads };
      if (varied) rec['maskDraw'] = { draw: 'varied', size: varied.size };
      if (m.conditions.defectMask) {
        writeFileSync(join(maskDir, `${name}.png`), r.maskPng);
        rec['mask'] = `masks/${className}/${name}.png`;
        writeFileSync(join(labelDir, `${name}.txt`), yoloLabel(r.mask, r.width, r.height, m.classes.indexOf(className)));
      }
      // One line per finished image, so an interrupted run still describes every PNG it wrote.
      writeFileSync(join(a.out, 'metadata.jsonl'), JSON.stringify(rec) + '\n', { flag: 'a' });
      log(`${name}.png  ${(r.provenance.timings.totalMs / 1000).toFixed(2)} s  (${model.backend})${r.provenance.basePhoto ? `  on ${r.provenance.basePhoto.name}, ${r.provenance.windows?.length} window(s)` : ''}`);
    }
  }
  return written;
}

interface PhotoSet {
  photos: string[];
  /** mask files of --masks, or null: the model's part_masks.json (partMasks) */
  masks: string[] | null;
  partMasks: PartMaskLibrary | null;
  photoDir: string;
  maskDir: string;
  cache: Map<string, Gray>;
}

/** Opens --photos (and --masks) and checks that every class has real masks to draw, before anything is generated. */
function openPhotoSet(photoDir: string, maskDir: string | undefined, modelDir: string, m: ModelManifest, classNames: readonly string[]): PhotoSet {
  for (const [flag, d] of [['--photos', photoDir], ['--masks', maskDir]] as const)
    if (d !== undefined && (!existsSync(d) || !statSync(d).isDirectory())) throw new UsageError(`${flag} ${d} is not a folder`);
  const photos = photoOrder(readdirSync(photoDir));
  if (!photos.length) throw new UsageError(`--photos ${photoDir} holds no PNG or JPEG photos`);
  if (maskDir === undefined) {
    const libPath = join(modelDir, PART_MASKS_FILE);
    // --masks is one class's folder, so with several classes the way out is one run per class.
    const give = (c: string) => (classNames.length === 1 ? `give --masks <folder of real ${c} masks>` : `leave ${c} out of --class, or generate it alone with --masks <folder of real ${c} masks>`);
    if (!existsSync(libPath)) throw new UsageError(`model ${m.id} ships no ${PART_MASKS_FILE} (whole-part masks); ${classNames.map(give).join('; ')}`);
    const partMasks = parsePartMaskLibrary(JSON.parse(readFileSync(libPath, 'utf8')) as unknown);
    const without = classNames.filter((c) => !partMaskCount(partMasks, c));
    if (without.length)
      throw new UsageError(`${libPath} has no ${without.join(', ')} masks (it has: ${Object.keys(partMasks.classes).join(', ')}); ${without.map(give).join('; ')}`);
    return { photos, masks: null, partMasks, photoDir, maskDir: '', cache: new Map() };
  }
  // A dataset class folder holds defect photos and their masks: only files named *mask*.png are masks there.
  const pngs = readdirSync(maskDir).filter((f) => /\.png$/i.test(f)).sort();
  const named = pngs.filter((f) => /mask/i.test(f));
  const masks = named.length ? named : pngs;
  if (!masks.length) throw new UsageError(`--masks ${maskDir} holds no PNG masks`);
  return { photos, masks, partMasks: null, photoDir, maskDir, cache: new Map() };
}

function readGray(set: PhotoSet, dir: string, name: string): Gray {
  const key = join(dir, name);
  let g = set.cache.get(key);
  if (!g) {
    g = decodeImage(new Uint8Array(readFileSync(key)), key);
    if (dir === set.photoDir) checkPhotoSize(name, g.width, g.height);
    set.cache.set(key, g);
  }
  return g;
}

/** Photo and mask chosen by the seed (src/core/formats/photoChoice.ts: photo, then masks until one lands on it). */
async function generateOnPhotoSet(m: ModelManifest, model: NodeModel, req: GenerateRequest, set: PhotoSet, seed: number): Promise<GenerateResult> {
  const { photo: photoName, rng } = choosePhoto(seed, set.photos);
  const photo = readGray(set, set.photoDir, photoName);
  if (photo.width < m.image.width || photo.height < m.image.height) throw new UsageError(`${photoName} is ${photo.width}x${photo.height}, smaller than the model's ${m.image.width}x${m.image.height} window`);
  const onPhoto = (mask: Uint8Array) => generateOnPhoto(m, model.maskLibrary, model.denoise, req, { ...photo, name: photoName }, mask, model.backend, { now: () => performance.now() });
  if (!set.masks) return onPhoto(drawPartMask(set.partMasks as PartMaskLibrary, req.className, photo.width, photo.height, rng).mask);
  for (let tries = 0; tries < 16; tries++) {
    const maskName = set.masks[rng.nextUint32() % set.masks.length] as string;
    const src = readGray(set, set.maskDir, maskName);
    const mask = placeRealMask({ width: src.width, height: src.height, pixels: Uint8Array.from(src.pixels, (v) => (v > 127 ? 1 : 0)) }, photo.width, photo.height, rng);
    if (mask) return onPhoto(mask);
  }
  throw new UsageError(`seed ${seed}: 16 masks from ${set.maskDir} in a row were empty or fell off ${photoName}`);
}

const isMain = import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('scripts/generate.ts');
if (isMain) {
  try {
    await runGenerate(parseGenerateArgs(process.argv.slice(2)));
  } catch (e) {
    console.error(`generate: ${(e as Error).message}`);
    process.exit(e instanceof UsageError ? 2 : 1);
  }
}
