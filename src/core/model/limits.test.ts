import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { encodeGrayPng } from '../formats/image';
import { checkPhotoSize, declaredImageSize, formatBytes, MAX_PHOTO_PIXELS } from './limits';

describe('photo limits (issue 16 case 7)', () => {
  it('reads the size a PNG or JPEG declares without decoding it', () => {
    expect(declaredImageSize(encodeGrayPng(new Uint8Array(12 * 5), 12, 5))).toEqual({ width: 12, height: 5 });
    const jpg = jpeg.encode({ width: 33, height: 17, data: new Uint8Array(33 * 17 * 4).fill(128) }, 90).data;
    expect(declaredImageSize(new Uint8Array(jpg))).toEqual({ width: 33, height: 17 });
    expect(declaredImageSize(new TextEncoder().encode('GIF89a....'))).toBeNull();
  });

  it('sees a 20000 x 20000 PNG from its header (its pixels are never decoded) and refuses it, naming both sizes', () => {
    const png = encodeGrayPng(new Uint8Array(4), 2, 2);
    const v = new DataView(png.buffer, png.byteOffset);
    v.setUint32(16, 20000);
    v.setUint32(20, 20000);
    const d = declaredImageSize(png);
    expect(d).toEqual({ width: 20000, height: 20000 });
    expect(() => checkPhotoSize('huge.png', d?.width ?? 0, d?.height ?? 0)).toThrow(
      'huge.png is 20000 x 20000 = 400.0 MP; the limit for a photo is 16.0 MP (for example 4000 x 4000): downscale or crop it first',
    );
  });

  it('accepts a photo at the limit', () => {
    expect(MAX_PHOTO_PIXELS).toBe(4000 * 4000);
    expect(() => checkPhotoSize('ok.png', 4000, 4000)).not.toThrow();
    expect(() => checkPhotoSize('ok.png', 4000, 4001)).toThrow(/4000 x 4001 = 16,004,000 pixels; the limit for a photo is 16,000,000 pixels/);
  });

  it('formats sizes', () => {
    expect([formatBytes(512), formatBytes(1536), formatBytes(3 * 2 ** 20), formatBytes(2 ** 31)]).toEqual(['512 bytes', '1.5 KB', '3.0 MB', '2.0 GB']);
  });
});
