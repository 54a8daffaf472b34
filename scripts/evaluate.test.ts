import { missing } from './lib/needs';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeGrayPng } from '../src/core/formats/image';
import { Rng } from '../src/core/diffusion/rng';
import { groupScore } from '../src/core/quality/split';
import { listReal, parseEvaluateArgs, readSynthetic, realWindows, runEvaluate, UsageError } from './evaluate';
import { decodeJpegGray } from '../src/core/formats/image';

const REAL = '../shared/datasets/magnetic-tile/train';
const CLASSIFIER = 'public/models/magtile-classifier-64';
const CLASSES = ['Blowhole', 'Break', 'Crack', 'Fray', 'Uneven', 'Free'];
const hasReal = existsSync(REAL);

describe('evaluate arguments', () => {
  it('bad arguments get a message listing what is accepted', () => {
    expect(() => parseEvaluateArgs([])).toThrow(UsageError);
    expect(() => parseEvaluateArgs([])).toThrow(/--dataset is required[\s\S]*usage: npm run evaluate -- --dataset/);
    expect(() => parseEvaluateArgs(['--dataset', '.', '--bogus', 'x'])).toThrow(/bogus[\s\S]*--real-per-class/);
    expect(() => parseEvaluateArgs(['--dataset', '.'])).toThrow(/--real is required/);
    expect(() => parseEvaluateArgs(['--dataset', '/no/such/place', '--real', '.'])).toThrow(/does not exist; accepted: an exported .zip/);
    expect(() => parseEvaluateArgs(['--dataset', '.', '--real', '.', '--seeds', '0'])).toThrow(/--seeds must be an integer >= 1/);
    expect(() => parseEvaluateArgs(['--dataset', '.', '--real', '.', '--test-fraction', '1.5'])).toThrow(/between 0 and 1/);
    const a = parseEvaluateArgs(['--dataset', '.', '--real', '.']);
    expect(a).toMatchObject({ seeds: 5, realPerClass: 50, testFraction: 0.2, splitSeed: 0, classifier: CLASSIFIER });
  });
});

describe.skipIf(missing(hasReal, REAL))('evaluate on a tiny dataset', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ddstudio-eval-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('decodes the real baseline JPEGs like PIL', () => {
    const g = decodeJpegGray(readFileSync(join(REAL, 'Crack/exp1_num_3191.jpg')));
    expect([g.width, g.height]).toEqual([469, 370]);
    // PIL: Image.open(...).convert('L') mean 68.73957817092145, [100, 200] = 81, [0, 0] = 12 (jpeg-js and libjpeg IDCTs differ by 1 on some pixels)
    const mean = g.pixels.reduce((a, b) => a + b, 0) / g.pixels.length;
    expect(Math.abs(mean - 68.73957817092145)).toBeLessThan(0.15);
    expect(Math.abs(g.pixels[100 * 469 + 200]! - 81)).toBeLessThanOrEqual(1);
    expect(Math.abs(g.pixels[0]! - 12)).toBeLessThanOrEqual(1);
  });

  it('prints the JSON report and flags copies of real windows as memorised', async () => {
    // real folder: per class 2 train-side + 1 test-side files (split by file, test fraction 0.5), renamed so that
    // they are a user's own images (a shipped file's name is also the name of its tile group, which the
    // classifier's manifest places)
    const real = join(tmp, 'real');
    for (const c of ['Crack', 'Free']) {
      mkdirSync(join(real, c), { recursive: true });
      const files = readdirSync(join(REAL, c)).filter((f) => f.endsWith('.jpg')).sort();
      const train = files.filter((f) => groupScore(`${c}/own_${f}`, 0) >= 0.5).slice(0, 2);
      const test = files.filter((f) => groupScore(`${c}/own_${f}`, 0) < 0.5).slice(0, 1);
      for (const f of [...train, ...test]) {
        copyFileSync(join(REAL, c, f), join(real, c, `own_${f}`));
        const mask = f.replace(/\.jpg$/, '_mask.png');
        if (existsSync(join(REAL, c, mask))) copyFileSync(join(REAL, c, mask), join(real, c, `own_${mask}`));
      }
    }
    // "synthetic" set: 3 exact copies of the Crack windows the evaluator will draw, and 3 made-up Blowhole images
    const perClass = 4;
    const list = listReal(real, CLASSES, null, 0.5, 0);
    const wins = realWindows(list.images, CLASSES, perClass, 64, 0, 16);
    const crackWins = wins.pixels.filter((_, i) => CLASSES[wins.labels[i]!] === 'Crack');
    expect(crackWins).toHaveLength(2 * perClass);
    const ds = join(tmp, 'synthetic');
    mkdirSync(join(ds, 'images', 'Crack'), { recursive: true });
    mkdirSync(join(ds, 'images', 'Blowhole'), { recursive: true });
    [0, 2, 5].forEach((k, j) => writeFileSync(join(ds, 'images', 'Crack', `copy${j}.png`), encodeGrayPng(crackWins[k]!, 64, 64)));
    const rng = new Rng(9);
    for (let j = 0; j < 3; j++) {
      const px = Uint8Array.from({ length: 64 * 64 }, (_, i) => Math.max(0, Math.min(255, Math.round(60 + (i % 64) + 20 * rng.gaussian()))));
      writeFileSync(join(ds, 'images', 'Blowhole', `made${j}.png`), encodeGrayPng(px, 64, 64));
    }

    const args = parseEvaluateArgs(['--dataset', ds, '--real', real, '--seeds', '2', '--real-per-class', String(perClass), '--test-fraction', '0.5', '--kid-subsets', '5']);
    const out = (await runEvaluate(args, () => {})) as Record<string, any>;
    expect(JSON.parse(JSON.stringify(out))).toEqual(out); // plain JSON
    expect(out.dataset).toMatchObject({ n: 6, centreCropped: 0 });
    expect(out.real.images).toEqual({ train: 4, test: 2 });
    expect(Object.keys(out.perClass).sort()).toEqual(['Blowhole', 'Crack']);
    for (const c of ['Blowhole', 'Crack']) {
      const e = out.perClass[c];
      expect(e.n).toBe(3);
      expect(e.labelConsistency).toBeGreaterThanOrEqual(0);
      expect(e.labelConsistency).toBeLessThanOrEqual(1);
      expect(e.confidence).toBeGreaterThan(0);
      expect(e.kid).toMatchObject({ subsetSize: 3, subsets: 5 });
      expect(typeof e.kid.mean).toBe('number');
      expect(typeof e.diversity.synthetic).toBe('number');
      expect(typeof e.diversity.real).toBe('number');
      expect(typeof e.outlierShare).toBe('number');
      expect(e.memorised.threshold).toBeGreaterThan(0);
    }
    expect(out.perClass.Crack.memorised.count).toBe(3);
    expect(out.perClass.Crack.memorised.names.sort()).toEqual(['copy0.png', 'copy1.png', 'copy2.png']);
    expect(out.perClass.Crack.nearest.realWindows.min).toBe(0);
    expect(out.perClass.Blowhole.memorised.count).toBe(0);
    expect(out.overall).toMatchObject({ n: 6, memorised: 3 });
    // per-image flags, as the studio's worker sets them: the gate `npm run downstream -- --gate` reads
    expect(out.images.map((i: any) => `${i.className}/${i.name}`).sort()).toEqual(['Blowhole/made0.png', 'Blowhole/made1.png', 'Blowhole/made2.png', 'Crack/copy0.png', 'Crack/copy1.png', 'Crack/copy2.png']);
    for (const im of out.images) expect(im.flags.includes('inconsistent')).toBe(im.predicted !== im.className);
    const consistent = out.images.filter((i: any) => i.className === 'Crack' && i.predicted === 'Crack').length;
    expect(consistent / 3).toBeCloseTo(out.perClass.Crack.labelConsistency, 6);
    const d = out.downstream;
    expect(d.split).toMatch(/by file/);
    expect(d.nTest).toBe(2 * perClass);
    expect(d.nTrain).toBe(2 * perClass);
    expect(d.nSynthetic).toBe(6);
    expect(Object.keys(d.perClass)).toEqual(CLASSES);
    expect(typeof d.macroF1RealOnly.mean).toBe('number');
    expect(typeof d.macroF1WithSynth.std).toBe('number');
    expect(typeof d.delta.mean).toBe('number');
    expect(d.warning).toMatch(/Blowhole, Break, Fray, Uneven have no held-out test samples/);
    expect(d.warning).toMatch(/fewer than 10/);
  });
});

describe.skipIf(missing(hasReal, REAL))('photo items in evaluate', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ddstudio-eval-photo-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('are judged on their first window, and flagged memorised only for their regenerated pixels', async () => {
    const real = join(tmp, 'real', 'Crack');
    mkdirSync(real, { recursive: true });
    for (const f of readdirSync(join(REAL, 'Crack')).filter((f) => f.endsWith('.jpg')).sort().slice(0, 3)) {
      copyFileSync(join(REAL, 'Crack', f), join(real, `own_${f}`));
      copyFileSync(join(REAL, 'Crack', f.replace('.jpg', '_mask.png')), join(real, `own_${f.replace('.jpg', '_mask.png')}`));
    }
    const list = listReal(join(tmp, 'real'), CLASSES, null, 0.5, 0);
    const wins = realWindows(list.images, CLASSES, 4, 64, 0, 16).pixels;
    // Two photo items (photo-sized, with basePhoto + windows in metadata.jsonl, as generate.ts writes them):
    // "background": a real window in the photo, regenerated only in a 3x3 corner, two gray levels off (the photo
    // is what makes it near a real window);
    // "copied": a made-up photo whose regenerated hole is the whole window, holding a copy of a real window.
    const ds = join(tmp, 'synthetic');
    mkdirSync(join(ds, 'images', 'Crack'), { recursive: true });
    const rng = new Rng(3);
    const meta: string[] = [];
    const photoItem = (name: string, win: Uint8Array, x: number, y: number, hole: number) => {
      const W = 150, H = 110;
      const px = Uint8Array.from({ length: W * H }, () => 90 + Math.round(10 * rng.gaussian()));
      for (let r = 0; r < 64; r++) px.set(win.subarray(r * 64, r * 64 + 64), (y + r) * W + x);
      for (let r = 0; r < hole && hole < 64; r++) for (let k = 0; k < hole; k++) px[(y + r) * W + x + k] = Math.min(255, (px[(y + r) * W + x + k] as number) + 2);
      writeFileSync(join(ds, 'images', 'Crack', name), encodeGrayPng(px, W, H));
      meta.push(JSON.stringify({ file: `images/Crack/${name}`, className: 'Crack', basePhoto: { name: 'p.png', sha256: '0', width: W, height: H }, windows: [{ x, y, size: 64, hole: { x0: 0, y0: 0, x1: hole, y1: hole } }] }));
    };
    photoItem('background.png', wins[1]!, 30, 20, 3);
    photoItem('copied.png', wins[6]!, 70, 40, 64);
    writeFileSync(join(ds, 'metadata.jsonl'), meta.join('\n') + '\n');
    const out = (await runEvaluate(parseEvaluateArgs(['--dataset', ds, '--real', join(tmp, 'real'), '--seeds', '1', '--real-per-class', '4', '--test-fraction', '0.5', '--kid-subsets', '2']), () => {})) as Record<string, any>;
    expect(out.dataset).toMatchObject({ n: 2, photoItems: 2, centreCropped: 0 });
    const c = out.perClass.Crack;
    expect(c.region).toEqual({ 'photo window': 2 });
    expect(c.nearest.realWindows.min).toBe(0); // the copy's window is a real window: it was judged, not the photo's centre
    expect(c.memorised.names).toEqual(['copied.png']);
    expect(c.memorised.backgroundNearReal).toEqual(['background.png']); // near a real window, but because of the photo
  });
});

describe('evaluate goes on past a bad item, and says which and why', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ddstudio-eval-bad-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('leaves out an unreadable or too small synthetic image, and an unreadable real image, naming each', () => {
    const ds = join(tmp, 'synthetic');
    mkdirSync(join(ds, 'images', 'Crack'), { recursive: true });
    writeFileSync(join(ds, 'images', 'Crack', 'good.png'), encodeGrayPng(new Uint8Array(64 * 64).fill(120), 64, 64));
    writeFileSync(join(ds, 'images', 'Crack', 'junk.png'), 'not a png');
    writeFileSync(join(ds, 'images', 'Crack', 'tiny.png'), encodeGrayPng(new Uint8Array(16 * 16), 16, 16));
    const syn = readSynthetic(ds, 64, 64);
    expect(syn.images.map((i) => i.name)).toEqual(['good.png']);
    expect(syn.skipped.map((s) => s.item)).toEqual(['Crack/junk.png', 'Crack/tiny.png']);
    expect(syn.skipped[1]?.why).toMatch(/is 16x16; the classifier needs at least 64x64/);

    const real = join(tmp, 'real');
    mkdirSync(join(real, 'Crack'), { recursive: true });
    const good = readdirSync(join(REAL, 'Crack')).filter((f) => f.endsWith('.jpg')).sort()[0] as string;
    copyFileSync(join(REAL, 'Crack', good), join(real, 'Crack', good));
    writeFileSync(join(real, 'Crack', 'broken.jpg'), 'not a jpeg');
    const images = [
      { className: 'Crack', name: good, path: join(real, 'Crack', good), maskPath: null, group: 'g1', test: false },
      { className: 'Crack', name: 'broken.jpg', path: join(real, 'Crack', 'broken.jpg'), maskPath: null, group: 'g2', test: true },
    ];
    const w = realWindows(images, CLASSES, 3, 64, 0, 16);
    expect(w.test).toEqual([false, false, false]); // the held-out side had only the broken image
    expect(w.skipped).toEqual([{ item: join(real, 'Crack', 'broken.jpg'), why: expect.any(String) }]);
  });
});
