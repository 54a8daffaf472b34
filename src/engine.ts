/**
 * The app's single DiffusionClient and the actions the UI calls. Keeps the store in step with the worker.
 */
import { DiffusionClient } from './client/diffusionClient';
import { readUrlConfig, modelBaseUrl } from './config';
import type { GenerateRequest } from './core/protocol';
import { useStudio } from './state/store';

const urlConfig = readUrlConfig(typeof location === 'undefined' ? '' : location.search);
export const client = new DiffusionClient({ backend: urlConfig.backend, numThreads: urlConfig.numThreads });
if (urlConfig.debug) (globalThis as unknown as { ddsDebug: unknown }).ddsDebug = { client, store: useStudio };

export async function startEngine(): Promise<void> {
  const s = useStudio.getState();
  s.setStatus({ kind: 'loadingModel' });
  try {
    const info = await client.handshake();
    const model = await client.loadModel({ kind: 'url', baseUrl: modelBaseUrl(urlConfig.modelId) });
    useStudio.getState().setEngine(info, model);
    const settings = useStudio.getState().settings;
    if (!model.manifest.classes.includes(settings.className)) {
      const d = model.manifest.defaults;
      useStudio.getState().updateSettings({ className: model.manifest.classes[0] ?? '', sampler: d.sampler, steps: d.steps, guidance: d.guidance });
    }
    useStudio.getState().setStatus({ kind: 'ready' });
  } catch (e) {
    const err = e as Error;
    useStudio.getState().setStatus({ kind: 'error', code: err.name, message: err.message });
  }
}

export async function generateFromSettings(): Promise<void> {
  const { settings, model } = useStudio.getState();
  if (!model) return;
  const req: GenerateRequest = {
    className: settings.className,
    prompt: settings.prompt,
    seed: settings.seed,
    sampler: settings.sampler,
    steps: settings.steps,
    guidance: settings.guidance,
    eta: 0,
    timestepSpacing: model.manifest.defaults.timestepSpacing,
    clipSample: true,
    previewIntervalMs: 100,
  };
  const st = useStudio.getState();
  st.setStatus({ kind: 'generating', progress: null });
  const stepsSeen: number[] = [];
  try {
    const r = await client.generate(req, (p) => {
      stepsSeen.push(p.step);
      useStudio.getState().setStatus({ kind: 'generating', progress: p });
      if (p.preview) useStudio.getState().setPreview(grayToDataUrl(p.preview, model.manifest.image.width, model.manifest.image.height));
    });
    useStudio.getState().setResult({
      url: URL.createObjectURL(new Blob([r.png as Uint8Array<ArrayBuffer>], { type: 'image/png' })),
      maskUrl: URL.createObjectURL(new Blob([r.maskPng as Uint8Array<ArrayBuffer>], { type: 'image/png' })),
      provenance: r.provenance,
      progressSteps: stepsSeen,
    });
    useStudio.getState().setStatus({ kind: 'ready' });
  } catch (e) {
    const err = e as Error;
    if (err.name === 'aborted') useStudio.getState().setStatus({ kind: 'ready' });
    else useStudio.getState().setStatus({ kind: 'error', code: err.name, message: err.message });
  }
}

export function cancelGeneration(): void {
  void client.cancel();
}

/** A small preview as an object URL (drawn on an OffscreenCanvas-free 2D canvas). */
function grayToDataUrl(px: Uint8Array, w: number, h: number): string {
  const c = document.createElement('canvas');
  c.width = w;
  c.height = h;
  const ctx = c.getContext('2d');
  if (!ctx) return '';
  const img = ctx.createImageData(w, h);
  for (let i = 0; i < px.length; i++) {
    const v = px[i] as number;
    img.data[i * 4] = v;
    img.data[i * 4 + 1] = v;
    img.data[i * 4 + 2] = v;
    img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return c.toDataURL();
}
