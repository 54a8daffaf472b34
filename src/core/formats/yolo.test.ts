import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Rng } from '../diffusion/rng';
import { decodeRuns, parseMaskLibrary } from './maskLibrary';
import { decodePartMask, parsePartMaskLibrary } from './partMasks';
import { maskPolygons, parseYoloLabel, rasterisePolygons, yoloDataYaml, yoloLabel } from './yolo';

/** The label file read back and filled at pixel centres. */
function roundTrip(mask: Uint8Array, w: number, h: number): Uint8Array {
  return rasterisePolygons(parseYoloLabel(yoloLabel(mask, w, h, 3), w, h).map((o) => o.polygon), w, h);
}

/** Pixels where a and b differ, split into those on a region boundary (a 4-neighbour differs in the mask) and the rest. */
function differences(mask: Uint8Array, back: Uint8Array, w: number, h: number): { boundary: number; elsewhere: number } {
  let boundary = 0, elsewhere = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (mask[i] === back[i]) continue;
      const edge = [[1, 0], [-1, 0], [0, 1], [0, -1]].some(([dx, dy]) => {
        const qx = x + (dx as number), qy = y + (dy as number);
        return qx >= 0 && qy >= 0 && qx < w && qy < h && mask[qy * w + qx] !== mask[i];
      });
      if (edge) boundary++;
      else elsewhere++;
    }
  return { boundary, elsewhere };
}

/** Number of 8-connected regions, counted independently of yolo.ts. */
function regions8(mask: Uint8Array, w: number, h: number): number {
  const seen = new Uint8Array(mask.length);
  let n = 0;
  for (let s = 0; s < mask.length; s++) {
    if (!mask[s] || seen[s]) continue;
    n++;
    const q = [s];
    seen[s] = 1;
    while (q.length) {
      const p = q.pop() as number;
      const px = p % w, py = Math.floor(p / w);
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const x = px + dx, y = py + dy;
          if (x < 0 || y < 0 || x >= w || y >= h) continue;
          if (mask[y * w + x] && !seen[y * w + x]) {
            seen[y * w + x] = 1;
            q.push(y * w + x);
          }
        }
    }
  }
  return n;
}

function fromRows(rows: string[]): { mask: Uint8Array; w: number; h: number } {
  const h = rows.length, w = (rows[0] as string).length;
  return { mask: Uint8Array.from(rows.join(''), (ch) => (ch === '#' ? 1 : 0)), w, h };
}

function expectExact(mask: Uint8Array, w: number, h: number): void {
  const back = roundTrip(mask, w, h);
  const d = differences(mask, back, w, h);
  // The tracing is exact: not even boundary pixels differ (the tolerance the format allows is not needed).
  expect(d).toEqual({ boundary: 0, elsewhere: 0 });
  expect(yoloLabel(mask, w, h, 0).split('\n').filter(Boolean)).toHaveLength(regions8(mask, w, h));
}

describe('YOLO segmentation labels', () => {
  it('an empty mask gives an empty file; a one-pixel region a 4-corner square', () => {
    expect(yoloLabel(new Uint8Array(12), 4, 3, 0)).toBe('');
    const one = new Uint8Array(12);
    one[1 * 4 + 2] = 1;
    const label = yoloLabel(one, 4, 3, 2);
    expect(label).toBe(`2 ${[3 / 4, 1 / 3, 2 / 4, 1 / 3, 2 / 4, 2 / 3, 3 / 4, 2 / 3].map((v) => v.toFixed(6)).join(' ')}\n`);
    expectExact(one, 4, 3);
  });

  it('drops corners on straight runs: a filled rectangle is 4 points, an L 6', () => {
    const rect = fromRows(['......', '.####.', '.####.', '......']);
    expect(maskPolygons(rect.mask, rect.w, rect.h)).toEqual([[1, 1, 1, 3, 5, 3, 5, 1]]);
    const l = fromRows(['#...', '#...', '###.']);
    expect((maskPolygons(l.mask, l.w, l.h)[0] as number[]).length / 2).toBe(6);
    expectExact(l.mask, l.w, l.h);
  });

  it('regions touching the image border: coordinates reach 0 and 1 and stay inside', () => {
    const full = new Uint8Array(5 * 4).fill(1);
    expect(yoloLabel(full, 5, 4, 0)).toBe('0 0.000000 0.000000 0.000000 1.000000 1.000000 1.000000 1.000000 0.000000\n');
    const corners = fromRows(['#..#', '....', '#..#']);
    expectExact(corners.mask, corners.w, corners.h);
    for (const line of yoloLabel(corners.mask, corners.w, corners.h, 0).trim().split('\n'))
      for (const v of line.split(' ').slice(1).map(Number)) expect(v >= 0 && v <= 1).toBe(true);
  });

  it('diagonal-only connectivity: pixels touching at a corner are one region, its outline pinched, not crossed', () => {
    const diag = fromRows(['#...', '.#..', '..#.', '...#']);
    expect(maskPolygons(diag.mask, diag.w, diag.h)).toHaveLength(1);
    expectExact(diag.mask, diag.w, diag.h);
    const x = fromRows(['#.#', '.#.', '#.#']);
    expect(maskPolygons(x.mask, x.w, x.h)).toHaveLength(1);
    expectExact(x.mask, x.w, x.h);
    // A ring closed only by diagonal steps encloses a hole that is a separate background area.
    const diamond = fromRows(['..#..', '.#.#.', '#...#', '.#.#.', '..#..']);
    expect(maskPolygons(diamond.mask, diamond.w, diamond.h)).toHaveLength(1);
    expectExact(diamond.mask, diamond.w, diamond.h);
  });

  it('holes are cut in: a ring, a ring with a region inside it, nested holes, a hole touching the outside at a corner', () => {
    const cases = [
      ['#####', '#...#', '#...#', '#####'],
      ['#######', '#.....#', '#.###.#', '#.#.#.#', '#.###.#', '#.....#', '#######'],
      ['########', '#..#...#', '#..#.#.#', '####...#', '#.#.####', '#...#..#', '########'],
      // the hole's top-left pixel touches the outside diagonally: a zero-length cut
      ['.####', '#...#', '#...#', '#####'],
      // two holes in one column: the lower one's cut ends on the upper one
      ['#####', '#...#', '#####', '#...#', '#####'],
    ];
    for (const rows of cases) {
      const m = fromRows(rows);
      expectExact(m.mask, m.w, m.h);
    }
    // The ring is one polygon (the hole is not a second object) and its hole is not filled.
    const ring = fromRows(cases[0] as string[]);
    expect(maskPolygons(ring.mask, ring.w, ring.h)).toHaveLength(1);
    expect(roundTrip(ring.mask, ring.w, ring.h)[1 * 5 + 2]).toBe(0);
  });

  it('random masks (every mix of pinches, holes, islands in holes) round-trip exactly', () => {
    const rng = new Rng(11);
    for (let k = 0; k < 400; k++) {
      const w = 3 + (rng.nextUint32() % 12), h = 3 + (rng.nextUint32() % 12);
      const density = 0.3 + (rng.nextUint32() % 50) / 100;
      const mask = Uint8Array.from({ length: w * h }, () => (rng.nextUint32() / 2 ** 32 < density ? 1 : 0));
      expectExact(mask, w, h);
    }
  });

  it('real defect shapes from the shipped mask library round-trip exactly (every mask of every class)', () => {
    const lib = parseMaskLibrary(JSON.parse(readFileSync('public/models/magtile-defect-64/mask_library.json', 'utf8')));
    let n = 0;
    for (const list of Object.values(lib.classes))
      for (const runs of list) {
        expectExact(decodeRuns(runs, lib.width * lib.height), lib.width, lib.height);
        n++;
      }
    expect(n).toBeGreaterThan(50);
  });

  it('photo-sized masks: real whole-part masks and a 240x289 mask with several regions and holes', () => {
    const parts = parsePartMaskLibrary(JSON.parse(readFileSync('public/models/magtile-defect-64/part_masks.json', 'utf8')));
    for (const [cls, list] of Object.entries(parts.classes))
      for (const m of list.slice(0, 12)) {
        const g = decodePartMask(m);
        const back = roundTrip(g.pixels, g.width, g.height);
        expect(differences(g.pixels, back, g.width, g.height), `${cls} ${g.width}x${g.height}`).toEqual({ boundary: 0, elsewhere: 0 });
      }
    const w = 240, h = 289;
    const mask = new Uint8Array(w * h);
    const rng = new Rng(7);
    // blobs, a thin diagonal crack, a ring with a speck inside, speckle noise
    for (let k = 0; k < 6; k++) {
      const cx = rng.nextUint32() % w, cy = rng.nextUint32() % h, r = 3 + (rng.nextUint32() % 20);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if ((x - cx) ** 2 + ((y - cy) * 1.3) ** 2 < r * r) mask[y * w + x] = 1;
    }
    for (let t = 0; t < 200; t++) mask[Math.floor(20 + t * 1.2) * w + 30 + Math.floor(t * 0.9)] = 1;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const d = Math.hypot(x - 170, y - 220);
        if (d > 25 && d < 31) mask[y * w + x] = 1;
      }
    mask[220 * w + 170] = 1;
    for (let k = 0; k < 300; k++) mask[rng.nextUint32() % (w * h)] = 1;
    expect(regions8(mask, w, h)).toBeGreaterThan(50);
    expectExact(mask, w, h);
  });

  it('refuses bad input, saying what is accepted', () => {
    expect(() => yoloLabel(new Uint8Array(5), 2, 2, 0)).toThrow(/5 pixels but 2x2 = 4/);
    expect(() => yoloLabel(new Uint8Array(4), 2, 2, -1)).toThrow(/accepted: a whole number >= 0/);
    expect(() => parseYoloLabel('0 0.1 0.1 0.2 0.2\n', 10, 10)).toThrow(/line 1 has 4 coordinates.*accepted/);
    expect(() => parseYoloLabel('x 0.1 0.1 0.2 0.2 0.3 0.3', 10, 10)).toThrow(/not a class index/);
    expect(() => parseYoloLabel('0 0.1 0.1 0.2 1.2 0.3 0.3', 10, 10)).toThrow(/outside 0\.\.1/);
  });

  it('data.yaml: root, train and val for a folder of images, names in the model\'s order, quoted', () => {
    const y = yoloDataYaml(['Blowhole', 'Break', 'yes', 'a: b']);
    expect(y).toContain("path: ''");
    expect(y).toMatch(/^train: images$/m);
    expect(y).toMatch(/^val: images$/m);
    expect(y).toContain('names:\n  0: "Blowhole"\n  1: "Break"\n  2: "yes"\n  3: "a: b"\n');
    expect(y).toMatch(/^# .*pixel-exact.*traced outlines/m);
    expect(() => yoloDataYaml([])).toThrow(/at least one class/);
  });
});
