/**
 * Size limits on what a user can hand the studio (photos, dataset zips, model files), stated once. A refusal
 * names the limit and the size that was found, so the user knows what to change.
 */
import { StudioError } from '../errors';

/** Photos: above this many pixels, painting and generation on the main thread freeze the page (a 400 MP PNG: 13 s per stroke). */
export const MAX_PHOTO_PIXELS = 16_000_000;
/** Dataset import: entries in the zip and the sum of their inflated sizes (read from the central directory before inflating).
 * An accepted item is three entries (image, mask, YOLO label), plus the export's few files of its own (metadata,
 * COCO, data.yaml, README): 150,016 keeps room for the 50,000 items two entries allowed. */
export const MAX_IMPORT_ENTRIES = 150_016;
export const MAX_IMPORT_INFLATED_BYTES = 1024 * 2 ** 20;
/** Model files: the .onnx, each JSON file, a model .zip's entries and their inflated sum. */
export const MAX_MODEL_ONNX_BYTES = 512 * 2 ** 20;
export const MAX_MODEL_JSON_BYTES = 16 * 2 ** 20;
export const MAX_MODEL_ZIP_ENTRIES = 64;
export const MAX_MODEL_ZIP_INFLATED_BYTES = MAX_MODEL_ONNX_BYTES + 2 * MAX_MODEL_JSON_BYTES;

export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KB`;
  return `${n} bytes`;
}

const mp = (n: number) => `${(n / 1e6).toFixed(1)} MP`;

/** Refuses a photo above MAX_PHOTO_PIXELS, naming its size and the limit. */
export function checkPhotoSize(name: string, width: number, height: number): void {
  const n = width * height;
  // Just above the limit both round to the same MP: then say the exact pixel counts.
  const found = mp(n) === mp(MAX_PHOTO_PIXELS) ? `${n.toLocaleString('en')} pixels` : mp(n);
  const limit = mp(n) === mp(MAX_PHOTO_PIXELS) ? `${MAX_PHOTO_PIXELS.toLocaleString('en')} pixels` : mp(MAX_PHOTO_PIXELS);
  if (n > MAX_PHOTO_PIXELS)
    throw new StudioError(
      'badRequest',
      `${name} is ${width} x ${height} = ${found}; the limit for a photo is ${limit} (for example 4000 x 4000): downscale or crop it first`,
    );
}

/**
 * The width and height a PNG (IHDR) or JPEG (first SOF marker) declares, read from its header without decoding
 * it, so that an oversized photo is refused before any pixel memory is allocated. null when neither is found.
 */
export function declaredImageSize(b: Uint8Array): { width: number; height: number } | null {
  const u32 = (o: number) => (((b[o] as number) << 24) | ((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number)) >>> 0;
  const u16 = (o: number) => (((b[o] as number) << 8) | (b[o + 1] as number)) >>> 0;
  if (b.length >= 24 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return { width: u32(16), height: u32(20) };
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) {
    let o = 2;
    while (o + 9 < b.length) {
      if (b[o] !== 0xff) return null;
      const marker = b[o + 1] as number;
      if (marker === 0xff) {
        o++;
        continue;
      }
      // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return { width: u16(o + 7), height: u16(o + 5) };
      if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
        o += 2;
        continue;
      }
      o += 2 + u16(o + 2);
    }
  }
  return null;
}
