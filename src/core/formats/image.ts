/**
 * Pixel conversions and PNG encoding shared by the worker and the command-line generator, so the two write
 * byte-identical files for the same request. Model pixels are float32 in the manifest's pixelRange;
 * exported pixels are 8-bit grayscale.
 */
import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex } from '@noble/hashes/utils';
import { decode as decodePng, encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { StudioError } from '../errors';
import { withXmp } from './xmp';

export function toUint8(x: Float32Array, range: readonly [number, number]): Uint8Array {
  const [lo, hi] = range;
  const out = new Uint8Array(x.length);
  const k = 255 / (hi - lo);
  for (let i = 0; i < x.length; i++) {
    const v = Math.round(((x[i] as number) - lo) * k);
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return out;
}

export function fromUint8(p: Uint8Array, range: readonly [number, number]): Float32Array {
  const [lo, hi] = range;
  const out = new Float32Array(p.length);
  const k = (hi - lo) / 255;
  for (let i = 0; i < p.length; i++) out[i] = (p[i] as number) * k + lo;
  return out;
}

/** 8-bit grayscale PNG; `text` becomes tEXt chunks (keys must be Latin-1, 1-79 chars). */
export function encodeGrayPng(pixels: Uint8Array, width: number, height: number, text?: Record<string, string>): Uint8Array {
  if (pixels.length !== width * height)
    throw new StudioError('badRequest', `image has ${pixels.length} pixels but ${width}x${height} = ${width * height} were expected`);
  return encodePng({ width, height, data: pixels, channels: 1, depth: 8, ...(text ? { text } : {}) });
}

/**
 * A generated image: encodeGrayPng with its parameters in tEXt chunks, marked as made by a trained model (an XMP
 * iTXt chunk with the IPTC DigitalSourceType trainedAlgorithmicMedia before the image data, see xmp.ts).
 */
export function encodeGeneratedPng(pixels: Uint8Array, width: number, height: number, text: Record<string, string>): Uint8Array {
  return withXmp(encodeGrayPng(pixels, width, height, text));
}

/** A 0/1 mask written as a 0/255 grayscale PNG. */
export function encodeMaskPng(mask: Uint8Array, width: number, height: number): Uint8Array {
  const px = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) px[i] = mask[i] ? 255 : 0;
  return encodeGrayPng(px, width, height);
}

/** A mask PNG (any gray/RGB PNG; 128 and above is defect) -> 0/1 per pixel: encodeMaskPng's inverse. */
export function decodeMaskPng(bytes: Uint8Array): Gray {
  const g = decodeToGray(bytes);
  return { width: g.width, height: g.height, pixels: Uint8Array.from(g.pixels, (v) => (v >= 128 ? 1 : 0)) };
}

export interface GrayImage {
  width: number;
  height: number;
  pixels: Uint8Array;
  text: Record<string, string>;
}

/** Decodes any PNG to 8-bit grayscale (RGB averaged with Rec. 601 luma weights; alpha ignored). */
export function decodeToGray(bytes: Uint8Array): GrayImage {
  let png;
  try {
    png = decodePng(bytes);
  } catch (e) {
    throw new StudioError('badRequest', `not a readable PNG file (${(e as Error).message}); accepted: PNG images`);
  }
  return grayOfPng(png);
}

function grayOfPng(png: ReturnType<typeof decodePng>): GrayImage {
  const { width, height, channels } = png;
  const data = png.data;
  const scale = png.depth === 16 ? 1 / 257 : 1;
  const out = new Uint8Array(width * height);
  for (let i = 0; i < width * height; i++) {
    if (channels >= 3) {
      const r = (data[i * channels] as number) * scale;
      const g = (data[i * channels + 1] as number) * scale;
      const b = (data[i * channels + 2] as number) * scale;
      out[i] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    } else {
      out[i] = Math.round((data[i * channels] as number) * scale);
    }
  }
  return { width, height, pixels: out, text: png.text ?? {} };
}

export interface Gray {
  width: number;
  height: number;
  pixels: Uint8Array;
}

/**
 * PNG or JPEG bytes -> 8-bit grayscale, decoded in JavaScript (fast-png, jpeg-js) rather than by the browser,
 * so that every browser and Node read the same pixels from the same file: a photo's pixels are part of an
 * image's provenance (their sha256), and browsers' JPEG decoders differ by a gray level here and there.
 */
export function decodeImage(bytes: Uint8Array, name = 'image'): Gray {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return decodeJpegGray(bytes, name);
  if (bytes[0] !== 0x89 || bytes[1] !== 0x50 || bytes[2] !== 0x4e || bytes[3] !== 0x47) throw new StudioError('badRequest', `${name} is neither a PNG nor a JPEG file; accepted: PNG or JPEG images`);
  let png;
  try {
    png = decodePng(bytes);
  } catch (e) {
    throw new StudioError('badRequest', `${name}: not a readable PNG (${(e as Error).message}); accepted: PNG or JPEG images`);
  }
  const g = grayOfPng(png);
  return { width: g.width, height: g.height, pixels: g.pixels };
}

/** JPEG -> 8-bit gray (luma, as PIL's convert("L")), decoded by jpeg-js. */
export function decodeJpegGray(d: Uint8Array, name = 'image'): Gray {
  let raw: { width: number; height: number; data: Uint8Array };
  try {
    raw = jpeg.decode(d, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 512 });
  } catch (e) {
    throw new StudioError('badRequest', `${name}: not a readable JPEG (${(e as Error).message}); accepted: PNG or JPEG images`);
  }
  const pixels = new Uint8Array(raw.width * raw.height);
  for (let i = 0; i < pixels.length; i++) {
    const r = raw.data[i * 4] as number, g = raw.data[i * 4 + 1] as number, b = raw.data[i * 4 + 2] as number;
    pixels[i] = Math.floor((r * 299 + g * 587 + b * 114 + 500) / 1000);
  }
  return { width: raw.width, height: raw.height, pixels };
}

/** A photo's identity as provenance records it (basePhoto.sha256): sha256 of its decoded 8-bit gray pixels, so the
 * same picture hashes alike whether it came as PNG or JPEG bytes, in the studio or in Node. */
export function graySha256(pixels: Uint8Array): string {
  return bytesToHex(sha256(pixels));
}
