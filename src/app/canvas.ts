/**
 * Canvas and prompt actions: a random real mask shape of the class into the mask canvas, and the prompt turned
 * into a class and a mask the user can see and edit. No state of its own: the pixels are canvasState's
 * (src/app/maskDoc.ts), what the UI shows of them the store's CanvasState, the mask shapes the active model's.
 */
import { maskFromPrompt, sampleMask } from '../core/formats/maskLibrary';
import { parsePrompt } from '../core/model/prompt';
import { randomSeed, S } from './common';
import { canvasState } from './maskDoc';
import { activeMaskLibrary } from './models';

/** Puts a window-sized mask into the canvas: as is on a window, or centred at (px, py) on a photo. */
function placeMask(win: Uint8Array, size: number, px: number, py: number): void {
  const doc = canvasState.doc;
  if (doc.width === size && doc.height === size) {
    doc.set(win);
    return;
  }
  const out = new Uint8Array(doc.width * doc.height);
  const x0 = Math.min(doc.width - size, Math.max(0, Math.round(px * doc.width - size / 2)));
  const y0 = Math.min(doc.height - size, Math.max(0, Math.round(py * doc.height - size / 2)));
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) out[(y0 + y) * doc.width + x0 + x] = win[y * size + x] as number;
  doc.set(out);
}

/** A random real mask shape of the chosen class into the canvas (editable before generating). */
export function randomMaskIntoCanvas(): void {
  const { model, settings } = S();
  const lib = activeMaskLibrary();
  if (!model || !lib) {
    S().setNotice({ kind: 'error', text: 'this model ships no mask library (mask_library.json), so random masks are not available' });
    return;
  }
  const size = model.manifest.image.width;
  const m = sampleMask(lib, settings.className, randomSeed());
  if (!m.some((v) => v)) {
    S().setNotice({ kind: 'info', text: `${settings.className} has no mask shapes (a defect-free class): the mask stays empty` });
    return;
  }
  placeMask(m, size, 0.5, 0.5);
  S().updateCanvas({ useMask: true, maskOrigin: 'library' }, true);
}

/** Turns the prompt into a class and a mask the user can see and edit; returns the parser's notes. */
export function applyPrompt(): string[] {
  const { model, settings } = S();
  if (!model) return [];
  const lib = activeMaskLibrary();
  const cond = parsePrompt(settings.prompt, model.manifest.classes, { currentClass: settings.className });
  const cls = cond.className ?? settings.className;
  if (cond.className) S().updateSettings({ className: cond.className });
  if (lib && cls) {
    const size = model.manifest.image.width;
    const m = maskFromPrompt(lib, { ...cond, placement: canvasState.photo ? null : cond.placement }, randomSeed(), cls);
    if (m.some((v) => v)) {
      // On a photo the prompt's placement chooses where the window goes; inside it the shape is centred.
      placeMask(m, size, cond.placement?.x ?? 0.5, cond.placement?.y ?? 0.5);
      S().updateCanvas({ useMask: true, maskOrigin: 'prompt' }, true);
    }
  }
  const summary = `${cls}: ${cond.count} × ${cond.size}${cond.shape !== 'any' ? ` ${cond.shape}` : ''}${cond.orientation !== 'any' ? `, ${cond.orientation}` : ''}${cond.placement ? `, at (${cond.placement.x.toFixed(2)}, ${cond.placement.y.toFixed(2)})` : ''}`;
  return [summary, ...cond.messages];
}
