import { beforeEach, describe, expect, it, vi } from 'vitest';

// The store persists settings to localStorage; give Node a minimal one.
const mem = new Map<string, string>();
vi.stubGlobal('localStorage', { getItem: (k: string) => mem.get(k) ?? null, setItem: (k: string, v: string) => void mem.set(k, v), removeItem: (k: string) => void mem.delete(k) });
const { useStudio, visibleItems } = await import('./store');
type ItemView = import('./store').ItemView;

const mk = (id: string, status: ItemView['status']): ItemView => ({ id, status, createdAt: id, decidedAt: null, className: 'Crack', width: 64, height: 64, provenance: {} as ItemView['provenance'], citation: '', url: '', maskUrl: '' });

describe('studio store', () => {
  beforeEach(() => useStudio.setState({ items: [], undo: [], queue: [], selectedId: null, filter: 'all' }));

  it('filters items by review status', () => {
    const items = [mk('1', 'pending'), mk('2', 'accepted'), mk('3', 'rejected'), mk('4', 'accepted')];
    expect(visibleItems(items, 'accepted').map((i) => i.id)).toEqual(['2', '4']);
    expect(visibleItems(items, 'all')).toHaveLength(4);
  });

  it('adds items, selects the first, and patches by id', () => {
    const s = useStudio.getState();
    s.addItems([mk('a', 'pending'), mk('b', 'pending')]);
    expect(useStudio.getState().selectedId).toBe('a');
    useStudio.getState().patchItems([{ ...mk('b', 'accepted'), decidedAt: 'now' }]);
    expect(useStudio.getState().items.map((i) => i.status)).toEqual(['pending', 'accepted']);
  });

  it('keeps an undo stack (last in, first out)', () => {
    const s = useStudio.getState();
    s.pushUndo({ id: 'a', status: 'pending', decidedAt: null });
    s.pushUndo({ id: 'b', status: 'accepted', decidedAt: 't' });
    expect(useStudio.getState().popUndo()?.id).toBe('b');
    expect(useStudio.getState().popUndo()?.id).toBe('a');
    expect(useStudio.getState().popUndo()).toBeUndefined();
  });

  it('undoes a bulk decision as one batch, single decisions one by one', () => {
    const s = useStudio.getState();
    s.pushUndo({ id: 'a', status: 'pending', decidedAt: null });
    s.pushUndo({ id: 'b', status: 'pending', decidedAt: null, batch: 7 });
    s.pushUndo({ id: 'c', status: 'accepted', decidedAt: 't', batch: 7 });
    s.pushUndo({ id: 'd', status: 'pending', decidedAt: null, rejectReason: 'blurry' });
    expect(useStudio.getState().popUndoBatch().map((e) => e.id)).toEqual(['d']);
    expect(useStudio.getState().popUndoBatch().map((e) => e.id)).toEqual(['b', 'c']);
    expect(useStudio.getState().popUndoBatch().map((e) => e.id)).toEqual(['a']);
    expect(useStudio.getState().popUndoBatch()).toEqual([]);
  });

  it('gives each decision pushed as a batch its own batch number, so two bulk decisions are undone apart', () => {
    const s = useStudio.getState();
    s.pushUndoBatch([{ id: 'a', status: 'pending', decidedAt: null }, { id: 'b', status: 'pending', decidedAt: null }]);
    s.pushUndoBatch([{ id: 'c', status: 'accepted', decidedAt: 't' }, { id: 'd', status: 'pending', decidedAt: null }]);
    s.pushUndoBatch([{ id: 'e', status: 'pending', decidedAt: null }]);
    const batches = useStudio.getState().undo.map((e) => e.batch);
    expect(new Set(batches).size).toBe(3);
    expect(useStudio.getState().popUndoBatch().map((e) => e.id)).toEqual(['e']);
    expect(useStudio.getState().popUndoBatch().map((e) => e.id)).toEqual(['c', 'd']);
    expect(useStudio.getState().popUndoBatch().map((e) => e.id)).toEqual(['a', 'b']);
  });

  it('keeps the last 1000 undo entries when a bulk decision overflows the stack', () => {
    useStudio.getState().pushUndoBatch(Array.from({ length: 1005 }, (_, i) => ({ id: `i${i}`, status: 'pending' as const, decidedAt: null })));
    const u = useStudio.getState().undo;
    expect(u.length).toBe(1000);
    expect(u[0]?.id).toBe('i5');
  });

  it('queues jobs with increasing ids and removes a queued one', () => {
    const s = useStudio.getState();
    const job = { className: 'Crack', prompt: '', sampler: 'dpmpp2m' as const, steps: 20, guidance: 2, seeds: [1, 2] };
    s.enqueue(job);
    s.enqueue({ ...job, className: 'Fray' });
    const [j1, j2] = useStudio.getState().queue;
    expect(j2!.id).toBeGreaterThan(j1!.id);
    useStudio.getState().removeJob(j1!.id);
    expect(useStudio.getState().queue.map((j) => j.className)).toEqual(['Fray']);
  });

  it('persists settings (not items) to localStorage', () => {
    useStudio.getState().updateSettings({ seed: 99, targets: { Crack: 50 } });
    const saved = JSON.parse(mem.get('dds-settings') as string);
    expect(saved.state.settings).toMatchObject({ seed: 99, targets: { Crack: 50 } });
    expect(saved.state.items).toBeUndefined();
  });
});

describe('the queue across a reload', () => {
  it('keeps well-formed jobs with images left and drops the rest (localStorage is not trusted)', async () => {
    const { sanitizeQueue } = await import('./store');
    const job = { id: 3, className: 'Crack', prompt: '', sampler: 'dpmpp2m', steps: 20, guidance: 1.5, seeds: [5, 6, 7], done: 1 };
    expect(sanitizeQueue([job, { ...job, masked: 'photo' }])).toEqual([{ ...job, id: 0 }, { ...job, id: 0, masked: 'photo' }]);
    expect(sanitizeQueue([{ ...job, done: 3 }, { ...job, sampler: 'euler' }, { ...job, seeds: [-1] }, { ...job, steps: 0 }, null, 'x'])).toEqual([]);
    expect(sanitizeQueue({ not: 'a list' })).toEqual([]);
  });

  it('persists the queue and reads it back into restoredQueue, not into the queue', async () => {
    useStudio.getState().enqueue({ className: 'Crack', prompt: '', sampler: 'dpmpp2m', steps: 20, guidance: 1.5, seeds: [1, 2] });
    const stored = JSON.parse(mem.get('dds-settings') as string) as { state: { queue: unknown[] } };
    expect(stored.state.queue).toHaveLength(1);
    await useStudio.persist.rehydrate();
    expect(useStudio.getState().queue).toEqual([]);
    expect(useStudio.getState().restoredQueue).toMatchObject([{ className: 'Crack', seeds: [1, 2], done: 0 }]);
  });
});

describe('the photo set option', () => {
  type Model = NonNullable<import('./store').StudioState['model']>;
  const model = (inpainting = true, size = 64) => ({ manifest: { id: 'm', conditions: { inpainting, defectMask: true }, image: { width: size, height: size } } }) as unknown as Model;
  const photo = (name: string, w = 240, h = 289) => ({ name, width: w, height: h, sha256: '0'.repeat(64), fileBytes: 1, addedAt: '' });
  const counts = { Fray: 19, Crack: 32 };

  it('says why images of a class cannot go on the stored photos, or null when they can', async () => {
    const { photoSetProblem } = await import('./store');
    const ok = { photoSet: [photo('a.jpg')], partMaskCounts: counts, model: model() };
    expect(photoSetProblem(ok, 'Fray')).toBeNull();
    expect(photoSetProblem({ ...ok, photoSet: [] }, 'Fray')).toMatch(/photo set is empty/);
    expect(photoSetProblem({ ...ok, model: null }, 'Fray')).toMatch(/no model is loaded/);
    expect(photoSetProblem({ ...ok, model: model(false) }, 'Fray')).toMatch(/cannot keep a known image/);
    expect(photoSetProblem({ ...ok, partMaskCounts: null }, 'Fray')).toMatch(/ships no part_masks\.json/);
    expect(photoSetProblem(ok, 'Free')).toBe("model m's part_masks.json has no Free masks (it has Fray, Crack)");
    expect(photoSetProblem({ ...ok, photoSet: [photo('a.jpg'), photo('b.jpg', 100, 50)], model: model(true, 64) }, 'Fray')).toBe("1 of the 2 photos are smaller than model m's 64x64 window: remove them");
  });

  it('a queued photo-set job survives the reload check; a wrong value does not', async () => {
    const { sanitizeQueue } = await import('./store');
    const job = { id: 3, className: 'Fray', prompt: '', sampler: 'consistency', steps: 2, guidance: 1, seeds: [5, 6], done: 0 };
    expect(sanitizeQueue([{ ...job, onPhotos: true }, { ...job, onPhotos: 'yes' }])).toEqual([{ ...job, id: 0, onPhotos: true }]);
    // the set as it was when queued travels with the job; a malformed list drops the job
    expect(sanitizeQueue([{ ...job, onPhotos: true, photoNames: ['a.jpg', 'b.png'] }, { ...job, onPhotos: true, photoNames: [1] }])).toEqual([{ ...job, id: 0, onPhotos: true, photoNames: ['a.jpg', 'b.png'] }]);
  });

  it('settings saved before the option existed read it as off', async () => {
    mem.set('dds-settings', JSON.stringify({ state: { settings: { seed: 4 } }, version: 1 }));
    await useStudio.persist.rehydrate();
    expect(useStudio.getState().settings).toMatchObject({ seed: 4, onPhotoSet: false });
  });
});
