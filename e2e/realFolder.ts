import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The magnetic-tile dataset beside the clone (README "Judging a dataset from the command line"). */
export const DATA = '../shared/datasets/magnetic-tile';

/**
 * A small real folder for the studio's "Real images folder" input: perClass photos (+ masks) per class, spread
 * over each class folder so several tile groups are present, and the tile_group manifest.
 */
export function realFolder(perClass: number): string {
  const root = join(mkdtempSync(join(tmpdir(), 'dds-real-')), 'real');
  for (const cls of readdirSync(join(DATA, 'train'))) {
    mkdirSync(join(root, cls), { recursive: true });
    const imgs = readdirSync(join(DATA, 'train', cls)).filter((f) => f.endsWith('.jpg')).sort();
    for (let k = 0; k < perClass; k++) {
      const f = imgs[Math.floor((k * imgs.length) / perClass)] as string;
      copyFileSync(join(DATA, 'train', cls, f), join(root, cls, f));
      const m = f.replace('.jpg', '_mask.png');
      if (existsSync(join(DATA, 'train', cls, m))) copyFileSync(join(DATA, 'train', cls, m), join(root, cls, m));
    }
  }
  copyFileSync(join(DATA, 'manifest_extra.csv'), join(root, 'manifest_extra.csv'));
  return root;
}
