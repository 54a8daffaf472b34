import { describe, expect, it } from 'vitest';
import { decodeImage, decodeMaskPng, encodeGrayPng, encodeMaskPng } from './image';

describe('decodeImage', () => {
  it('reads a PNG to the same gray pixels it was written with', () => {
    const px = Uint8Array.from({ length: 12 }, (_, i) => i * 20);
    expect(decodeImage(encodeGrayPng(px, 4, 3))).toEqual({ width: 4, height: 3, pixels: px });
  });

  it('reads a mask PNG back to the 0/1 mask encodeMaskPng wrote, 128 and above counting as defect', () => {
    const mask = Uint8Array.from({ length: 12 }, (_, i) => i % 3 === 0 ? 1 : 0);
    expect(decodeMaskPng(encodeMaskPng(mask, 4, 3))).toEqual({ width: 4, height: 3, pixels: mask });
    expect(decodeMaskPng(encodeGrayPng(Uint8Array.from([0, 127, 128, 255]), 2, 2)).pixels).toEqual(Uint8Array.from([0, 0, 1, 1]));
  });

  it('refuses what is not a PNG or JPEG, or a broken one, naming the file and what is accepted', () => {
    expect(() => decodeImage(new TextEncoder().encode('hello'), 'notes.txt')).toThrow('notes.txt is neither a PNG nor a JPEG file; accepted: PNG or JPEG images');
    const png = encodeGrayPng(new Uint8Array(16), 4, 4);
    expect(() => decodeImage(png.slice(0, 20), 'cut.png')).toThrow(/^cut.png: not a readable PNG \(.+\); accepted: PNG or JPEG images$/);
    expect(() => decodeImage(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 0]), 'cut.jpg')).toThrow(/^cut.jpg: not a readable JPEG \(.+\); accepted: PNG or JPEG images$/);
  });
});
