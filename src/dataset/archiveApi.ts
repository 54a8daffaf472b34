/**
 * The API of the zip worker (workers/archive.worker.ts), shared by the worker and its one caller
 * (src/app/archive.ts), so the page never imports the worker's module for a type.
 */
import type { ModelFiles } from './modelZip';
import type { DatasetItem, ItemImages } from './types';
import type { SkippedLine } from './zip';

export interface ArchiveWorkerApi {
  buildExport(items: DatasetItem[], images: ItemImages[], classes: string[], now: string): Uint8Array;
  /** skipBad: leave out (and report) lines that fail, instead of refusing the whole zip. */
  readExport(bytes: Uint8Array, skipBad?: boolean): { items: DatasetItem[]; images: ItemImages[]; skipped: SkippedLine[] };
  readModelZip(bytes: Uint8Array, name: string): ModelFiles;
}
