import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Cross-origin isolation (COOP/COEP) makes SharedArrayBuffer available, so onnxruntime-web's WASM backend
// can use every core. Served in dev, preview and therefore by `npm start`.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export default defineConfig({
  plugins: [react()],
  server: { headers: isolation, port: 5173, strictPort: false },
  preview: { headers: isolation, port: 4173, strictPort: false },
  // Pre-bundling onnxruntime-web makes the first dev load reload mid-way; its .wasm/.mjs files are then
  // served from this origin like any other asset (no CDN, no wasmPaths).
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 1024 },
});
