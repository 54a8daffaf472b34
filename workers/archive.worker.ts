/**
 * Dataset zips off the main thread: building an export (COCO RLE from every mask PNG, the zip itself) took a
 * 0.45 s long task on 1,000 items in the page (npm run bench:studio). Imports are checked here in full (schema,
 * PNGs, limits) before the page stores anything; model .zips are inflated here too, within the model limits.
 * Pure functions of src/dataset/ behind comlink; bytes cross by transfer.
 */
import * as Comlink from 'comlink';
import type { ArchiveWorkerApi } from '../src/dataset/archiveApi';
import { readModelZip } from '../src/dataset/modelZip';
import { buildExportZip, readExportZip } from '../src/dataset/zip';

const api: ArchiveWorkerApi = {
  buildExport(items, images, classes, now) {
    const zip = buildExportZip(items, new Map(images.map((i) => [i.id, i])), classes, now);
    return Comlink.transfer(zip, [zip.buffer as ArrayBuffer]);
  },
  readExport(bytes, skipBad = false) {
    const { items, images, skipped } = readExportZip(bytes, { skipBad });
    const list = [...images.values()];
    // Stored entries may be views into one buffer (the zip's): transfer each buffer once.
    const buffers = new Set(list.flatMap((i) => [i.png.buffer as ArrayBuffer, i.maskPng.buffer as ArrayBuffer]));
    return Comlink.transfer({ items, images: list, skipped }, [...buffers]);
  },
  readModelZip(bytes, name) {
    const files = readModelZip(bytes, name);
    // The .onnx may be a view into the zip's buffer (a stored entry): give the page its own copy to own.
    const onnx = files.onnx ? files.onnx.slice() : undefined;
    return onnx ? Comlink.transfer({ ...files, onnx }, [onnx.buffer as ArrayBuffer]) : files;
  },
};

Comlink.expose(api);
