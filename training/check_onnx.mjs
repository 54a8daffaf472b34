// Runs an ONNX file with onnxruntime-node on feeds from a JSON file and writes every output as JSON.
// Used by training/ddstudio/onnx_check.py (Debian has no Python onnxruntime).
// usage: node training/check_onnx.mjs model.onnx feeds.json out.json
import { readFileSync, writeFileSync } from 'node:fs';
import ort from 'onnxruntime-node';

const [modelPath, feedsPath, outPath] = process.argv.slice(2);
if (!modelPath || !feedsPath || !outPath) {
  console.error('usage: node training/check_onnx.mjs model.onnx feeds.json out.json');
  process.exit(2);
}
const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1 });
const raw = JSON.parse(readFileSync(feedsPath, 'utf8'));
const feeds = {};
for (const [name, t] of Object.entries(raw)) {
  const data = t.dtype === 'int64' ? BigInt64Array.from(t.data.map((v) => BigInt(v))) : Float32Array.from(t.data);
  feeds[name] = new ort.Tensor(t.dtype, data, t.dims);
}
const results = await session.run(feeds);
const out = {};
for (const [name, t] of Object.entries(results)) out[name] = { dims: t.dims, data: Array.from(t.data, Number) };
writeFileSync(outPath, JSON.stringify(out));
