import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  decodeRuns,
  encodeRuns,
  maskFromPrompt,
  parseMaskLibrary,
  randomMask,
  sampleMask,
  shapeStats,
  sizeAreaRange,
  type MaskLibrary,
  type MaskShapeOptions,
} from './maskLibrary';
import { parsePrompt } from '../model/prompt';
import { deriveSeed } from '../diffusion/rng';
import { variedMask } from './maskDraw';

const W = 64;
const H = 64;

// ---- helpers ----------------------------------------------------------------------------------------------
function fnv1a(a: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const v of a) {
    h ^= v;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
function area(m: Uint8Array): number {
  let n = 0;
  for (const v of m) n += v;
  return n;
}
/** Centroid (window-relative) and principal-axis angle in degrees (x right, y down), in (-90, 90]. */
function moments(m: Uint8Array, w = W): { cx: number; cy: number; angle: number } {
  let n = 0;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < m.length; i++)
    if (m[i]) {
      n++;
      sx += (i % w) + 0.5;
      sy += Math.floor(i / w) + 0.5;
    }
  const cx = sx / n;
  const cy = sy / n;
  let xx = 0;
  let yy = 0;
  let xy = 0;
  for (let i = 0; i < m.length; i++)
    if (m[i]) {
      const dx = (i % w) + 0.5 - cx;
      const dy = Math.floor(i / w) + 0.5 - cy;
      xx += dx * dx;
      yy += dy * dy;
      xy += dx * dy;
    }
  return { cx: cx / w, cy: cy / (m.length / w), angle: (0.5 * Math.atan2(2 * xy, xx - yy) * 180) / Math.PI };
}
function components(m: Uint8Array, w = W, h = H): number {
  const seen = new Uint8Array(m.length);
  let n = 0;
  for (let i = 0; i < m.length; i++) {
    if (!m[i] || seen[i]) continue;
    n++;
    const stack = [i];
    seen[i] = 1;
    while (stack.length) {
      const j = stack.pop() as number;
      const x = j % w;
      const y = (j - x) / w;
      for (const [nx, ny] of [[x - 1, y], [x + 1, y], [x, y - 1], [x, y + 1]] as const) {
        if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
        const k = ny * w + nx;
        if (m[k] && !seen[k]) {
          seen[k] = 1;
          stack.push(k);
        }
      }
    }
  }
  return n;
}
function expectBinary(m: Uint8Array, size = W * H): void {
  expect(m).toBeInstanceOf(Uint8Array);
  expect(m.length).toBe(size);
  expect(m.every((v) => v === 0 || v === 1)).toBe(true);
}
const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
const seeds = (n: number) => Array.from({ length: n }, (_, i) => i * 7919 + 3);

// ---- a synthetic library with known shapes: thick line segments at many angles, and discs ---------------
function draw(f: (x: number, y: number) => boolean): number[] {
  const m = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (f(x + 0.5, y + 0.5)) m[y * W + x] = 1;
  return encodeRuns(m);
}
function segment(len: number, angleDeg: number, width: number): number[] {
  const a = (angleDeg * Math.PI) / 180;
  const ux = Math.cos(a);
  const uy = Math.sin(a);
  return draw((x, y) => {
    const dx = x - 32;
    const dy = y - 32;
    const along = dx * ux + dy * uy;
    const across = -dx * uy + dy * ux;
    return Math.abs(along) <= len / 2 && Math.abs(across) <= width / 2;
  });
}
const synth: MaskLibrary = {
  width: W,
  height: H,
  classes: {
    Line: Array.from({ length: 12 }, (_, i) => segment(20 + 3 * i, i * 37, 2 + (i % 3))),
    Disc: Array.from({ length: 9 }, (_, i) => draw((x, y) => (x - 32) ** 2 + (y - 32) ** 2 <= (2 + i) ** 2)),
    Free: [],
  },
};

describe('randomMask (unchanged)', () => {
  it('returns exactly what it returned before sampleMask was added (pinned checksums)', () => {
    // A small asymmetric library, so that the chosen shape and both flips show in the checksum.
    // Checksums (FNV-1a over the mask bytes) computed from the implementation before this change.
    const w = 16;
    const h = 12;
    const masks: number[][] = [];
    for (let k = 0; k < 5; k++) {
      const m = new Uint8Array(w * h);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if ((x * (k + 1) + y * y * (k + 2)) % 7 < 2 && x > k) m[y * w + x] = 1;
      masks.push(encodeRuns(m));
    }
    const lib: MaskLibrary = { width: w, height: h, classes: { A: masks } };
    const got = [0, 1, 7, 42, 123456, 2 ** 53 - 1].map((s) => fnv1a(randomMask(lib, 'A', s)));
    expect(got).toEqual([293127781, 3349263021, 3164025634, 2079012978, 601433594, 924641388]);
    expect(randomMask(lib, 'Missing', 3)).toEqual(new Uint8Array(w * h));
  });
});

describe('sampleMask', () => {
  it('is deterministic for a seed, differs between seeds, and is always width*height of 0/1', () => {
    const opts: MaskShapeOptions[] = [{}, { count: 3, size: 'large' }, { orientation: 'diagonal', placement: { x: 0.9, y: 0.1 } }, { size: 'small', shape: 'round' }];
    for (const o of opts)
      for (const cls of ['Line', 'Disc']) {
        const a = sampleMask(synth, cls, 11, o);
        expectBinary(a);
        expect(area(a)).toBeGreaterThan(0);
        expect(sampleMask(synth, cls, 11, o)).toEqual(a);
      }
    const distinct = new Set(seeds(10).map((s) => fnv1a(sampleMask(synth, 'Line', s))));
    expect(distinct.size).toBeGreaterThan(7);
  });

  it('gives all zeros for a class without shapes', () => {
    expect(sampleMask(synth, 'Free', 5, { count: 3, size: 'large' })).toEqual(new Uint8Array(W * H));
    expect(sampleMask(synth, 'NoSuchClass', 5)).toEqual(new Uint8Array(W * H));
  });

  it('keeps areas within the limits learned from the class, small < medium < large on average', () => {
    for (const cls of ['Line', 'Disc']) {
      const byStat = shapeStats(synth, cls);
      const means: number[] = [];
      for (const size of ['small', 'medium', 'large'] as const) {
        const [lo, hi] = sizeAreaRange(synth, cls, size);
        expect(lo).toBeGreaterThanOrEqual(byStat.minArea);
        expect(hi).toBeLessThanOrEqual(byStat.maxArea);
        const areas = seeds(25).map((s) => area(sampleMask(synth, cls, s, { size })));
        for (const a of areas) {
          expect(a).toBeLessThanOrEqual(hi * 1.2 + 6); // nearest-neighbour rounding
          expect(a).toBeLessThanOrEqual(W * H);
        }
        if (cls === 'Disc') for (const a of areas) expect(a).toBeGreaterThanOrEqual(lo * 0.8 - 6);
        means.push(mean(areas));
      }
      expect(means[0]).toBeLessThan(means[1] as number);
      expect(means[1]).toBeLessThan(means[2] as number);
    }
  });

  it('centres a shape at the requested placement', () => {
    for (const p of [{ x: 0.25, y: 0.75 }, { x: 0.5, y: 0.5 }, { x: 0.8, y: 0.2 }]) {
      for (const s of seeds(8)) {
        const m = moments(sampleMask(synth, 'Disc', s, { size: 'small', placement: p }));
        expect(Math.hypot(m.cx - p.x, m.cy - p.y)).toBeLessThan(0.1);
      }
    }
    // far corners: the shape is pushed inside the window, but stays in that corner
    for (const s of seeds(8)) {
      const m = moments(sampleMask(synth, 'Line', s, { placement: { x: 1, y: 1 } }));
      expect(m.cx).toBeGreaterThan(0.55);
      expect(m.cy).toBeGreaterThan(0.55);
    }
  });

  it('keeps every shape inside the window (pushed in from the border, not cut off)', () => {
    // Line shapes touch no border in the library. Placed at the border they must keep (about) the area
    // they have in the middle of the window: same seed, so the same shape, scale and angle.
    for (const s of seeds(20))
      for (const placement of [{ x: 0, y: 0.5 }, { x: 1, y: 1 }, { x: 0.5, y: 0 }]) {
        const edge = area(sampleMask(synth, 'Line', s, { size: 'large', placement }));
        const middle = area(sampleMask(synth, 'Line', s, { size: 'large', placement: { x: 0.5, y: 0.5 } }));
        expect(Math.abs(edge - middle)).toBeLessThanOrEqual(0.15 * middle + 4);
      }
  });

  it('rotates to the requested orientation (principal axis)', () => {
    const axisOf = (o: MaskShapeOptions['orientation'], s: number) => moments(sampleMask(synth, 'Line', s, { orientation: o })).angle;
    for (const s of seeds(10)) {
      expect(Math.abs(axisOf('horizontal', s))).toBeLessThan(8);
      expect(90 - Math.abs(axisOf('vertical', s))).toBeLessThan(8);
      expect(Math.abs(Math.abs(axisOf('diagonal', s)) - 45)).toBeLessThan(8);
    }
    // 'any' gives many angles
    const anyAngles = seeds(20).map((s) => Math.round(axisOf('any', s) / 30));
    expect(new Set(anyAngles).size).toBeGreaterThan(3);
  });

  it('count=2 gives two separate shapes most of the time', () => {
    const n = seeds(20).filter((s) => components(sampleMask(synth, 'Disc', s, { count: 2, size: 'small' })) >= 2).length;
    expect(n).toBeGreaterThanOrEqual(17);
    const lines = seeds(20).filter((s) => components(sampleMask(synth, 'Line', s, { count: 2, size: 'small' })) >= 2).length;
    expect(lines).toBeGreaterThanOrEqual(14);
  });

  it("prefers elongated shapes for 'thin' and compact ones for 'round'", () => {
    const lib: MaskLibrary = { width: W, height: H, classes: { Mixed: [...(synth.classes.Line ?? []), ...(synth.classes.Disc ?? [])] } };
    const elong = (m: Uint8Array) => {
      const { angle } = moments(m);
      const a = (angle * Math.PI) / 180;
      let major = 0;
      let minor = 0;
      const { cx, cy } = moments(m);
      for (let i = 0; i < m.length; i++)
        if (m[i]) {
          const dx = (i % W) + 0.5 - cx * W;
          const dy = Math.floor(i / W) + 0.5 - cy * H;
          major += (dx * Math.cos(a) + dy * Math.sin(a)) ** 2;
          minor += (-dx * Math.sin(a) + dy * Math.cos(a)) ** 2;
        }
      return Math.sqrt(major / Math.max(minor, 1e-9));
    };
    const thin = mean(seeds(12).map((s) => elong(sampleMask(lib, 'Mixed', s, { shape: 'thin' }))));
    const round = mean(seeds(12).map((s) => elong(sampleMask(lib, 'Mixed', s, { shape: 'round' }))));
    expect(thin).toBeGreaterThan(3 * round);
  });
});

describe('shapeStats', () => {
  it('reports area statistics of the class shapes', () => {
    const discs = (synth.classes.Disc ?? []).map((r) => area(decodeRuns(r, W * H)));
    expect(shapeStats(synth, 'Disc')).toEqual({ meanArea: mean(discs), minArea: Math.min(...discs), maxArea: Math.max(...discs), n: 9 });
    expect(shapeStats(synth, 'Free')).toEqual({ meanArea: 0, minArea: 0, maxArea: 0, n: 0 });
  });
});

describe('maskFromPrompt', () => {
  const classes = ['Line', 'Disc', 'Free'];
  it('uses the prompt class, count, size, orientation and placement', () => {
    const cond = parsePrompt('a small horizontal line near the top edge', classes);
    const m = sampleMask(synth, 'Line', 9, { count: 1, size: 'small', shape: 'any', orientation: 'horizontal', placement: { x: 0.5, y: 0.12 } });
    expect(maskFromPrompt(synth, cond, 9)).toEqual(m);
    const mo = moments(m);
    expect(Math.abs(mo.angle)).toBeLessThan(8);
    expect(mo.cy).toBeLessThan(0.3);
    expect(components(maskFromPrompt(synth, parsePrompt('two small discs', classes), 4))).toBe(2);
  });
  it('falls back to the given class, else zeros; Free gives zeros', () => {
    const cond = parsePrompt('small, on the left', classes);
    expect(maskFromPrompt(synth, cond, 1)).toEqual(new Uint8Array(W * H));
    expect(maskFromPrompt(synth, cond, 1, 'Disc')).toEqual(sampleMask(synth, 'Disc', 1, { count: 1, size: 'small', shape: 'any', orientation: 'any', placement: { x: 0.25, y: 0.5 } }));
    expect(maskFromPrompt(synth, parsePrompt('free', classes), 1)).toEqual(new Uint8Array(W * H));
  });
});

// ---- the library shipped with the MagneticTile model --------------------------------------------------------
const LIB_PATH = 'public/models/magtile-defect-64/mask_library.json';
describe('sampleMask on the shipped MagneticTile mask library', () => {
  const lib = parseMaskLibrary(JSON.parse(readFileSync(LIB_PATH, 'utf8')));
  const classes = ['Blowhole', 'Break', 'Crack', 'Fray', 'Uneven'];

  it('outputs 0/1 masks of the window size, areas never above the class maximum, small < large', () => {
    for (const cls of classes) {
      const st = shapeStats(lib, cls);
      expect(st.n).toBeGreaterThan(0);
      const small = seeds(12).map((s) => sampleMask(lib, cls, s, { size: 'small' }));
      const large = seeds(12).map((s) => sampleMask(lib, cls, s, { size: 'large' }));
      for (const m of [...small, ...large]) {
        expectBinary(m, lib.width * lib.height);
        expect(area(m)).toBeLessThanOrEqual(st.maxArea * 1.2 + 6);
      }
      expect(mean(small.map(area))).toBeLessThan(mean(large.map(area)));
    }
    expect(sampleMask(lib, 'Free', 1)).toEqual(new Uint8Array(lib.width * lib.height));
  });

  it('"horizontal" cracks lie closer to horizontal than vertical; two small blowholes are two blobs', () => {
    const horiz = seeds(12).filter((s) => Math.abs(moments(sampleMask(lib, 'Crack', s, { orientation: 'horizontal' }), lib.width).angle) < 45).length;
    expect(horiz).toBe(12);
    const cond = parsePrompt('two small blowholes at the top', ['Blowhole', 'Break', 'Crack', 'Fray', 'Uneven', 'Free']);
    const masks = seeds(12).map((s) => maskFromPrompt(lib, cond, s));
    expect(masks.filter((m) => components(m, lib.width, lib.height) >= 2).length).toBeGreaterThanOrEqual(9);
    for (const m of masks) expect(moments(m, lib.width).cy).toBeLessThan(0.45);
  });

  it('"at the top" keeps every shape in the top half, also when retries move the second one (1,000 seeds)', () => {
    const cond = parsePrompt('two small blowholes at the top', ['Blowhole', 'Break', 'Crack', 'Fray', 'Uneven', 'Free']);
    let worst = 1;
    for (const s of seeds(1000)) {
      const m = maskFromPrompt(lib, cond, s);
      let on = 0;
      let top = 0;
      m.forEach((v, i) => {
        if (v) {
          on++;
          if (i < (lib.width * lib.height) / 2) top++;
        }
      });
      worst = Math.min(worst, top / on);
    }
    expect(worst).toBeGreaterThan(0.9);
  });
});

describe('variedMask (generate --mask-draw varied)', () => {
  /** A class with one shape cut by the window (a band along the left border) and whole discs of three sizes. */
  const lib: MaskLibrary = {
    width: W,
    height: H,
    classes: {
      Mixed: [
        draw((x) => x < 20),
        ...[3, 5, 8].map((r) => draw((x, y) => (x - 32) ** 2 + (y - 32) ** 2 <= r * r)),
      ],
      Free: [],
    },
  };
  const touchesBorder = (m: Uint8Array) => {
    for (let i = 0; i < W; i++) if (m[i] || m[(H - 1) * W + i] || m[i * W] || m[i * W + W - 1]) return true;
    return false;
  };

  it('keeps a window-cut library draw exactly as drawn, and varies whole shapes (size third recorded)', () => {
    let kept = 0;
    let varied = 0;
    for (const s of seeds(60)) {
      const drawn = randomMask(lib, 'Mixed', deriveSeed(s, 0));
      const v = variedMask(lib, 'Mixed', s);
      expectBinary(v.mask);
      expect(variedMask(lib, 'Mixed', s)).toEqual(v); // deterministic
      if (touchesBorder(drawn)) {
        kept++;
        expect(v.size).toBeNull();
        expect(v.mask).toEqual(drawn);
      } else {
        varied++;
        expect(['small', 'medium', 'large']).toContain(v.size);
        // a whole shape is replaced by a whole one: a disc (at most the largest disc's area), never the cut band
        expect(area(v.mask)).toBeGreaterThan(0);
        expect(area(v.mask)).toBeLessThan(8 * 8 * 4);
        expect(components(v.mask)).toBe(1);
      }
    }
    expect(kept).toBeGreaterThan(5);
    expect(varied).toBeGreaterThan(25);
  });

  it('moves whole shapes off the centre and spreads their sizes over the whole shapes\' range', () => {
    const vs = seeds(90).map((s) => variedMask(lib, 'Mixed', s)).filter((v) => v.size !== null);
    const off = vs.filter((v) => Math.hypot(moments(v.mask).cx - 0.5, moments(v.mask).cy - 0.5) > 0.1).length;
    expect(off).toBeGreaterThan(vs.length / 2);
    const bySize = (z: string) => mean(vs.filter((v) => v.size === z).map((v) => area(v.mask)));
    expect(bySize('small')).toBeLessThan(bySize('medium'));
    expect(bySize('medium')).toBeLessThan(bySize('large'));
  });

  it('gives zeros for a class without shapes, and on the shipped library keeps every Uneven and Fray draw', () => {
    expect(variedMask(lib, 'Free', 1).mask).toEqual(new Uint8Array(W * H));
    const shipped = parseMaskLibrary(JSON.parse(readFileSync(LIB_PATH, 'utf8')));
    for (const cls of ['Uneven', 'Fray']) for (const s of seeds(40)) expect(variedMask(shipped, cls, s).size).toBeNull();
    expect(seeds(40).filter((s) => variedMask(shipped, 'Blowhole', s).size !== null).length).toBeGreaterThan(30);
  });

  it('over seeds 1-300 of the shipped library it varies 296 Blowhole, 79 Break and 8 Crack masks (the figures README and PLAN-masks.md give)', () => {
    const shipped = parseMaskLibrary(JSON.parse(readFileSync(LIB_PATH, 'utf8')));
    const varied = (cls: string) => Array.from({ length: 300 }, (_, i) => variedMask(shipped, cls, i + 1)).filter((v) => v.size !== null).length;
    expect(['Blowhole', 'Break', 'Crack', 'Fray', 'Uneven'].map(varied)).toEqual([296, 79, 8, 0, 0]);
  });
});
