/**
 * Which evaluation classifier judges a model: its quality numbers (label consistency, KID, diversity), its
 * per-image flags (inconsistent / memorised / outlier) and its downstream check all come from one classifier's
 * outputs, so a judge of other classes, or of other parts, must not be used.
 *
 * The rule (chooseJudge), in order:
 * 1. the model carries its own classifier (classifier/ in its folder or zip, written by `npm run train`): that one,
 *    if it passes checkOwnClassifier (its classes are the model's, its reference features parse and belong to
 *    it, its ONNX file is the one its manifest names) and its ONNX file loads; otherwise NO judge, with the
 *    problem named (the model itself still loads and generates);
 * 2. else the embedded classifier, but only for the embedded models, or for a model whose manifest's training
 *    record names the embedded classifier's training data (sameTrainingData);
 * 3. else no judge.
 * Pure: the worker feeds it what it read and loaded (workers/denoiser.worker.ts).
 */
import { parseClassifierManifest, type ClassifierManifest } from './classifierManifest';
import { parseReferenceFeatures, type ReferenceFeatures } from './features';
import type { OwnClassifierFiles } from '../model/modelFiles';

export type JudgeKind = 'own' | 'embedded' | 'none';

export type JudgeChoice =
  | { kind: 'own' | 'embedded'; classifierId: string; reason: string }
  | { kind: 'none'; reason: string };

/** What a manifest's `training` record says of the data (train_all.py: a dataset name and a file-list sha256). */
export interface TrainingData {
  /** the dataset's name; an old manifest's path is cut to its last two segments (".../magnetic-tile/train" -> "magnetic-tile/train") */
  name: string | null;
  fileListSha256: string | null;
}

export function trainingData(training: unknown): TrainingData {
  const t = (typeof training === 'object' && training !== null ? training : {}) as Record<string, unknown>;
  const ds = typeof t['dataset'] === 'string' ? t['dataset'].replace(/\\/g, '/').replace(/\/+$/, '') : '';
  const sha = t['datasetFileListSha256'];
  return {
    name: ds ? ds.split('/').filter((s) => s && s !== '.' && s !== '..').slice(-2).join('/') || null : null,
    fileListSha256: typeof sha === 'string' && /^[0-9a-f]{64}$/.test(sha) ? sha : null,
  };
}

/**
 * Whether two training records name the same data: by the file-list sha256 when both record one (then the names
 * do not matter), else by the dataset name (the shipped classifier's manifest predates the fingerprint).
 */
export function sameTrainingData(a: TrainingData, b: TrainingData): boolean {
  if (a.fileListSha256 && b.fileListSha256) return a.fileListSha256 === b.fileListSha256;
  return a.name !== null && a.name === b.name;
}

function describe(d: TrainingData): string {
  if (!d.name && !d.fileListSha256) return 'data its manifest does not name';
  return [d.name ? `dataset "${d.name}"` : '', d.fileListSha256 ? `file-list sha256 ${d.fileListSha256.slice(0, 12)}…` : ''].filter(Boolean).join(', ');
}

export interface OwnClassifierChecked {
  manifest: ClassifierManifest;
  reference: ReferenceFeatures;
  /** the model's classes that have no reference features (no per-image flags for them) */
  unreferenced: string[];
}

const list = (xs: readonly string[]) => (xs.length ? xs.join(', ') : 'none');

/**
 * Checks a model's own classifier files before its ONNX file is loaded (the loading is the runtime's): all three
 * present, its manifest valid, its classes exactly the model's, its window the model's, its ONNX file the one its
 * manifest names, its reference features valid, made by it, and holding features of at least one class.
 * `onnxSha256`: the sha256 of classifier/model.onnx, computed by the caller. Returns the parsed files, or the
 * problem in words (which file, what is wrong, what is accepted).
 */
export function checkOwnClassifier(
  files: OwnClassifierFiles<unknown>,
  model: { classes: readonly string[]; image: { width: number; height: number } },
  onnxSha256: string | null,
): { ok: true; value: OwnClassifierChecked } | { ok: false; problem: string } {
  const fail = (problem: string) => ({ ok: false as const, problem });
  const modelClasses = model.classes;
  const missing = [
    files.manifestText === undefined ? 'classifier/manifest.json' : '',
    files.onnx === undefined ? 'classifier/model.onnx' : '',
    files.referenceFeaturesText === undefined ? 'classifier/reference_features.json' : '',
  ].filter(Boolean);
  if (missing.length) return fail(`${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} missing (a classifier needs manifest.json, model.onnx and reference_features.json in classifier/)`);
  const json = (text: string, what: string): { v: unknown } | { problem: string } => {
    try {
      return { v: JSON.parse(text) as unknown };
    } catch {
      return { problem: `${what} is not valid JSON` };
    }
  };
  const m = json(files.manifestText as string, 'classifier/manifest.json');
  if ('problem' in m) return fail(m.problem);
  let manifest: ClassifierManifest;
  try {
    manifest = parseClassifierManifest(m.v);
  } catch (e) {
    return fail((e as Error).message);
  }
  const extra = manifest.classes.filter((c) => !modelClasses.includes(c));
  const lacking = modelClasses.filter((c) => !manifest.classes.includes(c));
  if (extra.length || lacking.length || manifest.classes.length !== modelClasses.length)
    return fail(`its classes (${list(manifest.classes)}) are not the model's classes (${list(modelClasses)}): the classifier has ${list(extra)} that the model lacks, the model has ${list(lacking)} that the classifier lacks; a model's judge must know exactly its classes`);
  if (manifest.width !== model.image.width || manifest.height !== model.image.height)
    return fail(`it takes ${manifest.width}x${manifest.height} windows, the model makes ${model.image.width}x${model.image.height}: a model's judge must take its windows`);
  if (onnxSha256 !== manifest.sha256) return fail(`classifier/model.onnx has sha256 ${onnxSha256 ?? '(not computed)'}, but classifier/manifest.json says ${manifest.sha256}`);
  const r = json(files.referenceFeaturesText as string, 'classifier/reference_features.json');
  if ('problem' in r) return fail(r.problem);
  let reference: ReferenceFeatures;
  try {
    reference = parseReferenceFeatures(r.v);
  } catch (e) {
    return fail(`classifier/${(e as Error).message}`);
  }
  if (reference.featureDim !== manifest.featureDim) return fail(`classifier/reference_features.json has featureDim ${reference.featureDim}, the classifier's manifest ${manifest.featureDim}`);
  if (reference.classifierId && reference.classifierId !== manifest.id) return fail(`classifier/reference_features.json was made by classifier "${reference.classifierId}", not by "${manifest.id}" (its manifest's id)`);
  if (reference.classifierSha256 && reference.classifierSha256 !== manifest.sha256) return fail(`classifier/reference_features.json was made by a classifier with sha256 ${reference.classifierSha256}, not by this one (${manifest.sha256})`);
  const unreferenced = modelClasses.filter((c) => !reference.classes[c]?.features.length);
  if (unreferenced.length === modelClasses.length) return fail('classifier/reference_features.json holds no features for any of the model\'s classes');
  return { ok: true, value: { manifest, reference, unreferenced } };
}

export interface JudgeChoiceInput {
  modelId: string;
  /** the model manifest's `training` record */
  modelTraining: unknown;
  /** one of the studio's embedded models (src/config.ts EMBEDDED_MODEL_IDS, loaded from public/models) */
  embeddedModel: boolean;
  /** the model's own classifier: null when it carries none; ok (checked and loaded) or the problem found */
  own: null | { ok: true; classifierId: string } | { ok: false; problem: string };
  /** the embedded classifier's id and its manifest's `training` record; null when the studio has none configured */
  embeddedClassifier: null | { id: string; training: unknown };
}

export function chooseJudge(input: JudgeChoiceInput): JudgeChoice {
  const { own, embeddedClassifier: emb } = input;
  if (own?.ok) return { kind: 'own', classifierId: own.classifierId, reason: `${input.modelId} carries its own evaluation classifier ${own.classifierId} (classifier/ in its files)` };
  if (own) return { kind: 'none', reason: `the classifier ${input.modelId} carries was refused: ${own.problem}` };
  if (!emb) return { kind: 'none', reason: `${input.modelId} carries no classifier/ and no embedded evaluation classifier is configured` };
  if (input.embeddedModel) return { kind: 'embedded', classifierId: emb.id, reason: `${input.modelId} is an embedded model, trained on the data of the embedded classifier ${emb.id}` };
  const mine = trainingData(input.modelTraining);
  const theirs = trainingData(emb.training);
  if (sameTrainingData(mine, theirs)) return { kind: 'embedded', classifierId: emb.id, reason: `${input.modelId} was trained on the embedded classifier ${emb.id}'s data (${describe(mine)})` };
  return { kind: 'none', reason: `${input.modelId} carries no classifier/ and was trained on ${describe(mine)}, not on the embedded classifier ${emb.id}'s data (${describe(theirs)})` };
}
