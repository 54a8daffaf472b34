/**
 * Reads a model .zip the way the studio's "Load model" does before it loads the network: the archive limits and
 * the files it takes (src/dataset/modelZip.ts), the manifest rules (src/core/model/manifest.ts), the refusal of an
 * embedded model's id (any id under public/models), the ONNX file's sha256, and the mask library. Prints the
 * model's id and classes.
 *
 *   npx tsx scripts/checkModelZip.ts <model.zip>
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkSha256, parseManifest } from '../src/core/model/manifest';
import { parseMaskLibrary } from '../src/core/formats/maskLibrary';
import { readModelZip } from '../src/dataset/modelZip';

const path = process.argv[2];
if (!path) {
  console.error('usage: npx tsx scripts/checkModelZip.ts <model.zip>');
  process.exit(2);
}
const modelsDir = fileURLToPath(new URL('../public/models', import.meta.url));
const embeddedIds = readdirSync(modelsDir)
  .map((d) => join(modelsDir, d, 'manifest.json'))
  .filter((p) => existsSync(p))
  .map((p) => (JSON.parse(readFileSync(p, 'utf8')) as { id: string }).id);
try {
  const files = readModelZip(new Uint8Array(readFileSync(path)), basename(path));
  if (!files.manifestText || !files.onnx) throw new Error(`${path}: a model zip needs manifest.json and an .onnx file`);
  const manifest = parseManifest(JSON.parse(files.manifestText));
  if (embeddedIds.includes(manifest.id)) throw new Error(`manifest.json has id "${manifest.id}", the id of an embedded model`);
  checkSha256(manifest, createHash('sha256').update(files.onnx).digest('hex'), files.onnx.length);
  const lib = files.maskLibraryText ? parseMaskLibrary(JSON.parse(files.maskLibraryText)) : null;
  console.log(JSON.stringify({ id: manifest.id, classes: manifest.classes, onnxBytes: files.onnx.length, maskLibrary: lib !== null }));
} catch (e) {
  console.error((e as Error).message);
  process.exit(1);
}
