/**
 * The evaluation classifier's manifest.json (written by training/train_classifier.py), read the same way by the
 * Node loader (scripts/lib/classifier.ts) and the studio (the downstream check reads its split from it).
 *
 * heldOutGroups / trainGroups: the tile groups the classifier was validated on (never trained on) and trained
 * on. Absent in a manifest written before they were recorded: then nothing is known about the classifier's
 * split and an evaluation splits every folder by the rule (heldOut.ts).
 */
import { StudioError } from '../errors';

export interface ClassifierManifest {
  id: string;
  version: string;
  file: string;
  sha256: string;
  width: number;
  height: number;
  pixelRange: [number, number];
  inputName: string;
  logitsName: string;
  featuresName: string;
  classes: string[];
  featureDim: number;
  referenceFeatures: string;
  /** Tile groups of the classifier's validation side (sorted); null when the manifest does not record them. */
  heldOutGroups: string[] | null;
  /** Tile groups it was trained on (sorted); null when not recorded. */
  trainGroups: string[] | null;
}

function bad(field: string, problem: string): never {
  throw new StudioError('modelInvalid', `classifier manifest.json: field "${field}" ${problem}`);
}

function groupList(v: unknown, field: string): string[] | null {
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v) || !v.every((g) => typeof g === 'string' && g.length > 0)) bad(field, 'must be a list of non-empty tile-group names');
  return [...(v as string[])].sort();
}

export function parseClassifierManifest(raw: unknown): ClassifierManifest {
  if (typeof raw !== 'object' || raw === null) bad('(root)', 'must be an object');
  const m = raw as Record<string, unknown>;
  if (m['format'] !== 'defect-diffusion-model') bad('format', 'accepted: "defect-diffusion-model"');
  if (m['task'] !== 'classifier') bad('task', `is ${JSON.stringify(m['task'])}; accepted: "classifier" (a denoiser folder was given?)`);
  const image = m['image'] as Record<string, unknown> | undefined;
  if (!image || typeof image['width'] !== 'number' || typeof image['height'] !== 'number') bad('image', 'needs width and height');
  if (image['channels'] !== 1) bad('image.channels', 'accepted: 1');
  const range = image['pixelRange'] as [number, number] | undefined;
  if (!Array.isArray(range) || range.length !== 2) bad('image.pixelRange', 'must be [lo, hi]');
  const byRole = (list: unknown, role: string, field: string): string => {
    const e = Array.isArray(list) ? (list as Record<string, unknown>[]).find((x) => x['role'] === role) : undefined;
    if (!e || typeof e['name'] !== 'string') bad(field, `needs an entry with role "${role}"`);
    return e['name'] as string;
  };
  const classes = m['classes'];
  if (!Array.isArray(classes) || !classes.every((c) => typeof c === 'string')) bad('classes', 'must be a list of names');
  for (const k of ['id', 'version', 'file', 'sha256']) if (typeof m[k] !== 'string') bad(k, 'must be a string');
  if (typeof m['featureDim'] !== 'number') bad('featureDim', 'must be a number');
  const heldOutGroups = groupList(m['heldOutGroups'], 'heldOutGroups');
  const trainGroups = groupList(m['trainGroups'], 'trainGroups');
  const both = heldOutGroups && trainGroups ? heldOutGroups.filter((g) => trainGroups.includes(g)) : [];
  if (both.length) bad('heldOutGroups', `and trainGroups share ${both.slice(0, 3).join(', ')}; a group is on one side only`);
  return {
    id: m['id'] as string,
    version: m['version'] as string,
    file: m['file'] as string,
    sha256: m['sha256'] as string,
    width: image['width'] as number,
    height: image['height'] as number,
    pixelRange: [range[0], range[1]],
    inputName: byRole(m['inputs'], 'image', 'inputs'),
    logitsName: byRole(m['outputs'], 'logits', 'outputs'),
    featuresName: byRole(m['outputs'], 'features', 'outputs'),
    classes: classes as string[],
    featureDim: m['featureDim'] as number,
    referenceFeatures: typeof m['referenceFeatures'] === 'string' ? m['referenceFeatures'] : 'reference_features.json',
    heldOutGroups,
    trainGroups,
  };
}
