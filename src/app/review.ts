/**
 * Review: accept / reject decisions (one item or a bulk selection) with undo, and "Reuse this seed". No state of
 * its own: items and the undo stack (with its decision batches) live in the store; decisions are written to
 * IndexedDB, optimistically shown and rolled back if the write fails.
 */
import { DEFAULT_CLIP_SAMPLE, DEFAULT_ETA } from '../core/model/request';
import type { Provenance } from '../core/model/protocol';
import * as db from '../dataset/db';
import type { DatasetItem, ReviewStatus } from '../dataset/types';
import type { ItemView, UndoEntry } from '../state/store';
import { S, strip } from './common';

/**
 * "Reuse this seed": puts an item's class, prompt, seed, sampler, steps and guidance back in the form, and says
 * what the next image will not share with it (the model, the spacing and guidance interval, which come from the
 * loaded model's manifest; the mask, which comes from the canvas; the photo). npm run reproduce makes an item
 * again exactly.
 */
export function reuseSeed(p: Provenance): void {
  S().updateSettings({ seed: p.seed, randomSeed: false, className: p.className, prompt: p.prompt, sampler: p.sampler, steps: p.steps, guidance: p.guidance });
  const m = S().model?.manifest;
  const differs: string[] = [];
  if (m && p.modelSha256 !== m.sha256) differs.push(`it was made with model ${p.modelId} ${p.modelVersion}, the loaded one is ${m.id} ${m.version}`);
  if (m && p.timestepSpacing !== m.defaults.timestepSpacing) differs.push(`it used ${p.timestepSpacing} timestep spacing, the model's default is ${m.defaults.timestepSpacing}`);
  const interval = (i: readonly number[] | undefined) => (i ? `(${i[0]}, ${i[1]}]` : 'every step');
  if (m && p.guidance !== 1 && interval(p.guidanceInterval) !== interval(m.defaults.guidanceInterval))
    differs.push(`it was guided at ${interval(p.guidanceInterval)}, the model's default is ${interval(m.defaults.guidanceInterval)}`);
  if (p.eta !== DEFAULT_ETA || p.clipSample !== DEFAULT_CLIP_SAMPLE) differs.push(`it used eta ${p.eta} and clip ${String(p.clipSample)}, the studio uses eta ${DEFAULT_ETA} and clip ${String(DEFAULT_CLIP_SAMPLE)}`);
  if (p.basePhoto) differs.push(`it was made on photo ${p.basePhoto.name}`);
  else if (p.maskSource === 'given') differs.push('its mask was painted: the canvas mask is used if there is one, else a library mask');
  S().setNotice({
    kind: 'info',
    text: differs.length
      ? `Seed ${p.seed} and its settings are in the form, but the next image will differ: ${differs.join('; ')}. npm run reproduce makes the item again exactly from its record.`
      : `Seed ${p.seed} and its settings are in the form${p.maskSource === 'library' ? ' (with no canvas mask in use, the same library mask is drawn again)' : ''}.`,
  });
}

/**
 * Sets the review status of `ids` (one item or a bulk selection; undone together). A rejection may carry a
 * reason (one of the offered ones or free text), kept on the item as rejectReason and written to metadata.jsonl;
 * rejecting a rejected item again with another reason changes the reason. Any other status drops the reason.
 */
export async function decide(ids: readonly string[], status: ReviewStatus, rejectReason?: string): Promise<void> {
  const byId = new Map(S().items.map((i) => [i.id, i]));
  const now = new Date().toISOString();
  const changed: DatasetItem[] = [];
  const undo: UndoEntry[] = [];
  for (const id of ids) {
    const it = byId.get(id);
    if (!it || (it.status === status && (status !== 'rejected' || rejectReason === undefined || it.rejectReason === rejectReason))) continue;
    undo.push({ id, status: it.status, decidedAt: it.decidedAt, ...(it.rejectReason !== undefined ? { rejectReason: it.rejectReason } : {}) });
    const { rejectReason: _old, ...rest } = strip(it);
    void _old;
    const reason = status === 'rejected' ? (rejectReason ?? (it.status === 'rejected' ? it.rejectReason : undefined)) : undefined;
    changed.push({ ...rest, status, decidedAt: status === 'pending' ? null : now, ...(reason !== undefined ? { rejectReason: reason } : {}) });
  }
  if (!changed.length) return;
  S().pushUndoBatch(undo);
  // Optimistic for a smooth keyboard review, rolled back if the write fails so nothing shows as saved that is not.
  const before = changed.map((c) => strip(byId.get(c.id) as ItemView));
  S().replaceItems(changed);
  try {
    await db.updateItems(changed);
  } catch (e) {
    S().replaceItems(before);
    S().setNotice({ kind: 'error', text: `Decision not saved: ${(e as Error).message}` });
  }
}

/** Undoes the last decision: one item, or every item of a bulk decision. */
export async function undoLast(): Promise<void> {
  const entries = S().popUndoBatch();
  if (!entries.length) return;
  const byId = new Map(S().items.map((i) => [i.id, i]));
  const restored: DatasetItem[] = [];
  for (const u of entries) {
    const it = byId.get(u.id);
    if (!it) continue;
    const { rejectReason: _r, ...rest } = strip(it);
    void _r;
    restored.push({ ...rest, status: u.status, decidedAt: u.decidedAt, ...(u.rejectReason !== undefined ? { rejectReason: u.rejectReason } : {}) });
  }
  if (!restored.length) return;
  try {
    await db.updateItems(restored);
    S().replaceItems(restored);
    S().select(restored[0]?.id ?? null);
  } catch (e) {
    for (const u of entries) S().pushUndo(u);
    S().setNotice({ kind: 'error', text: `Undo not saved: ${(e as Error).message}` });
  }
}
