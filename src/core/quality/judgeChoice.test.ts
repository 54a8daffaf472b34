import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkOwnClassifier, chooseJudge, sameTrainingData, trainingData, type JudgeChoiceInput } from './judgeChoice';

const dir = 'public/models/magtile-classifier-64';
const manifestText = readFileSync(`${dir}/manifest.json`, 'utf8');
const referenceFeaturesText = readFileSync(`${dir}/reference_features.json`, 'utf8');
const onnx = readFileSync(`${dir}/model.onnx`);
const sha = createHash('sha256').update(onnx).digest('hex');
const manifest = JSON.parse(manifestText) as Record<string, unknown>;
const classes = manifest['classes'] as string[];
const model = { classes, image: { width: 64, height: 64 } };
const files = { manifestText, onnx, referenceFeaturesText };
const fast = JSON.parse(readFileSync('public/models/magtile-defect-64-fast/manifest.json', 'utf8')) as { training: Record<string, unknown> };
const teacher = JSON.parse(readFileSync('public/models/magtile-defect-64/manifest.json', 'utf8')) as { training: Record<string, unknown> };

describe('trainingData / sameTrainingData', () => {
  it('cuts an old manifest path to the dataset name; keeps only a 64-hex fingerprint', () => {
    expect(trainingData(manifest['training'])).toEqual({ name: 'magnetic-tile/train', fileListSha256: null });
    expect(trainingData(fast.training)).toEqual({ name: 'magnetic-tile/train', fileListSha256: fast.training['datasetFileListSha256'] });
    expect(trainingData({ dataset: 'C:\\data\\parts\\', datasetFileListSha256: 'not-hex' })).toEqual({ name: 'data/parts', fileListSha256: null });
    expect(trainingData(undefined)).toEqual({ name: null, fileListSha256: null });
  });

  it('the fingerprint decides when both have one, else the name; unnamed data matches nothing', () => {
    const a = { name: 'parts', fileListSha256: 'a'.repeat(64) };
    expect(sameTrainingData(a, { name: 'other', fileListSha256: 'a'.repeat(64) })).toBe(true);
    expect(sameTrainingData(a, { name: 'parts', fileListSha256: 'b'.repeat(64) })).toBe(false);
    expect(sameTrainingData(a, { name: 'parts', fileListSha256: null })).toBe(true);
    expect(sameTrainingData({ name: null, fileListSha256: null }, { name: null, fileListSha256: null })).toBe(false);
  });
});

describe('checkOwnClassifier', () => {
  it('accepts the shipped classifier as the judge of a model of its classes (any order)', () => {
    const r = checkOwnClassifier(files, { ...model, classes: [...classes].reverse() }, sha);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.value.manifest.id).toBe('magtile-classifier-64');
      expect(r.value.unreferenced).toEqual([]);
    }
  });

  const problem = (f: Parameters<typeof checkOwnClassifier>[0], m = model, s: string | null = sha) => {
    const r = checkOwnClassifier(f, m, s);
    return r.ok ? 'accepted' : r.problem;
  };

  it('names the missing files', () => {
    expect(problem({ manifestText })).toBe('classifier/model.onnx and classifier/reference_features.json are missing (a classifier needs manifest.json, model.onnx and reference_features.json in classifier/)');
    expect(problem({ onnx, referenceFeaturesText })).toMatch(/^classifier\/manifest\.json is missing/);
  });

  it('refuses a manifest that is not JSON or not a classifier manifest, naming the field', () => {
    expect(problem({ ...files, manifestText: '{' })).toBe('classifier/manifest.json is not valid JSON');
    expect(problem({ ...files, manifestText: JSON.stringify({ ...manifest, task: 'denoiser' }) })).toMatch(/field "task" is "denoiser"; accepted: "classifier"/);
  });

  it('refuses other classes, saying which differ', () => {
    const other = JSON.stringify({ ...manifest, classes: classes.map((c) => (c === 'Free' ? 'Good' : c)) });
    expect(problem({ ...files, manifestText: other })).toBe(
      "its classes (Blowhole, Break, Crack, Fray, Uneven, Good) are not the model's classes (Blowhole, Break, Crack, Fray, Uneven, Free): the classifier has Good that the model lacks, the model has Free that the classifier lacks; a model's judge must know exactly its classes",
    );
    expect(problem(files, { ...model, classes: [...classes, 'Scratch'] })).toMatch(/the classifier has none that the model lacks, the model has Scratch that the classifier lacks/);
  });

  it('refuses another window size, another ONNX file', () => {
    expect(problem(files, { ...model, image: { width: 128, height: 128 } })).toBe("it takes 64x64 windows, the model makes 128x128: a model's judge must take its windows");
    expect(problem(files, model, 'f'.repeat(64))).toBe(`classifier/model.onnx has sha256 ${'f'.repeat(64)}, but classifier/manifest.json says ${sha}`);
  });

  it('refuses reference features that do not parse or were made by another classifier', () => {
    const ref = JSON.parse(referenceFeaturesText) as Record<string, unknown>;
    expect(problem({ ...files, referenceFeaturesText: 'x' })).toBe('classifier/reference_features.json is not valid JSON');
    expect(problem({ ...files, referenceFeaturesText: JSON.stringify({ ...ref, format: 'x' }) })).toMatch(/^classifier\/reference_features\.json: "format" is "x"/);
    expect(problem({ ...files, referenceFeaturesText: JSON.stringify({ ...ref, classifierId: 'someone-else' }) })).toBe('classifier/reference_features.json was made by classifier "someone-else", not by "magtile-classifier-64" (its manifest\'s id)');
    expect(problem({ ...files, referenceFeaturesText: JSON.stringify({ ...ref, classifierSha256: '0'.repeat(64) }) })).toMatch(/was made by a classifier with sha256 0{64}, not by this one/);
    expect(problem({ ...files, referenceFeaturesText: JSON.stringify({ ...ref, classes: {} }) })).toBe("classifier/reference_features.json holds no features for any of the model's classes");
  });

  it('lists classes without reference features (no flags for them) but accepts', () => {
    const ref = JSON.parse(referenceFeaturesText) as { classes: Record<string, unknown> };
    const { Free: _free, ...rest } = ref.classes;
    const r = checkOwnClassifier({ ...files, referenceFeaturesText: JSON.stringify({ ...ref, classes: rest }) }, model, sha);
    expect(r.ok && r.value.unreferenced).toEqual(['Free']);
  });
});

describe('chooseJudge: every branch', () => {
  const base: JudgeChoiceInput = {
    modelId: 'my-parts',
    modelTraining: { dataset: 'parts', datasetFileListSha256: 'c'.repeat(64) },
    embeddedModel: false,
    own: null,
    embeddedClassifier: { id: 'magtile-classifier-64', training: manifest['training'] },
  };

  it('1. its own classifier, when it passed and loaded (even where the embedded one would do)', () => {
    expect(chooseJudge({ ...base, embeddedModel: true, own: { ok: true, classifierId: 'my-parts-classifier' } })).toEqual({
      kind: 'own', classifierId: 'my-parts-classifier', reason: 'my-parts carries its own evaluation classifier my-parts-classifier (classifier/ in its files)',
    });
  });

  it('2. a refused own classifier: no judge (not the embedded one), with the problem', () => {
    expect(chooseJudge({ ...base, modelTraining: fast.training, own: { ok: false, problem: 'its classes (A) are not the model\'s classes (B)' } })).toEqual({
      kind: 'none', reason: "the classifier my-parts carries was refused: its classes (A) are not the model's classes (B)",
    });
  });

  it('3. no own classifier and no embedded one configured: none', () => {
    expect(chooseJudge({ ...base, embeddedClassifier: null })).toEqual({ kind: 'none', reason: 'my-parts carries no classifier/ and no embedded evaluation classifier is configured' });
  });

  it('4. an embedded model: the embedded classifier', () => {
    expect(chooseJudge({ ...base, modelId: 'magtile-defect-64', modelTraining: teacher.training, embeddedModel: true })).toEqual({
      kind: 'embedded', classifierId: 'magtile-classifier-64', reason: 'magtile-defect-64 is an embedded model, trained on the data of the embedded classifier magtile-classifier-64',
    });
  });

  it("5. a user model trained on the embedded classifier's data (the fast model's record under a new id): the embedded classifier", () => {
    const c = chooseJudge({ ...base, modelId: 'my-fast', modelTraining: fast.training });
    expect(c).toMatchObject({ kind: 'embedded', classifierId: 'magtile-classifier-64' });
    expect(c.reason).toBe(`my-fast was trained on the embedded classifier magtile-classifier-64's data (dataset "magnetic-tile/train", file-list sha256 ${String(fast.training['datasetFileListSha256']).slice(0, 12)}…)`);
  });

  it('6. a user model of other data: none, naming both data sets', () => {
    expect(chooseJudge(base)).toEqual({
      kind: 'none',
      reason: `my-parts carries no classifier/ and was trained on dataset "parts", file-list sha256 ${'c'.repeat(12)}…, not on the embedded classifier magtile-classifier-64's data (dataset "magnetic-tile/train")`,
    });
    expect(chooseJudge({ ...base, modelTraining: {} }).reason).toMatch(/was trained on data its manifest does not name, not on/);
  });
});
