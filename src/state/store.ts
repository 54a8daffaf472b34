/**
 * One typed zustand store made of slices (engine, settings, queue, dataset). Status is a tagged union;
 * pixel buffers stay out of the store (items keep object URLs; bytes live in IndexedDB). Settings persist in
 * localStorage; the dataset persists in IndexedDB (src/dataset/db.ts), written before the UI shows it.
 */
import { create } from 'zustand';
import { persist, createJSONStorage } from 'zustand/middleware';
import type { HandshakeInfo, LoadedModelInfo, StepProgress } from '../core/model/protocol';
import { SAMPLER_NAMES, type SamplerName } from '../core/diffusion/samplers';
import { MAX_STEPS } from '../core/model/request';
import type { DamagedRecord, PhotoRecord } from '../dataset/db';
import type { DatasetItem, ReviewStatus } from '../dataset/types';
import { selectItems, type ReviewFilter, type ReviewSort } from './reviewModel';

export type { ReviewFilter, ReviewSort };

export type EngineStatus =
  | { kind: 'idle' }
  | { kind: 'loadingModel' }
  | { kind: 'ready' }
  | { kind: 'generating'; progress: StepProgress | null }
  | { kind: 'error'; code: string; message: string };

export interface Settings {
  className: string;
  prompt: string;
  seed: number;
  randomSeed: boolean;
  sampler: SamplerName;
  steps: number;
  guidance: number;
  batchSize: number;
  modelId: string;
  /** Reject images the quality checks flag as soon as they are made (off by default). */
  autoRejectFlagged: boolean;
  /** Accepted images wanted per class (the class-balance targets). */
  targets: Record<string, number>;
  /** Generate and Fill to target place each image's defect on a photo of the stored set (when photoSetProblem is null). */
  onPhotoSet: boolean;
}

export interface ModelChoice {
  id: string;
  label: string;
  source: 'embedded' | 'user';
}

export interface QueueJob {
  id: number;
  className: string;
  prompt: string;
  sampler: SamplerName;
  steps: number;
  guidance: number;
  seeds: number[];
  done: number;
  /** painted mask (and photo) attached to this job; the pixels are kept by the queue runner (src/app/queue.ts) */
  masked?: 'window' | 'photo';
  /** each image goes on a photo of the stored set with a real whole-part mask, chosen by its seed (src/app/photos.ts) */
  onPhotos?: true;
  /** the set's photo names when the job was queued: its seeds choose among these (the CLI's rule over that folder),
   * so adding or removing photos while it waits does not move its images to other photos */
  photoNames?: string[];
}

export interface ItemView extends DatasetItem {
  url: string;
  maskUrl: string;
}

export type MaskTool = 'brush' | 'eraser' | 'stroke' | 'ellipse';
/** Mask canvas state (the pixels themselves live in src/app/maskDoc.ts). */
export interface CanvasState {
  /** bumped on every change of the mask or photo so views redraw */
  rev: number;
  /** use the painted mask (and photo, if any) for the next Generate; otherwise random masks from the library */
  useMask: boolean;
  tool: MaskTool;
  brush: number;
  photoName: string | null;
  maskOrigin: 'painted' | 'library' | 'prompt';
  /** pixels of context regenerated around each painted region in photo mode */
  margin: number;
}

interface EngineSlice {
  status: EngineStatus;
  handshake: HandshakeInfo | null;
  model: LoadedModelInfo | null;
  models: ModelChoice[];
  notice: { kind: 'error' | 'info'; text: string } | null;
  setStatus: (s: EngineStatus) => void;
  setEngine: (h: HandshakeInfo | null, m: LoadedModelInfo | null) => void;
  setModels: (m: ModelChoice[]) => void;
  setNotice: (n: EngineSlice['notice']) => void;
}
interface SettingsSlice {
  settings: Settings;
  updateSettings: (patch: Partial<Settings>) => void;
}
interface QueueSlice {
  queue: QueueJob[];
  /** The queue as it was before a reload (read from localStorage); the engine re-queues or drops it at start-up. */
  restoredQueue: QueueJob[];
  preview: string | null;
  lastProgressSteps: number[];
  enqueue: (job: Omit<QueueJob, 'id' | 'done'>) => number;
  removeJob: (id: number) => void;
  setPreview: (url: string | null) => void;
}
interface DatasetSlice {
  items: ItemView[];
  /** Stored records that fail the item schema (or lost their pixels): listed in the dataset panel, deletable. */
  damaged: DamagedRecord[];
  setDamaged: (d: DamagedRecord[]) => void;
  filter: ReviewFilter;
  /** show only this class in the grid (null: all) */
  classFilter: string | null;
  sort: ReviewSort;
  selectedId: string | null;
  /** the bulk selection (shift-click, Ctrl-click, select all); the selected item is reviewed when it is empty */
  checked: string[];
  /** One entry per item a decision changed; entries of one bulk decision share `batch` and are undone together. */
  undo: UndoEntry[];
  setItems: (items: ItemView[]) => void;
  addItems: (items: ItemView[]) => void;
  patchItems: (items: DatasetItem[]) => void;
  /** Replaces the stored fields of items by id (a field absent from the new record is gone), keeping their URLs. */
  replaceItems: (items: DatasetItem[]) => void;
  setFilter: (f: ReviewFilter) => void;
  setClassFilter: (c: string | null) => void;
  setSort: (s: ReviewSort) => void;
  select: (id: string | null) => void;
  setChecked: (ids: string[]) => void;
  pushUndo: (e: UndoEntry) => void;
  /** The entries of one decision (one item or a bulk one), given the next batch number so they are undone together. */
  pushUndoBatch: (entries: Omit<UndoEntry, 'batch'>[]) => void;
  /** The batch number of the last decision pushed (counts up; not persisted). */
  undoBatch: number;
  popUndo: () => UndoEntry | undefined;
  /** pops the entries of the last decision (all items of a bulk decision) */
  popUndoBatch: () => UndoEntry[];
}

export interface UndoEntry {
  id: string;
  status: ReviewStatus;
  decidedAt: string | null;
  rejectReason?: string;
  batch?: number;
}

interface PhotoSetSlice {
  /** The stored base photos (no pixels: those stay in IndexedDB), in name order. */
  photoSet: PhotoRecord[];
  /** What the photo set is doing now (adding: "decoding 3/40"), null when idle. */
  photoSetBusy: string | null;
  /** The active model's whole-part masks per class (part_masks.json); null: it ships none. */
  partMaskCounts: Record<string, number> | null;
  setPhotoSet: (photos: PhotoRecord[]) => void;
  setPhotoSetBusy: (busy: string | null) => void;
  setPartMaskCounts: (counts: Record<string, number> | null) => void;
}

interface CanvasSlice {
  canvas: CanvasState;
  updateCanvas: (patch: Partial<CanvasState>, changed?: boolean) => void;
}

export type StudioState = EngineSlice & SettingsSlice & QueueSlice & DatasetSlice & CanvasSlice & PhotoSetSlice;

/** Before any model has loaded, the sampler fields show the embedded default model's manifest defaults (they showed
 * guidance 2 until the model arrived and set 1.5); a loaded model then brings its own (src/app/models.ts settingsFor). */
export const DEFAULT_SETTINGS: Settings = {
  className: '', prompt: '', seed: 1, randomSeed: false, sampler: 'dpmpp2m', steps: 20, guidance: 1.5, batchSize: 4, modelId: '', targets: {}, autoRejectFlagged: false, onPhotoSet: false,
};

let nextJobId = 1;

/** The well-formed jobs of a stored queue with images left to make; anything else is dropped. */
export function sanitizeQueue(raw: unknown): QueueJob[] {
  if (!Array.isArray(raw)) return [];
  const out: QueueJob[] = [];
  for (const j of raw.slice(0, 1000) as Partial<QueueJob>[]) {
    if (typeof j !== 'object' || j === null) continue;
    const seeds = Array.isArray(j.seeds) ? j.seeds : null;
    const ok = typeof j.className === 'string' && typeof j.prompt === 'string' && SAMPLER_NAMES.includes(j.sampler as SamplerName)
      && Number.isInteger(j.steps) && (j.steps as number) >= 1 && (j.steps as number) <= MAX_STEPS
      && typeof j.guidance === 'number' && Number.isFinite(j.guidance) && seeds !== null && seeds.length <= 10_000
      && seeds.every((s) => Number.isSafeInteger(s) && s >= 0) && Number.isInteger(j.done) && (j.done as number) >= 0 && (j.done as number) < seeds.length
      && (j.masked === undefined || j.masked === 'window' || j.masked === 'photo') && (j.onPhotos === undefined || j.onPhotos === true)
      && (j.photoNames === undefined || (Array.isArray(j.photoNames) && j.photoNames.length <= 100_000 && j.photoNames.every((n) => typeof n === 'string')));
    if (ok) out.push({ id: 0, className: j.className as string, prompt: j.prompt as string, sampler: j.sampler as SamplerName, steps: j.steps as number, guidance: j.guidance as number, seeds: seeds as number[], done: j.done as number, ...(j.masked ? { masked: j.masked } : {}), ...(j.onPhotos ? { onPhotos: true as const } : {}), ...(Array.isArray(j.photoNames) ? { photoNames: j.photoNames as string[] } : {}) });
  }
  return out;
}

export const useStudio = create<StudioState>()(
  persist(
    (set, get) => ({
      status: { kind: 'idle' },
      handshake: null,
      model: null,
      models: [],
      notice: null,
      setStatus: (status) => set({ status }),
      setEngine: (handshake, model) => set({ handshake, model }),
      setModels: (models) => set({ models }),
      setNotice: (notice) => set({ notice }),

      settings: DEFAULT_SETTINGS,
      updateSettings: (patch) => set((s) => ({ settings: { ...s.settings, ...patch } })),

      queue: [],
      restoredQueue: [],
      preview: null,
      lastProgressSteps: [],
      enqueue: (job) => {
        const id = nextJobId++;
        set((s) => ({ queue: [...s.queue, { ...job, id, done: 0 }] }));
        return id;
      },
      removeJob: (id) => set((s) => ({ queue: s.queue.filter((j) => j.id !== id) })),
      setPreview: (preview) => set({ preview }),

      photoSet: [],
      photoSetBusy: null,
      partMaskCounts: null,
      setPhotoSet: (photoSet) => set({ photoSet }),
      setPhotoSetBusy: (photoSetBusy) => set({ photoSetBusy }),
      setPartMaskCounts: (partMaskCounts) => set({ partMaskCounts }),

      canvas: { rev: 0, useMask: false, tool: 'brush', brush: 3, photoName: null, maskOrigin: 'painted', margin: 4 },
      updateCanvas: (patch, changed = false) => set((s) => ({ canvas: { ...s.canvas, ...patch, rev: s.canvas.rev + (changed ? 1 : 0) } })),

      items: [],
      damaged: [],
      setDamaged: (damaged) => set({ damaged }),
      filter: 'all',
      classFilter: null,
      sort: 'created',
      selectedId: null,
      checked: [],
      undo: [],
      setItems: (items) => set({ items }),
      addItems: (items) => set((s) => ({ items: [...s.items, ...items], selectedId: s.selectedId ?? items[0]?.id ?? null })),
      patchItems: (patch) => {
        const byId = new Map(patch.map((p) => [p.id, p]));
        set({ items: get().items.map((it) => (byId.has(it.id) ? { ...it, ...byId.get(it.id) } : it)) });
      },
      replaceItems: (next) => {
        const byId = new Map(next.map((p) => [p.id, p]));
        set({ items: get().items.map((it) => { const n = byId.get(it.id); return n ? { ...n, url: it.url, maskUrl: it.maskUrl } : it; }) });
      },
      setFilter: (filter) => set({ filter, checked: [] }),
      setClassFilter: (classFilter) => set({ classFilter, checked: [] }),
      setSort: (sort) => set({ sort }),
      select: (selectedId) => set({ selectedId }),
      setChecked: (checked) => set({ checked }),
      pushUndo: (e) => set((s) => ({ undo: [...s.undo.slice(-999), e] })),
      undoBatch: 0,
      pushUndoBatch: (entries) => set((s) => {
        const batch = s.undoBatch + 1;
        return { undoBatch: batch, undo: [...s.undo, ...entries.map((e) => ({ ...e, batch }))].slice(-1000) };
      }),
      popUndo: () => {
        const u = get().undo;
        const last = u[u.length - 1];
        if (last) set({ undo: u.slice(0, -1) });
        return last;
      },
      popUndoBatch: () => {
        const u = get().undo;
        const last = u[u.length - 1];
        if (!last) return [];
        let k = u.length - 1;
        if (last.batch !== undefined) while (k > 0 && u[k - 1]?.batch === last.batch) k--;
        set({ undo: u.slice(0, k) });
        return u.slice(k);
      },
    }),
    {
      name: 'dds-settings',
      version: 1,
      storage: createJSONStorage(() => localStorage),
      // The queue is kept so a reload mid-batch does not silently drop it (the engine restores it at start-up).
      partialize: (s) => ({ settings: s.settings, filter: s.filter, sort: s.sort, queue: s.queue }),
      // Settings saved by an older version lack newer fields: fill them from the defaults. A stored queue goes
      // to restoredQueue (checked field by field: localStorage is not trusted), never straight into the queue.
      merge: (persisted, current) => {
        const { queue, ...p } = (persisted ?? {}) as Partial<StudioState>;
        return { ...current, ...p, settings: { ...DEFAULT_SETTINGS, ...(p.settings ?? {}) }, queue: [], restoredQueue: sanitizeQueue(queue) };
      },
    },
  ),
);

/**
 * Why images of `className` cannot go on the stored photo set now (null: they can): the set, the model's
 * inpainting inputs, its whole-part masks of the class, the photos' size against its window.
 */
export function photoSetProblem(s: Pick<StudioState, 'photoSet' | 'partMaskCounts' | 'model'>, className: string): string | null {
  if (!s.photoSet.length) return 'the photo set is empty: add defect-free photos first';
  const m = s.model?.manifest;
  if (!m) return 'no model is loaded';
  if (!m.conditions.inpainting) return `model ${m.id} cannot keep a known image (it has no inpainting inputs)`;
  if (!s.partMaskCounts) return `model ${m.id} ships no part_masks.json (real whole-part masks to place)`;
  if (!(s.partMaskCounts[className] ?? 0)) {
    const has = Object.keys(s.partMaskCounts).filter((c) => (s.partMaskCounts?.[c] ?? 0) > 0);
    return `model ${m.id}'s part_masks.json has no ${className || 'class'} masks (it has ${has.join(', ') || 'none'})`;
  }
  const small = s.photoSet.filter((p) => p.width < m.image.width || p.height < m.image.height).length;
  if (small) return `${small} of the ${s.photoSet.length} photos are smaller than model ${m.id}'s ${m.image.width}x${m.image.height} window: remove them`;
  return null;
}

/** Items visible under a status filter, in creation order. */
export function visibleItems(items: readonly ItemView[], filter: ReviewFilter): ItemView[] {
  return selectItems(items, { filter, className: null, sort: 'created' });
}

/** The grid's list: status filter, class filter and sort order of the store. */
export function reviewList(s: Pick<StudioState, 'items' | 'filter' | 'classFilter' | 'sort'>): ItemView[] {
  return selectItems(s.items, { filter: s.filter, className: s.classFilter, sort: s.sort });
}
