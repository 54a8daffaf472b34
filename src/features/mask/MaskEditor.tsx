import { useEffect, useRef, useState, type PointerEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useStudio, type MaskTool } from '../../state/store';
import { randomMaskIntoCanvas } from '../../engine';
import { canvasState, decodePhoto, MaskDoc } from './maskDoc';

const TOOLS: { id: MaskTool; label: string }[] = [
  { id: 'brush', label: 'Brush' },
  { id: 'eraser', label: 'Eraser' },
  { id: 'stroke', label: 'Line (cracks)' },
  { id: 'ellipse', label: 'Ellipse (pits)' },
];

function isTyping(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  return !!el && (el.tagName === 'INPUT' || el.tagName === 'SELECT' || el.tagName === 'TEXTAREA');
}

/**
 * Mask canvas over the model window or an uploaded defect-free photo. Brush, eraser, straight stroke and
 * ellipse tools with pointer events (mouse, pen, touch); [ and ] change the brush, X toggles the eraser,
 * Ctrl+Z / Ctrl+Shift+Z undo and redo. The mask is binary at the photo's (or window's) own resolution, so
 * it is exactly the exported segmentation label.
 */
export function MaskEditor() {
  const { canvas, update, model } = useStudio(useShallow((s) => ({ canvas: s.canvas, update: s.updateCanvas, model: s.model })));
  const ref = useRef<HTMLCanvasElement>(null);
  const drag = useRef<{ x: number; y: number; lastX: number; lastY: number } | null>(null);
  const [ghost, setGhost] = useState<{ x0: number; y0: number; x1: number; y1: number } | null>(null);
  const size = model?.manifest.image.width ?? 64;

  // A window-sized canvas follows the model's size when no photo is loaded.
  useEffect(() => {
    if (!canvasState.photo && (canvasState.doc.width !== size || canvasState.doc.height !== (model?.manifest.image.height ?? size))) {
      canvasState.doc = new MaskDoc(size, model?.manifest.image.height ?? size);
      update({}, true);
    }
  }, [size, model, update]);

  useEffect(() => {
    const c = ref.current;
    if (!c) return;
    const { doc, photo } = canvasState;
    c.width = doc.width;
    c.height = doc.height;
    const ctx = c.getContext('2d');
    if (!ctx) return;
    const img = ctx.createImageData(doc.width, doc.height);
    for (let i = 0; i < doc.data.length; i++) {
      const g = photo ? (photo.pixels[i] as number) : 128;
      const m = doc.data[i] ? 1 : 0;
      img.data[i * 4] = m ? Math.round(g * 0.45 + 255 * 0.55) : g;
      img.data[i * 4 + 1] = m ? Math.round(g * 0.45) : g;
      img.data[i * 4 + 2] = m ? Math.round(g * 0.45) : g;
      img.data[i * 4 + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    if (ghost) {
      ctx.strokeStyle = '#facc15';
      ctx.lineWidth = Math.max(1, doc.width / 200);
      if (canvas.tool === 'ellipse') {
        ctx.beginPath();
        ctx.ellipse((ghost.x0 + ghost.x1) / 2, (ghost.y0 + ghost.y1) / 2, Math.abs(ghost.x1 - ghost.x0) / 2, Math.abs(ghost.y1 - ghost.y0) / 2, 0, 0, Math.PI * 2);
        ctx.stroke();
      } else {
        ctx.beginPath();
        ctx.moveTo(ghost.x0, ghost.y0);
        ctx.lineTo(ghost.x1, ghost.y1);
        ctx.stroke();
      }
    }
  }, [canvas.rev, ghost, canvas.tool]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e.target)) return;
      const s = useStudio.getState();
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'z') {
        e.preventDefault();
        const ok = e.shiftKey ? canvasState.doc.redo() : canvasState.doc.undo();
        if (ok) s.updateCanvas({ maskOrigin: 'painted' }, true);
      } else if (e.key === '[') s.updateCanvas({ brush: Math.max(1, s.canvas.brush - 1) });
      else if (e.key === ']') s.updateCanvas({ brush: Math.min(64, s.canvas.brush + 1) });
      else if (e.key.toLowerCase() === 'x' && !e.ctrlKey && !e.metaKey) s.updateCanvas({ tool: s.canvas.tool === 'eraser' ? 'brush' : 'eraser' });
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const toPixel = (e: PointerEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    const { doc } = canvasState;
    return { x: ((e.clientX - r.left) / r.width) * doc.width - 0.5, y: ((e.clientY - r.top) / r.height) * doc.height - 0.5 };
  };
  const down = (e: PointerEvent<HTMLCanvasElement>) => {
    e.currentTarget.setPointerCapture(e.pointerId);
    const p = toPixel(e);
    drag.current = { x: p.x, y: p.y, lastX: p.x, lastY: p.y };
    canvasState.doc.checkpoint();
    if (canvas.tool === 'brush' || canvas.tool === 'eraser') {
      canvasState.doc.disc(p.x, p.y, canvas.brush / 2, canvas.tool === 'brush' ? 1 : 0);
      update({ useMask: true, maskOrigin: 'painted' }, true);
    }
  };
  const move = (e: PointerEvent<HTMLCanvasElement>) => {
    const d = drag.current;
    if (!d) return;
    const p = toPixel(e);
    if (canvas.tool === 'brush' || canvas.tool === 'eraser') {
      canvasState.doc.line(d.lastX, d.lastY, p.x, p.y, canvas.brush / 2, canvas.tool === 'brush' ? 1 : 0);
      d.lastX = p.x;
      d.lastY = p.y;
      update({}, true);
    } else setGhost({ x0: d.x, y0: d.y, x1: p.x, y1: p.y });
  };
  const up = (e: PointerEvent<HTMLCanvasElement>) => {
    const d = drag.current;
    drag.current = null;
    setGhost(null);
    if (!d) return;
    const p = toPixel(e);
    if (canvas.tool === 'stroke') canvasState.doc.line(d.x, d.y, p.x, p.y, canvas.brush / 2, 1);
    else if (canvas.tool === 'ellipse') canvasState.doc.ellipse(d.x, d.y, p.x, p.y, 1);
    update({ useMask: true, maskOrigin: 'painted' }, true);
  };

  const onPhoto = async (file: File | undefined) => {
    if (!file) return;
    try {
      const photo = await decodePhoto(file);
      if (canvasState.photo) URL.revokeObjectURL(canvasState.photo.url);
      canvasState.photo = photo;
      canvasState.doc = new MaskDoc(photo.width, photo.height);
      // The brush starts in proportion to the photo (a region of any size is tiled, so nothing caps it but the slider).
      update({ photoName: photo.name, useMask: true, brush: Math.max(3, Math.min(64, Math.round(photo.width / 60))) }, true);
    } catch (err) {
      useStudio.getState().setNotice({ kind: 'error', text: (err as Error).message });
    }
  };
  const dropPhoto = () => {
    if (canvasState.photo) URL.revokeObjectURL(canvasState.photo.url);
    canvasState.photo = null;
    canvasState.doc = new MaskDoc(size, model?.manifest.image.height ?? size);
    update({ photoName: null }, true);
  };

  const doc = canvasState.doc;
  const scale = Math.min(320 / doc.width, 320 / doc.height, 6);
  return (
    <section className="panel mask-editor" aria-label="Mask">
      <h2>Where the defect goes</h2>
      <div className="tools" role="toolbar" aria-label="Mask tools">
        {TOOLS.map((t) => (
          <button key={t.id} type="button" className={canvas.tool === t.id ? 'active small' : 'small'} aria-pressed={canvas.tool === t.id} onClick={() => update({ tool: t.id })}>
            {t.label}
          </button>
        ))}
      </div>
      <canvas ref={ref} className="pixelated mask-canvas" data-testid="mask-canvas" aria-label="Mask canvas: paint where the defect goes"
        style={{ width: doc.width * scale, height: doc.height * scale, touchAction: 'none' }}
        onPointerDown={down} onPointerMove={move} onPointerUp={up} onPointerCancel={up} />
      <label>
        Brush size {canvas.brush}px
        <input type="range" min={1} max={64} value={canvas.brush} onChange={(e) => update({ brush: Number(e.target.value) })} />
      </label>
      <div className="buttons wrap">
        <button type="button" className="small" onClick={randomMaskIntoCanvas}>Random mask</button>
        <button type="button" className="small" onClick={() => { canvasState.doc.clear(); update({}, true); }}>Clear</button>
        <button type="button" className="small" onClick={() => { if (canvasState.doc.undo()) update({}, true); }}>Undo</button>
        <button type="button" className="small" onClick={() => { if (canvasState.doc.redo()) update({}, true); }}>Redo</button>
        <label className="check"><input type="checkbox" checked={canvas.useMask} onChange={(e) => update({ useMask: e.target.checked })} /> Use this mask</label>
      </div>
      <div className="buttons wrap">
        <label className="file">
          Base photo
          <input type="file" accept="image/png,image/jpeg" aria-label="Base photo" onChange={(e) => { void onPhoto(e.target.files?.[0]); e.target.value = ''; }} />
        </label>
        {canvas.photoName && <button type="button" className="small" onClick={dropPhoto}>Remove photo</button>}
      </div>
      {canvas.photoName && (
        <label>
          Context margin {canvas.margin}px
          <input type="range" min={1} max={16} value={canvas.margin} onChange={(e) => update({ margin: Number(e.target.value) })} />
        </label>
      )}
      <small>
        {canvas.photoName
          ? `Photo ${canvas.photoName} (${doc.width}×${doc.height}): paint defects of any size. Small regions get a ${size}×${size} window each, a larger one overlapping ${size}×${size} windows generated together; only the painted region plus the margin is regenerated, fading into the photo.`
          : canvas.useMask
            ? `Painting on a ${doc.width}×${doc.height} window: the painted mask is used for every image of the batch.`
            : 'No mask in use: each image gets a random real mask shape of its class.'}
        {' '}Keys: [ ] brush size · X eraser · Ctrl+Z / Ctrl+Shift+Z.
      </small>
    </section>
  );
}
