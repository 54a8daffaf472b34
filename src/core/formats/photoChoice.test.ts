import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missing } from '../../../scripts/lib/needs';
import { Rng, deriveSeed } from '../diffusion/rng';
import { drawPartMask, parsePartMaskLibrary } from './partMasks';
import { choosePhoto, isPhotoFileName, photoOrder, PHOTO_STREAM } from './photoChoice';

const FREE = resolve('../shared/datasets/magnetic-tile/train/Free');
const lib = parsePartMaskLibrary(JSON.parse(readFileSync(resolve('public/models/magtile-defect-64/part_masks.json'), 'utf8')));

describe('photo choice (scripts/generate.ts --photos and the studio photo set)', () => {
  it('is the CLI rule: Rng(deriveSeed(seed, 3)), photo index nextUint32() mod count', () => {
    expect(PHOTO_STREAM).toBe(3);
    for (const count of [1, 2, 3, 7, 757])
      for (let seed = 0; seed < 300; seed++) {
        const want = new Rng(deriveSeed(seed, 3)).nextUint32() % count;
        expect(choosePhoto(seed, Array.from({ length: count }, (_, k) => k)).index).toBe(want);
      }
  });

  it('known answers (a change here changes which photo every stored photo-set item was made on)', () => {
    const names = ['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg', 'e.jpg'];
    expect([0, 1, 2, 3, 4, 5, 6, 7, 1_000_000, 2 ** 53 - 1].map((s) => choosePhoto(s, names).photo)).toEqual(['e.jpg', 'd.jpg', 'd.jpg', 'c.jpg', 'c.jpg', 'e.jpg', 'd.jpg', 'b.jpg', 'c.jpg', 'a.jpg']);
  });

  it('draws the mask from the same stream, after the photo', () => {
    const a = choosePhoto(11, ['p1', 'p2']);
    const m1 = drawPartMask(lib, 'Fray', 240, 289, a.rng);
    const r = new Rng(deriveSeed(11, 3));
    r.nextUint32();
    const m2 = drawPartMask(lib, 'Fray', 240, 289, r);
    expect(m1.index).toBe(m2.index);
    expect(Buffer.from(m1.mask).equals(Buffer.from(m2.mask))).toBe(true);
  });

  it('refuses an empty set', () => {
    expect(() => choosePhoto(1, [])).toThrow(/empty/);
  });

  it('a folder\'s photos: PNG and JPEG without "mask" in the name, in default sort order', () => {
    expect(photoOrder(['b.PNG', 'a_mask.png', 'c.jpeg', 'A.jpg', 'notes.txt', 'x.JPG', 'Mask2.png', 'a.jpg'])).toEqual(['A.jpg', 'a.jpg', 'b.PNG', 'c.jpeg', 'x.JPG']);
    expect(isPhotoFileName('exp1_num_10181.jpg')).toBe(true);
    expect(isPhotoFileName('exp1_num_10181_mask.png')).toBe(false);
    expect(isPhotoFileName('photo.webp')).toBe(false);
  });

  it.skipIf(missing(existsSync(FREE), FREE))('on the dataset\'s Free folder: every photo, no mask', () => {
    const all = readdirSync(FREE);
    const photos = photoOrder(all);
    expect(photos.length).toBe(all.filter((f) => f.endsWith('.jpg')).length);
    expect(photos.every((f) => f.endsWith('.jpg'))).toBe(true);
    expect([...photos].sort()).toEqual(photos);
  });
});
