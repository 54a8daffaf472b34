/**
 * The studio's side of src/core/quality/evaluateDataset.ts: its accepted items as evaluation samples, a chosen
 * folder of real images as RealImages (the same listing, groups and split as scripts/evaluate.ts), and the
 * rows the quality panel draws. Pure, so a test checks that the studio and `npm run evaluate` print the same
 * numbers (scripts/evaluate.test.ts).
 */
import type { DatasetItem } from '../../dataset/types';
import type { DatasetEvaluation, EvalSample } from '../../core/quality/evaluateDataset';
import { groupOf, parseGroupsCsv, type RealImage } from '../../core/quality/realWindows';

/**
 * Accepted items of the classifier's classes with quality flags: the features and class probabilities the
 * worker computed at generation on the item's judged window (a photo item: its first window). The worker does
 * not embed a photo item's background-only window, so its memorisation is "not judged" here. With
 * `classifierId`, only items judged by that classifier: features of another classifier do not compare with its
 * reference features.
 */
export function studioSamples(items: readonly DatasetItem[], classes: readonly string[], classifierId?: string): EvalSample[] {
  return items.flatMap((i) =>
    i.status === 'accepted' && i.quality && classes.includes(i.className) && (classifierId === undefined || i.quality.classifierId === classifierId)
      ? [{
          className: i.className,
          name: i.id,
          features: Float32Array.from(i.quality.features),
          predictedClass: i.quality.predictedClass,
          requestedProbability: i.quality.requestedProbability,
          region: i.provenance.basePhoto && i.provenance.windows?.length ? ('photo window' as const) : ('window' as const),
          ...(i.provenance.basePhoto && i.provenance.windows?.length ? { backgroundFeatures: null } : {}),
        }]
      : [],
  );
}

export interface RealFolder {
  /** in the classifier's class order, then by file name (as scripts/evaluate.ts lists a folder) */
  images: RealImage[];
  /** folder-relative path of each image's <stem>_mask.png, when there is one */
  masks: Map<string, string>;
  splitBy: 'tile_group' | 'file';
  skipped: string[];
}

/**
 * A chosen folder (folder-relative paths, e.g. "real/Crack/x.jpg") as RealImages: <class>/<image>.png|jpg,
 * optional <stem>_mask.png, optional manifest_extra.csv (columns image, tile_group) anywhere in it. Images
 * in folders that are not one of `known` are listed as skipped.
 */
export function realFolderImages(paths: readonly string[], known: readonly string[], groupsCsv: string | null): RealFolder {
  const groups = groupsCsv === null ? null : parseGroupsCsv(groupsCsv);
  const set = new Set(paths);
  const images: RealImage[] = [];
  const masks = new Map<string, string>();
  const skipped: string[] = [];
  for (const path of paths) {
    if (!/\.(png|jpe?g)$/i.test(path) || /_mask\.png$/i.test(path)) continue;
    const parts = path.split('/');
    const cls = parts[parts.length - 2] ?? '';
    const name = parts[parts.length - 1] as string;
    if (!known.includes(cls)) {
      skipped.push(`${path} (class folder "${cls}" is not one of ${known.join(', ')})`);
      continue;
    }
    const mask = path.replace(/\.(png|jpe?g)$/i, '_mask.png');
    if (set.has(mask)) masks.set(path, mask);
    images.push({ className: cls, name, path, group: groupOf(cls, name, groups), test: false });
  }
  images.sort((a, b) => known.indexOf(a.className) - known.indexOf(b.className) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { images, masks, splitBy: groups?.size ? 'tile_group' : 'file', skipped };
}

export interface QualityRow {
  cls: string;
  n: number;
  target: number;
  consistency: number | null;
  kid: { mean: number; std: number } | null;
  /** KID between two halves of the real reference set at the same subset size: what "as close as real" looks like */
  realKid: { mean: number; std: number } | null;
  diversity: number | null;
  realDiversity: number | null;
}

const num = (v: number): number | null => (Number.isFinite(v) ? v : null);

/** The quality panel's table and plots, from the evaluation. */
export function qualityRows(ev: DatasetEvaluation, targets: Readonly<Record<string, number>>): QualityRow[] {
  return ev.classes.map((cls) => {
    const c = ev.perClass[cls];
    return {
      cls,
      n: c?.n ?? 0,
      target: targets[cls] ?? 0,
      consistency: c?.n ? c.labelConsistency : null,
      kid: c?.kid ? { mean: c.kid.mean, std: c.kid.std } : null,
      realKid: c?.realKid ? { mean: c.realKid.mean, std: c.realKid.std } : null,
      diversity: c ? num(c.diversity.synthetic) : null,
      realDiversity: c ? num(c.diversity.real) : null,
    };
  });
}
