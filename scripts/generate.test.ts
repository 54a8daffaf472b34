import { missing } from './lib/needs';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { regeneratedArea } from '../src/core/diffusion/composite';
import { decodeImage, decodeMaskPng, decodeToGray } from '../src/core/formats/image';
import { decodePartMask, parsePartMaskLibrary } from '../src/core/formats/partMasks';
import { TRAINED_ALGORITHMIC_MEDIA, pngXmp } from '../src/core/formats/xmp';
import { parseYoloLabel, rasterisePolygons } from '../src/core/formats/yolo';
import { parseGenerateArgs, runGenerate, UsageError } from './generate';
import { modelLoader, readRecorded, reproduce } from './reproduce';

const req = ['--model', 'public/models/magtile-defect-64', '--class', 'Crack', '--out', '/tmp/x'];

describe('generate arguments', () => {
  it('leaves unset sampling options to the manifest and reads --guidance-interval as LOW,HIGH or all', () => {
    const a = parseGenerateArgs(req);
    expect(a.guidance).toBeUndefined();
    expect(a.guidanceInterval).toBeUndefined();
    expect(parseGenerateArgs([...req, '--guidance-interval', '0.28,5.42']).guidanceInterval).toEqual([0.28, 5.42]);
    expect(parseGenerateArgs([...req, '--guidance-interval', 'all']).guidanceInterval).toBe('all');
  });

  it('refuses a bad --guidance-interval, saying what is accepted', () => {
    for (const bad of ['5,1', '0.3', 'a,b', '0.3,', '-1,2']) {
      const argv = [...req, `--guidance-interval=${bad}`];
      expect(() => parseGenerateArgs(argv)).toThrow(UsageError);
      expect(() => parseGenerateArgs(argv)).toThrow(/accepted: LOW,HIGH .* or all/);
    }
  });
});

describe('generate on whole photos (--photos, --masks)', () => {
  const FREE = '../shared/datasets/magnetic-tile/train/Free';
  const CRACK = '../shared/datasets/magnetic-tile/train/Crack';
  const hasReal = existsSync(FREE) && existsSync(CRACK);

  it('--masks needs --photos; --photos alone takes the model\'s whole-part masks; neither goes with --mask', () => {
    expect(() => parseGenerateArgs([...req, '--masks', CRACK])).toThrow(/--masks goes with --photos/);
    expect(parseGenerateArgs([...req, '--photos', FREE])).not.toHaveProperty('masks');
    expect(() => parseGenerateArgs([...req, '--photos', FREE, '--mask', 'm.png'])).toThrow(/either --mask/);
    expect(() => parseGenerateArgs([...req, '--photos', FREE, '--masks', CRACK, '--mask', 'm.png'])).toThrow(/either --mask/);
    expect(parseGenerateArgs([...req, '--photos', FREE, '--masks', CRACK])).toMatchObject({ photos: FREE, masks: CRACK });
  });

  it.skipIf(missing(hasReal, `${FREE} and ${CRACK}`))('writes photo-sized images and masks of real masks on real photos, reproduced bit for bit', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ddstudio-photos-'));
    try {
      // two defect-free photos in their own folder (the record names the photo within it)
      const photos = join(tmp, 'photos');
      mkdirSync(photos);
      for (const f of readdirSync(FREE).filter((n) => n.endsWith('.jpg')).sort().slice(0, 2)) copyFileSync(join(FREE, f), join(photos, f));
      const out = join(tmp, 'out');
      const base = { model: 'public/models/magtile-defect-64', className: 'Crack', eta: 0, clip: true, prompt: '', backend: 'native' as const, threads: 1, out, steps: 2, photos, masks: CRACK };
      await runGenerate({ ...base, seeds: [1, 2, 3] }, () => {});
      const lines = readFileSync(join(out, 'metadata.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(lines).toHaveLength(3);
      for (const rec of lines) {
        const photo = decodeImage(readFileSync(join(photos, rec.basePhoto.name)));
        const img = decodeToGray(readFileSync(join(out, rec.file)));
        const mask = decodeMaskPng(readFileSync(join(out, rec.mask)));
        expect([img.width, img.height, mask.width, mask.height]).toEqual([photo.width, photo.height, photo.width, photo.height]);
        expect(rec.basePhoto.sha256).toBe(createHash('sha256').update(photo.pixels).digest('hex'));
        expect(rec.windows.length).toBeGreaterThanOrEqual(1);
        const area = regeneratedArea(rec.windows, photo.width, photo.height);
        for (let i = 0; i < area.length; i++) if (!area[i] && img.pixels[i] !== photo.pixels[i]) expect.fail(`${rec.file}: pixel ${i} outside the windows' holes differs from the photo`);
        expect(mask.pixels.some((v) => v)).toBe(true);
        // marked as AI-generated; YOLO labels beside the image (images/ -> labels/) fill back to the mask exactly
        expect(pngXmp(readFileSync(join(out, rec.file)))).toContain(`Iptc4xmpExt:DigitalSourceType="${TRAINED_ALGORITHMIC_MEDIA}"`);
        const objects = parseYoloLabel(readFileSync(join(out, rec.file.replace(/^images\//, 'labels/').replace(/\.png$/, '.txt')), 'utf8'), mask.width, mask.height);
        expect(objects.length).toBeGreaterThanOrEqual(1);
        expect(objects.every((o) => o.classIndex === 2)).toBe(true); // Crack in the model's classes
        expect(Buffer.from(rasterisePolygons(objects.map((o) => o.polygon), mask.width, mask.height)).equals(Buffer.from(mask.pixels))).toBe(true);
      }
      expect(readFileSync(join(out, 'data.yaml'), 'utf8')).toContain('names:\n  0: "Blowhole"\n  1: "Break"\n  2: "Crack"\n');
      // The same seeds give the same bytes; the shard is what reproduce makes again from the photos folder.
      await runGenerate({ ...base, seeds: [2], out: join(tmp, 'again') }, () => {});
      expect(readFileSync(join(tmp, 'again', lines[1].file))).toEqual(readFileSync(join(out, lines[1].file)));
      const label = (dir: string) => readFileSync(join(dir, lines[1].file.replace(/^images\//, 'labels/').replace(/\.png$/, '.txt')));
      expect(label(join(tmp, 'again'))).toEqual(label(out));
      const models = modelLoader(base.model, undefined, 0);
      const outcomes = await reproduce(models.modelFor, readRecorded(out), photos, 0);
      await models.release();
      expect(outcomes).toEqual(lines.map(() => expect.objectContaining({ status: 'reproduced', maxDiff: 0, maskMatches: true })));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 300_000);

  it.skipIf(missing(hasReal, FREE))('without --masks draws real masks of the class from the model\'s part_masks.json at native size', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ddstudio-partmasks-'));
    try {
      const photos = join(tmp, 'photos');
      mkdirSync(photos);
      for (const f of readdirSync(FREE).filter((n) => n.endsWith('.jpg')).sort().slice(0, 2)) copyFileSync(join(FREE, f), join(photos, f));
      const out = join(tmp, 'out');
      const base = { model: 'public/models/magtile-defect-64-fast', className: 'Fray', eta: 0, clip: true, prompt: '', backend: 'native' as const, threads: 1, out, steps: 1, photos };
      await runGenerate({ ...base, seeds: [1, 2] }, () => {});
      const lines = readFileSync(join(out, 'metadata.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      const lib = parsePartMaskLibrary(JSON.parse(readFileSync('public/models/magtile-defect-64-fast/part_masks.json', 'utf8')));
      const libAreas = (lib.classes['Fray'] ?? []).map((pm) => decodePartMask(pm).pixels.reduce((a, v) => a + v, 0));
      for (const rec of lines) {
        const mask = decodeMaskPng(readFileSync(join(out, rec.mask)));
        const area = mask.pixels.reduce((a, v) => a + v, 0);
        // a real Fray mask, not resized: its area is one of the library's (cropped at most where it fell off the photo)
        expect(libAreas.some((a) => area <= a && area >= 0.5 * a)).toBe(true);
        expect(area / (mask.width * mask.height)).toBeGreaterThan(0.005);
        expect(rec.windows.length).toBeGreaterThan(1);
      }
      const models = modelLoader(base.model, undefined, 0);
      const outcomes = await reproduce(models.modelFor, readRecorded(out), photos, 0);
      await models.release();
      expect(outcomes).toEqual(lines.map(() => expect.objectContaining({ status: 'reproduced', maxDiff: 0, maskMatches: true })));
      await expect(runGenerate({ ...base, className: 'Free', seeds: [1] }, () => {})).rejects.toThrow(/has no Free masks/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 300_000);
});
