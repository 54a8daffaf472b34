import { missing } from './lib/needs';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { regeneratedArea } from '../src/core/diffusion/composite';
import { decodeImage, decodeMaskPng, decodeToGray, encodeGrayPng } from '../src/core/formats/image';
import { parseMaskLibrary } from '../src/core/formats/maskLibrary';
import { variedMask } from '../src/core/formats/maskDraw';
import { parseManifest } from '../src/core/model/manifest';
import { decodePartMask, parsePartMaskLibrary } from '../src/core/formats/partMasks';
import { TRAINED_ALGORITHMIC_MEDIA, pngXmp } from '../src/core/formats/xmp';
import { parseYoloLabel, rasterisePolygons } from '../src/core/formats/yolo';
import { parseGenerateArgs, resolveClasses, runGenerate, UsageError } from './generate';
import { modelLoader, readRecorded, reproduce } from './reproduce';

const req = ['--model', 'public/models/magtile-defect-64', '--class', 'Crack', '--out', '/tmp/x'];

/** Runs fn in a fresh temporary folder and removes it afterwards, whatever fn does. */
async function inTmp(prefix: string, fn: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), prefix));
  try {
    await fn(tmp);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

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

const FAST = 'public/models/magtile-defect-64-fast';
const fastManifest = parseManifest(JSON.parse(readFileSync(join(FAST, 'manifest.json'), 'utf8')));
const fastLibrary = parseMaskLibrary(JSON.parse(readFileSync(join(FAST, 'mask_library.json'), 'utf8')));

/** Every file under dir (relative path -> bytes); metadata.jsonl without its timings, the one part that is not deterministic. */
function folder(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((x, y) => (x.name < y.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        files.set(`${relative(dir, p)}/`, '');
        walk(p);
      } else if (e.name === 'metadata.jsonl') {
        const lines = readFileSync(p, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { timings: Record<string, number> });
        for (const l of lines) expect(Object.keys(l.timings).sort()).toEqual(['modelMs', 'steps', 'totalMs']);
        files.set(relative(dir, p), lines.map(({ timings, ...rest }) => JSON.stringify({ ...rest, steps: timings['steps'] })).join('\n'));
      } else files.set(relative(dir, p), createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  walk(dir);
  return files;
}

/** The distilled model's manifest and weights in tmp/model, without its mask library. */
function modelWithoutLibrary(tmp: string): string {
  const model = join(tmp, 'model');
  mkdirSync(model);
  copyFileSync(join(FAST, 'manifest.json'), join(model, 'manifest.json'));
  symlinkSync(resolve(FAST, fastManifest.file), join(model, fastManifest.file));
  return model;
}

describe('--mask-draw', () => {
  it('defaults to the library draw, reads varied, refuses other values and goes with neither --mask nor --photos', () => {
    expect(parseGenerateArgs(req).maskDraw).toBe('library');
    expect(parseGenerateArgs([...req, '--mask-draw', 'varied']).maskDraw).toBe('varied');
    expect(() => parseGenerateArgs([...req, '--mask-draw', 'scaled'])).toThrow(/accepted: library, varied/);
    expect(() => parseGenerateArgs([...req, '--mask-draw', 'varied', '--mask', 'm.png'])).toThrow(/does not go with --mask/);
    expect(() => parseGenerateArgs([...req, '--mask-draw', 'varied', '--photos', 'p'])).toThrow(/--photos/);
  });

  it('varied: each image is generated on variedMask of its seed, stored and recorded as a given mask with its size third', async () => {
    await inTmp('ddstudio-varied-', async (tmp) => {
      const a = parseGenerateArgs(['--model', FAST, '--class', 'Blowhole,Uneven', '--seed-start', '3', '--seed-end', '5', '--mask-draw', 'varied', '--out', tmp, '--threads', '1']);
      await runGenerate(a, () => {});
      const lines = readFileSync(join(tmp, 'metadata.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.length).toBe(4);
      for (const rec of lines) {
        const cls = rec['className'] as string;
        const v = variedMask(fastLibrary, cls, rec['seed'] as number);
        expect(rec['maskSource']).toBe('given');
        expect(rec['maskDraw']).toEqual({ draw: 'varied', size: v.size });
        const stored = decodeMaskPng(readFileSync(join(tmp, rec['mask'] as string)));
        expect(Array.from(stored.pixels, (p) => (p ? 1 : 0))).toEqual(Array.from(v.mask));
      }
      // Blowholes are whole shapes (varied); Uneven is cut by its window (kept as the library drew it)
      expect(lines.filter((r) => r['className'] === 'Blowhole').every((r) => (r['maskDraw'] as { size: unknown }).size !== null)).toBe(true);
      expect(lines.filter((r) => r['className'] === 'Uneven').every((r) => (r['maskDraw'] as { size: unknown }).size === null)).toBe(true);
    });
  }, 60_000);

  it('varied on a model without a mask library is a usage error saying so, before anything is written', async () => {
    await inTmp('ddstudio-varied-nolib-', async (tmp) => {
      const model = modelWithoutLibrary(tmp);
      const err = await runGenerate(parseGenerateArgs(['--model', model, '--class', 'Crack', '--mask-draw', 'varied', '--out', join(tmp, 'out')]), () => {}).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(/--mask-draw varied draws from the model's mask library; model .* ships none \(mask_library\.json\): leave --mask-draw out/);
      expect(existsSync(join(tmp, 'out'))).toBe(false);
    });
  }, 60_000);
});

describe('--class with several classes', () => {
  it('reads one class, a comma list or defects; an empty or repeated name is an error saying what is accepted', () => {
    expect(parseGenerateArgs(req).classNames).toEqual(['Crack']);
    expect(parseGenerateArgs([...req, '--class', 'Crack,Fray']).classNames).toEqual(['Crack', 'Fray']);
    expect(parseGenerateArgs([...req, '--class', 'Fray, Crack']).classNames).toEqual(['Fray', 'Crack']);
    expect(parseGenerateArgs([...req, '--class', 'defects']).classNames).toBe('defects');
    expect(() => parseGenerateArgs([...req, '--class', 'Crack,Fray,Crack'])).toThrow(/names Crack more than once/);
    for (const bad of ['Crack,', ',Crack', 'Crack,,Fray', ' '])
      expect(() => parseGenerateArgs([...req, `--class=${bad}`]), bad).toThrow(/empty class name; accepted: a class, classes separated by commas \(Crack,Fray\) or defects/);
  });

  it('defects is every class of the mask library, in its order (not Free); names outside the model are refused', () => {
    expect(resolveClasses('defects', fastManifest, fastLibrary)).toEqual(['Blowhole', 'Break', 'Crack', 'Fray', 'Uneven']);
    expect(resolveClasses(['Free', 'Crack'], fastManifest, fastLibrary)).toEqual(['Free', 'Crack']);
    expect(() => resolveClasses(['Crack', 'Rust'], fastManifest, fastLibrary)).toThrow(/"Rust" is not a class of model .*; accepted: Blowhole, Break, Crack, Fray, Uneven, Free, several separated by commas, or defects/);
    expect(() => resolveClasses(['Crack', 'Crack'], fastManifest, fastLibrary)).toThrow(/more than once/);
    expect(() => resolveClasses([], fastManifest, fastLibrary)).toThrow(/empty class name/);
  });

  it('defects on a model without a mask library is a usage error saying so and what is accepted', async () => {
    await inTmp('ddstudio-nolib-', async (tmp) => {
      const model = modelWithoutLibrary(tmp);
      const err = await runGenerate(parseGenerateArgs(['--model', model, '--class', 'defects', '--out', join(tmp, 'out')]), () => {}).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(/--class defects: model .* has no mask library \(mask_library\.json\).*accepted for this model: a class of Blowhole, Break, Crack, Fray, Uneven, Free, or several separated by commas/);
      expect(existsSync(join(tmp, 'out'))).toBe(false);
    });
  }, 60_000);

  it('writes the same folder, byte for byte and line for line, as one run per class into the same --out', async () => {
    await inTmp('ddstudio-classes-', async (tmp) => {
      const args = (cls: string, out: string, seeds: string[]) => parseGenerateArgs(['--model', FAST, '--class', cls, ...seeds, '--steps', '1', '--threads', '1', '--out', join(tmp, out)]);
      const cases: [string, string[], string[]][] = [
        ['Fray,Crack', ['--n', '2', '--seed', '3'], ['Fray', 'Crack']],
        ['defects', ['--seed-start', '7', '--seed-end', '8'], ['Blowhole', 'Break', 'Crack', 'Fray', 'Uneven']],
      ];
      for (const [k, [cls, seeds, each]] of cases.entries()) {
        await runGenerate(args(cls, `all${k}`, seeds), () => {});
        for (const c of each) await runGenerate(args(c, `loop${k}`, seeds), () => {});
        const all = folder(join(tmp, `all${k}`));
        expect(all).toEqual(folder(join(tmp, `loop${k}`)));
        // class by class in the order given, every class with the same seeds
        const seedList = args(cls, 'x', seeds).seeds;
        const files = readFileSync(join(tmp, `all${k}`, 'metadata.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { file: string }).file);
        expect(files).toEqual(each.flatMap((c) => seedList.map((s) => `images/${c}/${c}_s${s}.png`)));
        for (const c of each) expect(all.has(`labels/${c}/${c}_s${seedList[0]}.txt`) && all.has(`masks/${c}/${c}_s${seedList[0]}.png`)).toBe(true);
      }
    });
  }, 120_000);

  it('--photos with several classes draws each class\'s own part masks, as one run per class does; a class without them is refused before anything is written', async () => {
    await inTmp('ddstudio-classes-photos-', async (tmp) => {
      // one smooth synthetic gray photo, larger than the 64x64 window
      const photos = join(tmp, 'photos');
      mkdirSync(photos);
      const [w, h] = [160, 128];
      writeFileSync(join(photos, 'tile.png'), encodeGrayPng(Uint8Array.from({ length: w * h }, (_, i) => 90 + ((i % w) + Math.floor(i / w)) % 40), w, h));
      const args = (cls: string, out: string, more: string[] = []) => parseGenerateArgs(['--model', FAST, '--class', cls, '--seed', '2', '--steps', '1', '--threads', '1', '--photos', photos, ...more, '--out', join(tmp, out)]);
      await expect(runGenerate(args('Crack,Free,Fray', 'refused'), () => {})).rejects.toThrow(/part_masks\.json has no Free masks .*leave Free out of --class, or generate it alone with --masks <folder of real Free masks>/);
      expect(existsSync(join(tmp, 'refused'))).toBe(false);
      await expect(runGenerate(args('Crack,Fray', 'refused', ['--masks', photos]), () => {})).rejects.toThrow(/--masks is a folder of one class's masks; with several classes \(Crack, Fray\) leave it out/);
      expect(existsSync(join(tmp, 'refused'))).toBe(false);
      await runGenerate(args('Fray,Blowhole', 'all'), () => {});
      for (const c of ['Fray', 'Blowhole']) await runGenerate(args(c, 'loop'), () => {});
      expect(folder(join(tmp, 'all'))).toEqual(folder(join(tmp, 'loop')));
      const masks = ['Fray', 'Blowhole'].map((c) => decodeMaskPng(readFileSync(join(tmp, 'all', 'masks', c, `${c}_s2.png`))));
      expect(masks.map((m) => [m.width, m.height])).toEqual([[w, h], [w, h]]);
      expect(masks.every((m) => m.pixels.some((v) => v))).toBe(true);
      expect(Buffer.from(masks[0]!.pixels).equals(Buffer.from(masks[1]!.pixels))).toBe(false);
    });
  }, 120_000);
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
    await inTmp('ddstudio-photos-', async (tmp) => {
      // two defect-free photos in their own folder (the record names the photo within it)
      const photos = join(tmp, 'photos');
      mkdirSync(photos);
      for (const f of readdirSync(FREE).filter((n) => n.endsWith('.jpg')).sort().slice(0, 2)) copyFileSync(join(FREE, f), join(photos, f));
      const out = join(tmp, 'out');
      const base = { model: 'public/models/magtile-defect-64', classNames: ['Crack'], eta: 0, clip: true, prompt: '', backend: 'native' as const, threads: 1, out, steps: 2, photos, masks: CRACK };
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
    });
  }, 300_000);

  it.skipIf(missing(hasReal, FREE))('without --masks draws real masks of the class from the model\'s part_masks.json at native size', async () => {
    await inTmp('ddstudio-partmasks-', async (tmp) => {
      const photos = join(tmp, 'photos');
      mkdirSync(photos);
      for (const f of readdirSync(FREE).filter((n) => n.endsWith('.jpg')).sort().slice(0, 2)) copyFileSync(join(FREE, f), join(photos, f));
      const out = join(tmp, 'out');
      const base = { model: 'public/models/magtile-defect-64-fast', classNames: ['Fray'], eta: 0, clip: true, prompt: '', backend: 'native' as const, threads: 1, out, steps: 1, photos };
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
      await expect(runGenerate({ ...base, classNames: ['Free'], seeds: [1] }, () => {})).rejects.toThrow(/has no Free masks/);
    });
  }, 300_000);
});
