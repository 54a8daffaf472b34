import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkSessionAgainstManifest, checkSha256, parseManifest } from './manifest';

const good = JSON.parse(readFileSync('public/models/magtile-defect-64/manifest.json', 'utf8')) as Record<string, unknown>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const clone = () => JSON.parse(JSON.stringify(good)) as any;

describe('parseManifest', () => {
  it('accepts the embedded default model manifest', () => {
    const m = parseManifest(good);
    expect(m.classes).toContain('Crack');
    expect(m.nullClassIndex).toBe(m.classes.length);
    expect(m.schedule.numTrainTimesteps).toBe(1000);
    expect(m.training.citation).toMatch(/Huang/);
  });

  it.each([
    ['schedule.predictionType', (m: any) => (m.schedule.predictionType = 'eps'), /schedule\.predictionType.*"epsilon", "v_prediction", "sample"/],
    ['schedule.betaSchedule', (m: any) => (m.schedule.betaSchedule = 'cosine'), /schedule\.betaSchedule.*accepted values: "linear", "squaredcos_cap_v2"/],
    ['sha256', (m: any) => (m.sha256 = 'xyz'), /"sha256" must be 64 lowercase hex/],
    ['image.width', (m: any) => delete m.image.width, /"image\.width" must be a number, got nothing \(missing\)/],
    ['classes', (m: any) => (m.classes = []), /"classes" must be a non-empty array/],
    ['nullClassIndex', (m: any) => (m.nullClassIndex = 2), /"nullClassIndex" must not be the index of a real class/],
    ['inputs role', (m: any) => (m.inputs[0].role = 'noise'), /inputs\[0\]\.role.*accepted values: "sample", "timestep"/],
    ['missing required input', (m: any) => (m.inputs = m.inputs.filter((t: any) => t.role !== 'timestep')), /no input with role "timestep"/],
    ['inpainting without inputs', (m: any) => (m.inputs = m.inputs.filter((t: any) => t.role !== 'keepMask')), /conditions\.inpainting/],
    ['citation', (m: any) => (m.training.citation = ''), /training\.citation/],
    ['class name with a path', (m: any) => (m.classes[1] = '../../evil'), /"classes\[1\]" must not contain a path separator.*folder names/],
    ['class name with a control character', (m: any) => (m.classes[0] = 'Crack\u0007'), /"classes\[0\]" must not contain control characters/],
    ['guidance interval', (m: any) => (m.defaults.guidanceInterval = [5, 1]), /"defaults\.guidanceInterval" must satisfy 0 <= low < high, got \[5, 1\].*omit it/],
    ['guidance interval shape', (m: any) => (m.defaults.guidanceInterval = '0.3-5'), /"defaults\.guidanceInterval" must be two finite numbers/],
  ])('rejects a bad %s with a message naming the field and accepted values', (_name, mutate, message) => {
    const m = clone();
    mutate(m);
    expect(() => parseManifest(m)).toThrowError(message);
    try {
      parseManifest(m);
    } catch (e) {
      expect((e as Error).name).toBe('modelInvalid');
    }
  });

  it('reads an optional defaults.guidanceInterval; absent means guidance at every step', () => {
    const m = clone();
    m.defaults.guidanceInterval = [0.28, 5.42];
    expect(parseManifest(m).defaults.guidanceInterval).toEqual([0.28, 5.42]);
    delete m.defaults.guidanceInterval;
    expect(parseManifest(m).defaults.guidanceInterval).toBeUndefined();
  });

  describe('distillation (a few-step student)', () => {
    const student = () => {
      const m = clone();
      m.defaults = { sampler: 'consistency', steps: 4, guidance: 1, timestepSpacing: 'trailing' };
      m.distillation = {
        teacher: { id: 'magtile-defect-64', version: '1.0.0+step16272', sha256: 'e'.repeat(64) },
        guidanceBakedIn: 1.5,
        teacherSampler: { sampler: 'dpmpp2m', steps: 20, timestepSpacing: 'linspace', guidanceInterval: [0.28, 5.42] },
        previewSteps: 1,
        method: 'trajectory-endpoint',
      };
      return m;
    };
    it('reads the teacher, the guidance built in and the preview step count', () => {
      const d = parseManifest(student()).distillation;
      expect(d?.guidanceBakedIn).toBe(1.5);
      expect(d?.teacherSampler).toEqual({ sampler: 'dpmpp2m', steps: 20, timestepSpacing: 'linspace', guidanceInterval: [0.28, 5.42] });
      expect(d?.previewSteps).toBe(1);
      expect(parseManifest(good).distillation).toBeUndefined();
    });
    it.each([
      ['a guided default', (m: any) => (m.defaults.guidance = 1.5), /"defaults\.guidance" must be 1 for a distilled model.*got 1\.5/],
      ['a teacher sampler as default', (m: any) => (m.defaults.sampler = 'dpmpp2m'), /"defaults\.sampler" must be "consistency" for a distilled model/],
      ['a preview slower than the default', (m: any) => (m.distillation.previewSteps = 8), /"distillation\.previewSteps" must be <= 4, got 8/],
      ['a bad teacher hash', (m: any) => (m.distillation.teacher.sha256 = 'abc'), /"distillation\.teacher\.sha256" must be 64 lowercase hex/],
      ['no method', (m: any) => delete m.distillation.method, /"distillation\.method" must be a non-empty string/],
    ])('refuses %s', (_name, mutate, message) => {
      const m = student();
      mutate(m);
      expect(() => parseManifest(m)).toThrowError(message);
    });
  });

  it('rejects non-objects', () => {
    expect(() => parseManifest('hello')).toThrowError(/must be an object/);
    expect(() => parseManifest(null)).toThrowError(/must be an object/);
  });
});

describe('checkSessionAgainstManifest', () => {
  const m = parseManifest(good);
  const names = m.inputs.map((t) => t.name);
  it('accepts matching names', () => {
    expect(() => checkSessionAgainstManifest(m, names, ['model_output'])).not.toThrow();
  });
  it('names a missing input, an undeclared input and a missing output', () => {
    const bad = names.filter((n) => n !== 'keep_mask').concat('extra');
    expect(() => checkSessionAgainstManifest(m, bad, ['out'])).toThrowError(
      /manifest input "keep_mask" \(role keepMask\) is not an input of the ONNX model; ONNX input "extra" is not described in the manifest; manifest output "model_output" is not an output/,
    );
  });
});

describe('checkSha256', () => {
  const m = parseManifest(good);
  it('refuses a file whose hash differs, stating both', () => {
    expect(() => checkSha256(m, '0'.repeat(64), 10)).toThrowError(/SHA-256 is 0{64} \(10 bytes\) but manifest.json says/);
    expect(() => checkSha256(m, m.sha256, m.sizeBytes)).not.toThrow();
  });
});
