/**
 * Regenerates every image of a dataset from its recorded provenance and compares the pixels with the stored
 * PNG: the check that metadata.jsonl really is enough to make each image again.
 *
 *   npm run reproduce -- --dataset dataset.zip --model public/models/magtile-defect-64 [--photos <dir>] \
 *     [--backend native|wasm] [--threads N] [--tolerance 0]
 *
 * --dataset: a zip made by "Export dataset" (every item, whatever its review status) or a folder written by
 *   scripts/generate.ts (metadata.jsonl beside images/ and masks/).
 * --photos: where the defect-free photos of photo-mode items are (found by the name the provenance records and
 *   checked against its sha256 of the gray pixels; PNG, or JPEG decoded by jpeg-js); the export does not
 *   contain them. A tiled item (provenance.tiling) is denoised jointly over its recorded windows again, an older
 *   one window by window.
 * --backend, --threads: how to run the network; by default as each item records it (provenance.backend, with
 *   WebGPU items run on WASM, and provenance.threads, else all cores), since another thread count can round a
 *   value the other way (seen: one pixel one gray level off).
 * --tolerance: the largest per-pixel difference in gray levels still counted as reproduced. The same backend
 *   and thread count give the same bytes (the browser's WASM and onnxruntime-web's under Node did in the e2e
 *   tests); another backend (WebGPU, or onnxruntime-node against WASM) may compute the network in another
 *   order, and the sampler carries that rounding through every step.
 *
 * An item made with another model (its sha256 differs from --model's) or on a photo that is not in --photos is
 * listed as not checked, with the reason. Prints a line per item and a JSON summary. Exit status: 0 when at
 * least one item was checked and every checked item was reproduced; 1 when one was not (or none could be
 * checked); 2 on bad arguments.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateInWindows } from '../src/core/diffusion/composite';
import { generateImage } from '../src/core/diffusion/generate';
import { generateTiled, parseTiling } from '../src/core/diffusion/tiled';
import { decodeImage, decodeMaskPng, decodeToGray, graySha256 } from '../src/core/formats/image';
import type { GenerateResult, Provenance } from '../src/core/model/protocol';
import { requestFromRecord } from '../src/core/model/request';
import { parseProvenanceRecord } from '../src/dataset/record';
import { readExportZip } from '../src/dataset/zip';
import { loadNodeModel, NODE_BACKENDS, type NodeBackend, type NodeModel } from './lib/nodeModel';

export class UsageError extends Error {}

const USAGE = `usage: npm run reproduce -- --dataset <export.zip | generate.ts output folder> --model <dir>
       [--photos <dir>] [--backend ${NODE_BACKENDS.join('|')}] [--threads N] [--tolerance 0]`;

export interface ReproduceArgs {
  dataset: string;
  model: string;
  photos?: string;
  /** undefined: each item's recorded backend (WebGPU items on WASM). */
  backend?: NodeBackend;
  threads: number;
  tolerance: number;
}

export function parseReproduceArgs(argv: string[]): ReproduceArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { dataset: { type: 'string' }, model: { type: 'string' }, photos: { type: 'string' }, backend: { type: 'string' }, threads: { type: 'string' }, tolerance: { type: 'string' } },
      strict: true,
    }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${USAGE}`);
  }
  if (!values.dataset) throw new UsageError(`--dataset is required\n${USAGE}`);
  if (!values.model) throw new UsageError(`--model is required\n${USAGE}`);
  const backend = values.backend;
  if (backend !== undefined && !NODE_BACKENDS.includes(backend as NodeBackend)) throw new UsageError(`--backend "${backend}" is not valid; accepted: ${NODE_BACKENDS.join(', ')}`);
  const tolerance = Number(values.tolerance ?? '0');
  if (!(Number.isInteger(tolerance) && tolerance >= 0 && tolerance <= 255)) throw new UsageError(`--tolerance must be an integer number of gray levels from 0 to 255, got "${values.tolerance}"`);
  const threads = Number(values.threads ?? '0');
  if (!(Number.isInteger(threads) && threads >= 0)) throw new UsageError(`--threads must be an integer >= 0, got "${values.threads}"`);
  return { dataset: values.dataset, model: values.model, ...(values.photos ? { photos: values.photos } : {}), ...(backend ? { backend: backend as NodeBackend } : {}), threads, tolerance };
}

/** One image to reproduce: its recorded provenance and the stored bytes. */
export interface RecordedImage {
  name: string;
  provenance: Provenance;
  png: Uint8Array;
  /** The stored defect mask (model-sized for a window, photo-sized for a photo item); absent when none was written. */
  maskPng?: Uint8Array;
}

/** A record that could not be read (bad JSON, a field outside the schema, a missing or unreadable PNG). */
export interface UnreadableRecord {
  name: string;
  problem: string;
}

export type RecordedEntry = RecordedImage | UnreadableRecord;

/**
 * Reads an exported zip or a scripts/generate.ts output folder. A bad record does not stop the run: it comes
 * back as an UnreadableRecord (reported as not checked, with its problem); only a missing or unreadable dataset
 * as a whole throws.
 */
export function readRecorded(path: string): RecordedEntry[] {
  if (!existsSync(path)) throw new UsageError(`--dataset ${path} does not exist; accepted: an exported .zip or a folder written by scripts/generate.ts`);
  if (statSync(path).isFile()) {
    const ds = readExportZip(new Uint8Array(readFileSync(path)), { skipBad: true });
    const out: RecordedEntry[] = ds.items.map((it) => {
      const img = ds.images.get(it.id) as { png: Uint8Array; maskPng: Uint8Array };
      return { name: it.id, provenance: it.provenance, png: img.png, maskPng: img.maskPng };
    });
    for (const s of ds.skipped) out.push({ name: s.id ?? `metadata.jsonl line ${s.line}`, problem: s.problem });
    return out;
  }
  const metaPath = join(path, 'metadata.jsonl');
  if (!existsSync(metaPath)) throw new UsageError(`${path} has no metadata.jsonl; accepted: an exported .zip or a folder written by scripts/generate.ts`);
  const out: RecordedEntry[] = [];
  readFileSync(metaPath, 'utf8')
    .split('\n')
    .forEach((l, i) => {
      if (!l.trim()) return;
      const at = `${metaPath} line ${i + 1}`;
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(l) as Record<string, unknown>;
      } catch {
        out.push({ name: at, problem: `${at} is not valid JSON` });
        return;
      }
      const file = rec?.['file'];
      const mask = rec?.['mask'];
      const name = typeof file === 'string' ? file : at;
      let provenance: Provenance;
      try {
        provenance = parseProvenanceRecord(rec, { allowUnknown: true });
        // The record schema does not carry the tiling of a jointly denoised photo item yet: read it here.
        if (rec['tiling'] !== undefined) provenance.tiling = parseTiling(rec['tiling']);
      } catch (e) {
        out.push({ name, problem: `${at}, ${(e as Error).message}` });
        return;
      }
      if (typeof file !== 'string' || !existsSync(join(path, file))) {
        out.push({ name, problem: `${at} names image ${String(file)}, which is not in ${path}` });
        return;
      }
      const maskFile = typeof mask === 'string' ? join(path, mask) : null;
      out.push({
        name: file,
        provenance,
        png: new Uint8Array(readFileSync(join(path, file))),
        ...(maskFile && existsSync(maskFile) ? { maskPng: new Uint8Array(readFileSync(maskFile)) } : {}),
      });
    });
  return out;
}

export type Outcome =
  | { name: string; status: 'reproduced' | 'differs'; maxDiff: number; pixelsDiffering: number; maskMatches: boolean; recordedBackend: string; backend: NodeBackend; threads: number }
  | { name: string; status: 'not checked'; why: string };

/** Regenerates one image; returns why it could not when it cannot. */
async function regenerate(model: NodeModel, item: RecordedImage, photos: string | undefined): Promise<GenerateResult | string> {
  const m = model.manifest;
  const p = item.provenance;
  if (p.modelSha256 !== m.sha256) return `made with ${p.modelId} ${p.modelVersion} (sha256 ${p.modelSha256.slice(0, 12)}…); --model is ${m.id} ${m.version} (sha256 ${m.sha256.slice(0, 12)}…)`;
  const req = requestFromRecord(m, p);
  if (p.basePhoto) {
    if (!photos) return `made on photo ${p.basePhoto.name}; pass the folder holding it with --photos`;
    const file = join(photos, p.basePhoto.name);
    if (!existsSync(file)) return `made on photo ${p.basePhoto.name}, which is not in ${photos}`;
    const g = decodeImage(new Uint8Array(readFileSync(file)), file);
    const sha = graySha256(g.pixels);
    if (sha !== p.basePhoto.sha256) return `${file} is not the photo it was made on (gray pixels sha256 ${sha.slice(0, 12)}…, recorded ${p.basePhoto.sha256.slice(0, 12)}…)`;
    if (!item.maskPng) return 'no stored mask (photo items need the painted mask)';
    const mask = decodeMaskPng(item.maskPng);
    if (mask.width !== g.width || mask.height !== g.height) return `the stored mask is ${mask.width}x${mask.height} but the photo is ${g.width}x${g.height}`;
    const photo = { ...g, name: p.basePhoto.name };
    // Joint tiling (protocol 5 on) or the older windows one after another; the same for a single window.
    return p.tiling
      ? generateTiled(m, model.denoise, req, photo, mask.pixels, p.windows ?? [], model.backend, {}, p.tiling)
      : generateInWindows(m, model.maskLibrary, model.denoise, req, photo, mask.pixels, p.windows ?? [], model.backend);
  }
  if (p.maskSource === 'given') {
    if (!item.maskPng) return 'made with a given mask that was not stored';
    const mask = decodeMaskPng(item.maskPng);
    if (mask.width !== m.image.width || mask.height !== m.image.height) return `the stored mask is ${mask.width}x${mask.height}; model ${m.id} takes ${m.image.width}x${m.image.height}`;
    req.defectMask = mask.pixels;
  }
  if (p.inpainting) return 'an inpainted window without a photo record (not made by this studio)';
  // 'library' masks are drawn again from the seed, 'none' gives none: both as the original request did.
  return generateImage(m, model.maskLibrary, model.denoise, req, model.backend);
}

/** The model to run an item with: loaded once per backend and thread count (see --backend, --threads). */
export type ModelFor = (recorded: Provenance) => Promise<NodeModel>;

export function modelLoader(dir: string, backend: NodeBackend | undefined, threads: number): { modelFor: ModelFor; release: () => Promise<void> } {
  const cache = new Map<string, Promise<NodeModel>>();
  return {
    modelFor: (p) => {
      const b: NodeBackend = backend ?? (p.backend === 'native' ? 'native' : 'wasm');
      const n = threads > 0 ? threads : (p.threads ?? 0);
      let m = cache.get(`${b}:${n}`);
      if (!m) cache.set(`${b}:${n}`, (m = loadNodeModel(dir, b, n)));
      return m;
    },
    release: async () => {
      for (const m of cache.values()) await (await m).session.release();
    },
  };
}

/**
 * Regenerates each item and compares. Each item stands alone: an unreadable record, or one whose regeneration
 * or comparison throws, is reported as not checked with the reason, and the run goes on with the next.
 */
export async function reproduce(modelFor: ModelFor, items: RecordedEntry[], photos: string | undefined, tolerance: number): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (const item of items) {
    if ('problem' in item) {
      out.push({ name: item.name, status: 'not checked', why: item.problem });
      continue;
    }
    try {
      out.push(await reproduceOne(modelFor, item, photos, tolerance));
    } catch (e) {
      out.push({ name: item.name, status: 'not checked', why: `failed: ${(e as Error).message}` });
    }
  }
  return out;
}

async function reproduceOne(modelFor: ModelFor, item: RecordedImage, photos: string | undefined, tolerance: number): Promise<Outcome> {
  const model = await modelFor(item.provenance);
  const r = await regenerate(model, item, photos);
  if (typeof r === 'string') return { name: item.name, status: 'not checked', why: r };
  const stored = decodeToGray(item.png);
  if (stored.width !== r.width || stored.height !== r.height)
    return { name: item.name, status: 'not checked', why: `the stored image is ${stored.width}x${stored.height}, the regenerated one ${r.width}x${r.height}` };
  let maxDiff = 0, pixelsDiffering = 0;
  for (let i = 0; i < r.pixels.length; i++) {
    const d = Math.abs((r.pixels[i] as number) - (stored.pixels[i] as number));
    if (d) pixelsDiffering++;
    if (d > maxDiff) maxDiff = d;
  }
  const maskMatches = r.provenance.maskSha256 === item.provenance.maskSha256;
  return { name: item.name, status: maxDiff <= tolerance && maskMatches ? 'reproduced' : 'differs', maxDiff, pixelsDiffering, maskMatches, recordedBackend: item.provenance.backend, backend: model.backend, threads: model.threads };
}

export function summarise(outcomes: Outcome[], tolerance: number): Record<string, unknown> {
  const checked = outcomes.filter((o) => o.status !== 'not checked') as Extract<Outcome, { maxDiff: number }>[];
  return {
    items: outcomes.length,
    checked: checked.length,
    reproduced: checked.filter((o) => o.status === 'reproduced').length,
    bitExact: checked.filter((o) => o.maxDiff === 0 && o.maskMatches).length,
    differs: checked.filter((o) => o.status === 'differs').length,
    notChecked: outcomes.length - checked.length,
    maxDiff: checked.reduce((a, o) => Math.max(a, o.maxDiff), 0),
    tolerance,
  };
}

const isMain = import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('scripts/reproduce.ts');
if (isMain) {
  try {
    const a = parseReproduceArgs(process.argv.slice(2));
    const items = readRecorded(a.dataset);
    const models = modelLoader(a.model, a.backend, a.threads);
    const outcomes = await reproduce(models.modelFor, items, a.photos, a.tolerance);
    await models.release();
    for (const o of outcomes)
      console.log(o.status === 'not checked'
        ? `${o.name}  not checked: ${o.why}`
        : `${o.name}  ${o.status}: max difference ${o.maxDiff} gray levels in ${o.pixelsDiffering} pixels; mask ${o.maskMatches ? 'matches' : 'DIFFERS'} (recorded on ${o.recordedBackend}; run on ${o.backend} with ${o.threads} threads)`);
    const s = summarise(outcomes, a.tolerance);
    console.log(JSON.stringify(s));
    process.exit(s.checked && s.differs === 0 ? 0 : 1);
  } catch (e) {
    console.error(`reproduce: ${(e as Error).message}`);
    process.exit(e instanceof UsageError ? 2 : 1);
  }
}
