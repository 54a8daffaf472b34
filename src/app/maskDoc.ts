/**
 * The mask being painted and the optional base photo. Pixel buffers live here, outside the zustand store
 * (house style: large pixel buffers stay out of the store); the store only holds a revision number and a
 * description (CanvasState) so components re-render when they change. `canvasState` is the one owned object:
 * the mask editor (src/features/mask/) paints into it, the app's canvas and queue actions read it.
 */
import { decodeImage } from '../core/formats/image';
import { checkPhotoSize, declaredImageSize } from '../core/model/limits';

export interface BasePhoto {
  name: string;
  width: number;
  height: number;
  /** 8-bit gray pixels (what the model sees). */
  pixels: Uint8Array;
  /** object URL of the original file, for display */
  url: string;
}

const HISTORY = 50;

export class MaskDoc {
  data: Uint8Array;
  private past: Uint8Array[] = [];
  private future: Uint8Array[] = [];
  constructor(public width: number, public height: number) {
    this.data = new Uint8Array(width * height);
  }
  /** Call before a change (one stroke = one undo step). */
  checkpoint(): void {
    this.past.push(this.data.slice());
    if (this.past.length > HISTORY) this.past.shift();
    this.future = [];
  }
  undo(): boolean {
    const prev = this.past.pop();
    if (!prev) return false;
    this.future.push(this.data);
    this.data = prev;
    return true;
  }
  redo(): boolean {
    const next = this.future.pop();
    if (!next) return false;
    this.past.push(this.data);
    this.data = next;
    return true;
  }
  clear(): void {
    this.checkpoint();
    this.data.fill(0);
  }
  set(mask: Uint8Array): void {
    if (mask.length !== this.data.length) throw new RangeError(`mask has ${mask.length} pixels, the canvas ${this.width}x${this.height}`);
    this.checkpoint();
    this.data = Uint8Array.from(mask, (v) => (v ? 1 : 0));
  }
  isEmpty(): boolean {
    return !this.data.some((v) => v !== 0);
  }
  /** Filled disc of radius r at (cx, cy). */
  disc(cx: number, cy: number, r: number, value: 0 | 1): void {
    const r2 = r * r;
    for (let y = Math.max(0, Math.floor(cy - r)); y <= Math.min(this.height - 1, Math.ceil(cy + r)); y++)
      for (let x = Math.max(0, Math.floor(cx - r)); x <= Math.min(this.width - 1, Math.ceil(cx + r)); x++)
        if ((x - cx) ** 2 + (y - cy) ** 2 <= r2) this.data[y * this.width + x] = value;
  }
  /** A stroke of discs from a to b (brush drags, and the straight-line crack tool). */
  line(ax: number, ay: number, bx: number, by: number, r: number, value: 0 | 1): void {
    const n = Math.max(1, Math.ceil(Math.hypot(bx - ax, by - ay) / Math.max(0.5, r / 2)));
    for (let i = 0; i <= n; i++) this.disc(ax + ((bx - ax) * i) / n, ay + ((by - ay) * i) / n, r, value);
  }
  /** Filled axis-aligned ellipse inside the box (pits and blotches). */
  ellipse(x0: number, y0: number, x1: number, y1: number, value: 0 | 1): void {
    const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, rx = Math.max(0.5, Math.abs(x1 - x0) / 2), ry = Math.max(0.5, Math.abs(y1 - y0) / 2);
    for (let y = Math.max(0, Math.floor(cy - ry)); y <= Math.min(this.height - 1, Math.ceil(cy + ry)); y++)
      for (let x = Math.max(0, Math.floor(cx - rx)); x <= Math.min(this.width - 1, Math.ceil(cx + rx)); x++)
        if (((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1) this.data[y * this.width + x] = value;
  }
}

export const canvasState: { doc: MaskDoc; photo: BasePhoto | null } = { doc: new MaskDoc(64, 64), photo: null };

/** Decodes an uploaded PNG/JPEG to gray pixels; anything else gets a clear error. */
export async function decodePhoto(file: File): Promise<BasePhoto> {
  if (!/^image\/(png|jpeg)$/.test(file.type) && !/\.(png|jpe?g)$/i.test(file.name))
    throw new Error(`${file.name} is not a PNG or JPEG image (type "${file.type || 'unknown'}"); accepted: PNG or JPEG photos of a defect-free part`);
  // Decoded in JavaScript, not by the browser: the pixels (their sha256 is in the provenance) are then the same
  // in every browser and in scripts/reproduce.ts.
  const bytes = new Uint8Array(await file.arrayBuffer());
  // Refused from the header, before the pixels are decoded (a 20000 x 20000 PNG froze the page for seconds).
  const declared = declaredImageSize(bytes);
  if (declared) checkPhotoSize(file.name, declared.width, declared.height);
  const g = decodeImage(bytes, file.name);
  checkPhotoSize(file.name, g.width, g.height);
  return { name: file.name, width: g.width, height: g.height, pixels: g.pixels, url: URL.createObjectURL(file) };
}
