import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

// Cross-origin isolation (COOP/COEP) makes SharedArrayBuffer available, so onnxruntime-web's WASM backend
// can use every core. Served in dev, preview and therefore by `npm start`.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/**
 * Content-Security-Policy of the built app: everything from this origin, nothing inline, no eval. What the
 * studio needs beyond 'self': 'wasm-unsafe-eval' (onnxruntime-web compiles its .wasm), blob: workers (its WASM
 * threads may start from a blob URL), blob: and data: images (generated images, masks and photos are object
 * URLs; mask previews are data URLs; the empty favicon), blob: fetches (reading an object URL back). A meta tag
 * in the built index.html (so it holds wherever the dist/ folder is served) and the same policy as a header in
 * vite preview (which also covers the worker scripts, which a meta tag does not reach). Not in the dev server:
 * its React refresh preamble is an inline script.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "connect-src 'self' blob: data:",
  "img-src 'self' blob: data:",
  "style-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

const cspMeta: Plugin = {
  name: 'dds-csp-meta',
  apply: 'build',
  transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: CONTENT_SECURITY_POLICY }, injectTo: 'head-prepend' }],
};

export default defineConfig({
  plugins: [react(), cspMeta],
  server: { headers: isolation, port: 5173, strictPort: false },
  preview: { headers: { ...isolation, 'Content-Security-Policy': CONTENT_SECURITY_POLICY }, port: 4173, strictPort: false },
  // Pre-bundling onnxruntime-web makes the first dev load reload mid-way; its .wasm/.mjs files are then
  // served from this origin like any other asset (no CDN, no wasmPaths).
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 1024 },
});
