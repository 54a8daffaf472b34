import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { ItemView } from '../../state/store';
import { maskOutline, thumbnailCrop, type Box } from '../../state/reviewModel';

export type Zoom = 'fit' | '1:1' | 'grid' | 'defect';

/** The mask's pixels (non-zero = defect), read from its PNG URL. */
function useMaskPixels(url: string, w: number, h: number): Uint8Array | null {
  const [px, setPx] = useState<{ url: string; px: Uint8Array } | null>(null);
  useEffect(() => {
    let live = true;
    const img = new Image();
    img.onload = () => {
      const c = document.createElement('canvas');
      c.width = w;
      c.height = h;
      const ctx = c.getContext('2d', { willReadFrequently: true });
      if (!ctx || !live) return;
      ctx.drawImage(img, 0, 0);
      const d = ctx.getImageData(0, 0, w, h).data;
      const out = new Uint8Array(w * h);
      for (let i = 0; i < out.length; i++) out[i] = (d[i * 4] as number) > 127 ? 1 : 0;
      setPx({ url, px: out });
    };
    img.src = url;
    return () => {
      live = false;
    };
  }, [url, w, h]);
  return px?.url === url ? px.px : null;
}

/**
 * The selected image, large: fit (the largest whole-number zoom that fits, so every pixel is the same size),
 * 1:1 (screen pixels), pixel grid (fit with a line between pixels), and for a photo item its defect region.
 * The mask is drawn as an outline on the pixel edges around the defect (toggle), never as a fill over it.
 */
export function ImageViewer({ item, zoom, outline }: { item: ItemView; zoom: Zoom; outline: boolean }) {
  const frame = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [box, setBox] = useState(320);
  useLayoutEffect(() => {
    const el = frame.current;
    if (!el) return;
    const measure = () => setBox(Math.max(64, Math.floor(Math.min(el.clientWidth, el.clientHeight))));
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const mask = useMaskPixels(item.maskUrl, item.width, item.height);
  const segs = useMemo(() => (mask ? maskOutline(mask, item.width, item.height) : []), [mask, item.width, item.height]);

  // The region of the image shown and its scale (screen px per image px).
  const { region, scale } = useMemo((): { region: Box; scale: number } => {
    const whole = { x: 0, y: 0, w: item.width, h: item.height };
    const fitScale = (r: Box) => {
      const s = box / Math.max(r.w, r.h);
      return s >= 1 ? Math.floor(s) : s;
    };
    if (zoom === 'defect') {
      const r = thumbnailCrop(item);
      return { region: r, scale: fitScale(r) };
    }
    if (zoom === '1:1') {
      // A photo larger than the frame: the frame-sized part around its defect.
      const c = thumbnailCrop(item);
      const side = Math.min(box, item.width, item.height);
      const at = (c0: number, cw: number, max: number) => Math.max(0, Math.min(max - side, Math.round(c0 + cw / 2 - side / 2)));
      const r = item.width <= box && item.height <= box ? whole : { x: at(c.x, c.w, item.width), y: at(c.y, c.h, item.height), w: Math.min(side, item.width), h: Math.min(side, item.height) };
      return { region: r, scale: 1 };
    }
    return { region: whole, scale: fitScale(whole) };
  }, [zoom, box, item]);
  const vw = Math.round(region.w * scale);
  const vh = Math.round(region.h * scale);

  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.round(vw * dpr);
    c.height = Math.round(vh * dpr);
    const ctx = c.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, vw, vh);
    const X = (x: number) => Math.round((x - region.x) * scale) + 0.5;
    const Y = (y: number) => Math.round((y - region.y) * scale) + 0.5;
    if (zoom === 'grid' && scale >= 4) {
      ctx.strokeStyle = 'rgba(0, 0, 0, 0.35)';
      ctx.lineWidth = 1;
      ctx.beginPath();
      for (let x = region.x; x <= region.x + region.w; x++) { ctx.moveTo(X(x), 0); ctx.lineTo(X(x), vh); }
      for (let y = region.y; y <= region.y + region.h; y++) { ctx.moveTo(0, Y(y)); ctx.lineTo(vw, Y(y)); }
      ctx.stroke();
    }
    if (outline && segs.length) {
      ctx.beginPath();
      for (const [x0, y0, x1, y1] of segs) {
        if (Math.max(x0, x1) < region.x || Math.min(x0, x1) > region.x + region.w || Math.max(y0, y1) < region.y || Math.min(y0, y1) > region.y + region.h) continue;
        ctx.moveTo(X(x0), Y(y0));
        ctx.lineTo(X(x1), Y(y1));
      }
      // A dark halo under a bright line stays visible on light and dark tiles alike.
      ctx.lineCap = 'square';
      ctx.strokeStyle = 'rgba(0, 0, 0, 0.6)';
      ctx.lineWidth = scale >= 3 ? 3 : 2;
      ctx.stroke();
      ctx.strokeStyle = '#ff3df5';
      ctx.lineWidth = scale >= 3 ? 1.5 : 1;
      ctx.stroke();
    }
  }, [segs, outline, zoom, region, scale, vw, vh]);

  return (
    <div className="viewer-frame" ref={frame}>
      <div className="viewer" style={{ width: vw, height: vh }}>
        <img className={scale >= 1 ? 'pixelated' : ''} src={item.url} alt={`Selected: ${item.className} seed ${item.provenance.seed}`} data-testid="detail-image"
          style={{ width: item.width * scale, height: item.height * scale, left: -region.x * scale, top: -region.y * scale }} />
        <canvas ref={canvas} className="viewer-overlay" aria-hidden="true" style={{ width: vw, height: vh }} />
      </div>
    </div>
  );
}
