/**
 * How visible the edge of a regenerated area is. A pasted patch whose brightness, texture or noise level does
 * not match the photo shows as a step where it meets the photo; a soft transition can move that step a few
 * pixels inwards without removing it. So the measure looks at every contour of the chessboard distance from the
 * edge, from the edge itself (pairs with one pixel outside the area and one on its edge) up to `depth` pixels
 * in: for each, the gradient energy (mean squared gray-level difference of the 4-neighbour pairs crossing the
 * contour) in the result against the same pairs in the photo. Pairs within `defectClearance` pixels of the
 * painted defect are left out: the defect's own edges are meant to be seen (and a generated defect's edge may
 * lie a pixel or two off the painted one). A seamless result keeps every ratio
 * near 1; the measure is the largest.
 */
import type { PhotoWindow } from '../model/protocol';

export interface SeamMeasure {
  /** ratio per contour: index 0 = across the area's edge, d = between distance d and d + 1 inside */
  contours: { pairs: number; energy: number; photoEnergy: number; ratio: number }[];
  /** the largest ratio over contours with at least minPairs pairs */
  worst: number;
  /** the photo's own gradient energy over all pairs outside the area (for scale) */
  photoEnergyElsewhere: number;
}

/**
 * Chessboard distance from the pixels outside `area` (0 there) into it (1 on its edge). Pixels beyond the image
 * count as outside when outsideKept, else as infinitely far (an area reaching the photo's border has no edge there).
 */
export function chessboardDepth(area: Uint8Array, w: number, h: number, outsideKept: boolean): Uint16Array {
  const far = 65535;
  const dist = Uint16Array.from(area, (v) => (v ? far : 0));
  const edge = outsideKept ? 0 : far;
  const relax = (i: number, x: number, y: number, dx: number, dy: number) => {
    const nx = x + dx, ny = y + dy;
    const d = nx < 0 || ny < 0 || nx >= w || ny >= h ? edge : (dist[ny * w + nx] as number);
    if (d < far && d + 1 < (dist[i] as number)) dist[i] = d + 1;
  };
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) if (area[y * w + x]) for (const [dx, dy] of [[-1, -1], [0, -1], [1, -1], [-1, 0]] as const) relax(y * w + x, x, y, dx, dy);
  for (let y = h - 1; y >= 0; y--)
    for (let x = w - 1; x >= 0; x--) if (area[y * w + x]) for (const [dx, dy] of [[1, 1], [0, 1], [-1, 1], [1, 0]] as const) relax(y * w + x, x, y, dx, dy);
  return dist;
}

/** `area` is 1 on regenerated pixels, `defect` on the painted ones; result and photo are 8-bit gray, w x h. */
export function seamMeasure(result: Uint8Array, photo: Uint8Array, area: Uint8Array, defect: Uint8Array, w: number, h: number, depth = 6, defectClearance = 2, minPairs = 50): SeamMeasure {
  const d = chessboardDepth(area, w, h, false);
  // near the defect: chessboard distance to a painted pixel of at most defectClearance
  const fromDefect = chessboardDepth(Uint8Array.from(defect, (v) => (v ? 0 : 1)), w, h, false);
  const near = Uint8Array.from(fromDefect, (v) => (v <= defectClearance ? 1 : 0));
  const acc = Array.from({ length: depth + 1 }, () => ({ pairs: 0, e: 0, ep: 0 }));
  let no = 0, eo = 0;
  const pair = (p: number, q: number) => {
    const dp = d[p] as number, dq = d[q] as number;
    if (dp === 0 && dq === 0) {
      const g = (photo[p] as number) - (photo[q] as number);
      no++;
      eo += g * g;
      return;
    }
    if (Math.abs(dp - dq) !== 1 || near[p] || near[q]) return;
    const level = Math.min(dp, dq);
    if (level > depth) return;
    const a = acc[level] as { pairs: number; e: number; ep: number };
    const g = (result[p] as number) - (result[q] as number), gp = (photo[p] as number) - (photo[q] as number);
    a.pairs++;
    a.e += g * g;
    a.ep += gp * gp;
  };
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      if (x + 1 < w) pair(p, p + 1);
      if (y + 1 < h) pair(p, p + w);
    }
  const contours = acc.map((a) => ({ pairs: a.pairs, energy: a.pairs ? a.e / a.pairs : 0, photoEnergy: a.pairs ? a.ep / a.pairs : 0, ratio: a.ep > 0 ? a.e / a.ep : a.e > 0 ? Infinity : 1 }));
  const worst = Math.max(1, ...contours.filter((c) => c.pairs >= minPairs).map((c) => c.ratio));
  return { contours, worst, photoEnergyElsewhere: no ? eo / no : 0 };
}

/**
 * Seams between tiles inside the regenerated area: the mean squared difference of 4-neighbour pairs inside the
 * area that straddle a window's edge, and of all pairs inside it (a jointly denoised tiling keeps the two alike).
 */
export function tileEdgeEnergy(pixels: Uint8Array, area: Uint8Array, windows: readonly PhotoWindow[], w: number, h: number): { edge: number; inside: number; edgePairs: number } {
  const edgeX = new Uint8Array(w + 1), edgeY = new Uint8Array(h + 1);
  for (const win of windows) {
    edgeX[win.x] = 1;
    edgeX[Math.min(w, win.x + win.size)] = 1;
    edgeY[win.y] = 1;
    edgeY[Math.min(h, win.y + win.size)] = 1;
  }
  let ne = 0, ee = 0, ni = 0, ei = 0;
  const pair = (p: number, q: number, onEdge: boolean) => {
    if (!area[q]) return;
    const d = ((pixels[p] as number) - (pixels[q] as number)) ** 2;
    ni++;
    ei += d;
    if (onEdge) {
      ne++;
      ee += d;
    }
  };
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      if (!area[p]) continue;
      if (x + 1 < w) pair(p, p + 1, edgeX[x + 1] === 1);
      if (y + 1 < h) pair(p, p + w, edgeY[y + 1] === 1);
    }
  return { edge: ne ? ee / ne : 0, inside: ni ? ei / ni : 0, edgePairs: ne };
}
