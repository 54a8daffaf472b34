/** Small helpers every app module uses: the store's current state, error shapes, object URLs, seeds. No state. */
import type { DatasetItem } from '../dataset/types';
import { useStudio, type ItemView } from '../state/store';

export const S = () => useStudio.getState();

export const pngUrl = (bytes: Uint8Array) => URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'image/png' }));

/** An error as the status line shows it: its code (the error's name) and message. */
export function fail(e: unknown): { code: string; message: string } {
  const err = e as Error;
  return { code: err.name || 'error', message: err.message || String(e) };
}

/** A random seed below 2^53 (the studio's "Random each time", random masks, fill to target). */
export function randomSeed(): number {
  const a = new Uint32Array(2);
  crypto.getRandomValues(a);
  return ((a[0] as number) & 0x1fffff) * 2 ** 32 + (a[1] as number);
}

/** The stored record of an item view (without its object URLs). */
export function strip(v: ItemView): DatasetItem {
  const { url: _u, maskUrl: _m, ...rest } = v;
  void _u;
  void _m;
  return rest;
}
