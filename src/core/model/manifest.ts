/**
 * The model contract: manifest.json beside each ONNX file (see shared docs/architecture.md and
 * training/export.py, which writes it). parseManifest validates untrusted JSON and names the bad field and
 * the accepted values; checkSessionAgainstManifest compares it with the ONNX session's real tensor names.
 */
import type { BetaSchedule, PredictionType, ScheduleConfig, TimestepSpacing } from '../diffusion/schedule';
import { SAMPLER_NAMES, type SamplerName } from '../diffusion/samplers';
import { StudioError } from '../errors';
import { nameProblem } from './names';
import { checkGuidanceInterval, type GuidanceInterval } from '../diffusion/guidance';

export const INPUT_ROLES = ['sample', 'timestep', 'classLabels', 'defectMask', 'knownImage', 'keepMask'] as const;
export type InputRole = (typeof INPUT_ROLES)[number];
export const REQUIRED_ROLES: readonly InputRole[] = ['sample', 'timestep', 'classLabels'];
const BETA_SCHEDULES: readonly BetaSchedule[] = ['linear', 'squaredcos_cap_v2'];
const PREDICTION_TYPES: readonly PredictionType[] = ['epsilon', 'v_prediction', 'sample'];
const SPACINGS: readonly TimestepSpacing[] = ['leading', 'trailing', 'linspace'];
const DTYPES = ['float32', 'int64'] as const;
export type TensorDtype = (typeof DTYPES)[number];

export interface TensorSpec {
  name: string;
  role: string;
  dtype: TensorDtype;
  shape: (number | string)[];
}

export interface ModelManifest {
  format: 'defect-diffusion-model';
  formatVersion: 1;
  task: 'denoiser';
  id: string;
  version: string;
  file: string;
  sha256: string;
  sizeBytes: number;
  image: { width: number; height: number; channels: 1 | 3; pixelRange: [number, number]; pixelScale: number };
  schedule: ScheduleConfig;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  classes: string[];
  nullClassIndex: number;
  conditions: { defectMask: boolean; inpainting: boolean };
  defaults: {
    sampler: SamplerName;
    steps: number;
    guidance: number;
    timestepSpacing: TimestepSpacing;
    /** Optional: guidance only at noise levels in (low, high] (core/guidance.ts); absent = every step. */
    guidanceInterval?: GuidanceInterval;
  };
  training: { citation: string; [key: string]: unknown };
  /** Present for a distilled few-step student (training/distill.py); absent for a teacher-style denoiser. */
  distillation?: Distillation;
}

/**
 * A student distilled from a guided teacher. Guidance is built into its weights, so it is sampled at
 * guidance 1 with one batch-1 call per step (sampler "consistency"); previewSteps is the studio's fast preview.
 */
export interface Distillation {
  teacher: { id: string; version: string; sha256: string };
  /** The teacher's guidance scale and sampler that the student's targets came from. */
  guidanceBakedIn: number;
  teacherSampler: { sampler: SamplerName; steps: number; timestepSpacing: TimestepSpacing; guidanceInterval?: GuidanceInterval };
  /** Network evaluations per window of the studio's fast preview (fewer than defaults.steps). */
  previewSteps: number;
  method: string;
}

type Json = unknown;

function fail(field: string, problem: string): never {
  throw new StudioError('modelInvalid', `manifest.json: field "${field}" ${problem}`);
}
function obj(v: Json, field: string): Record<string, Json> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(field, `must be an object, got ${describe(v)}`);
  return v as Record<string, Json>;
}
function describe(v: Json): string {
  if (v === undefined) return 'nothing (missing)';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `${typeof v} ${JSON.stringify(v)?.slice(0, 40)}`;
}
function str(v: Json, field: string): string {
  if (typeof v !== 'string' || v.length === 0) fail(field, `must be a non-empty string, got ${describe(v)}`);
  return v;
}
function num(v: Json, field: string, opts: { int?: boolean; min?: number; max?: number } = {}): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(field, `must be a number, got ${describe(v)}`);
  if (opts.int && !Number.isInteger(v)) fail(field, `must be an integer, got ${v}`);
  if (opts.min !== undefined && v < opts.min) fail(field, `must be >= ${opts.min}, got ${v}`);
  if (opts.max !== undefined && v > opts.max) fail(field, `must be <= ${opts.max}, got ${v}`);
  return v;
}
function oneOf<T extends string | number>(v: Json, field: string, accepted: readonly T[]): T {
  if (!accepted.includes(v as T)) fail(field, `is ${describe(v)}; accepted values: ${accepted.map((a) => JSON.stringify(a)).join(', ')}`);
  return v as T;
}
function bool(v: Json, field: string): boolean {
  if (typeof v !== 'boolean') fail(field, `must be true or false, got ${describe(v)}`);
  return v;
}

function tensorSpecs(v: Json, field: string): TensorSpec[] {
  if (!Array.isArray(v) || v.length === 0) fail(field, `must be a non-empty array of {name, role, dtype, shape}, got ${describe(v)}`);
  return v.map((t, i) => {
    const o = obj(t, `${field}[${i}]`);
    const shape = o['shape'];
    if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'string' || (typeof d === 'number' && Number.isInteger(d) && d > 0)))
      fail(`${field}[${i}].shape`, `must be an array of positive integers or axis names, got ${describe(shape)}`);
    return {
      name: str(o['name'], `${field}[${i}].name`),
      role: str(o['role'], `${field}[${i}].role`),
      dtype: oneOf(o['dtype'], `${field}[${i}].dtype`, DTYPES),
      shape: shape as (number | string)[],
    };
  });
}

export function parseManifest(raw: Json): ModelManifest {
  const m = obj(raw, '(root)');
  oneOf(m['format'], 'format', ['defect-diffusion-model'] as const);
  oneOf(m['formatVersion'], 'formatVersion', [1] as const);
  oneOf(m['task'], 'task', ['denoiser'] as const);
  const id = str(m['id'], 'id');
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) fail('id', `must be 1-64 characters of letters, digits, ".", "_" or "-", got ${JSON.stringify(id)}`);
  const sha256 = str(m['sha256'], 'sha256');
  if (!/^[0-9a-f]{64}$/.test(sha256)) fail('sha256', 'must be 64 lowercase hex digits (the ONNX file\'s SHA-256)');

  const im = obj(m['image'], 'image');
  const pr = im['pixelRange'];
  if (!Array.isArray(pr) || pr.length !== 2 || typeof pr[0] !== 'number' || typeof pr[1] !== 'number' || !(pr[0] < pr[1]))
    fail('image.pixelRange', `must be [low, high] with low < high, got ${describe(pr)}`);
  const image = {
    width: num(im['width'], 'image.width', { int: true, min: 8, max: 1024 }),
    height: num(im['height'], 'image.height', { int: true, min: 8, max: 1024 }),
    channels: oneOf(im['channels'], 'image.channels', [1, 3] as const),
    pixelRange: [pr[0], pr[1]] as [number, number],
    pixelScale: num(im['pixelScale'], 'image.pixelScale', { min: 1e-6 }),
  };

  const sc = obj(m['schedule'], 'schedule');
  const schedule: ScheduleConfig = {
    numTrainTimesteps: num(sc['numTrainTimesteps'], 'schedule.numTrainTimesteps', { int: true, min: 2, max: 100000 }),
    betaSchedule: oneOf(sc['betaSchedule'], 'schedule.betaSchedule', BETA_SCHEDULES),
    betaStart: num(sc['betaStart'] ?? 0.0001, 'schedule.betaStart', { min: 0, max: 1 }),
    betaEnd: num(sc['betaEnd'] ?? 0.02, 'schedule.betaEnd', { min: 0, max: 1 }),
    predictionType: oneOf(sc['predictionType'], 'schedule.predictionType', PREDICTION_TYPES),
  };

  const inputs = tensorSpecs(m['inputs'], 'inputs');
  const outputs = tensorSpecs(m['outputs'], 'outputs');
  inputs.forEach((t, i) => oneOf(t.role, `inputs[${i}].role`, INPUT_ROLES));
  for (const role of REQUIRED_ROLES)
    if (!inputs.some((t) => t.role === role)) fail('inputs', `has no input with role "${role}"; required roles: ${REQUIRED_ROLES.join(', ')}`);
  const roles = inputs.map((t) => t.role);
  const dup = roles.find((r, i) => roles.indexOf(r) !== i);
  if (dup) fail('inputs', `lists role "${dup}" twice`);
  if (!outputs.some((t) => t.role === 'modelOutput')) fail('outputs', 'has no output with role "modelOutput"');

  const classesRaw = m['classes'];
  if (!Array.isArray(classesRaw) || classesRaw.length === 0 || !classesRaw.every((c) => typeof c === 'string' && c.length > 0))
    fail('classes', `must be a non-empty array of class names, got ${describe(classesRaw)}`);
  const classes = classesRaw as string[];
  if (new Set(classes).size !== classes.length) fail('classes', 'has a duplicate name');
  classes.forEach((c, i) => {
    const why = nameProblem(c);
    if (why) fail(`classes[${i}]`, `${why} (class names become folder names in exports)`);
  });
  const nullClassIndex = num(m['nullClassIndex'], 'nullClassIndex', { int: true, min: 0 });
  if (nullClassIndex < classes.length) fail('nullClassIndex', `must not be the index of a real class (0..${classes.length - 1}); the default layout uses ${classes.length}`);

  const cond = obj(m['conditions'], 'conditions');
  const conditions = { defectMask: bool(cond['defectMask'], 'conditions.defectMask'), inpainting: bool(cond['inpainting'], 'conditions.inpainting') };
  if (conditions.defectMask && !roles.includes('defectMask')) fail('conditions.defectMask', 'is true but no input has role "defectMask"');
  if (conditions.inpainting && !(roles.includes('knownImage') && roles.includes('keepMask')))
    fail('conditions.inpainting', 'is true but the inputs lack role "knownImage" or "keepMask"');

  const d = obj(m['defaults'], 'defaults');
  const defaults = {
    sampler: oneOf(d['sampler'], 'defaults.sampler', SAMPLER_NAMES),
    steps: num(d['steps'], 'defaults.steps', { int: true, min: 1, max: schedule.numTrainTimesteps }),
    guidance: num(d['guidance'], 'defaults.guidance', { min: 0, max: 30 }),
    timestepSpacing: oneOf(d['timestepSpacing'], 'defaults.timestepSpacing', SPACINGS),
  };
  const gi = d['guidanceInterval'];
  const why = gi === undefined ? null : checkGuidanceInterval(gi);
  if (why) fail('defaults.guidanceInterval', `${why} (noise levels sigma; or omit it to guide every step)`);
  const tr = obj(m['training'], 'training');
  str(tr['citation'], 'training.citation');
  const distillation = m['distillation'] === undefined ? undefined : parseDistillation(m['distillation'], defaults, schedule.numTrainTimesteps);

  return {
    format: 'defect-diffusion-model',
    formatVersion: 1,
    task: 'denoiser',
    id,
    version: str(m['version'], 'version'),
    file: str(m['file'], 'file'),
    sha256,
    sizeBytes: num(m['sizeBytes'], 'sizeBytes', { int: true, min: 1 }),
    image,
    schedule,
    inputs,
    outputs,
    classes,
    nullClassIndex,
    conditions,
    defaults: gi === undefined ? defaults : { ...defaults, guidanceInterval: gi as GuidanceInterval },
    training: tr as ModelManifest['training'],
    ...(distillation ? { distillation } : {}),
  };
}

function parseDistillation(v: Json, defaults: { sampler: SamplerName; steps: number; guidance: number }, numTrainTimesteps: number): Distillation {
  const d = obj(v, 'distillation');
  const t = obj(d['teacher'], 'distillation.teacher');
  const ts = obj(d['teacherSampler'], 'distillation.teacherSampler');
  const teacherSha = str(t['sha256'], 'distillation.teacher.sha256');
  if (!/^[0-9a-f]{64}$/.test(teacherSha)) fail('distillation.teacher.sha256', 'must be 64 lowercase hex digits (the teacher ONNX file\'s SHA-256)');
  if (defaults.sampler !== 'consistency') fail('defaults.sampler', `must be "consistency" for a distilled model (manifest has "distillation"), got ${describe(defaults.sampler)}`);
  if (defaults.guidance !== 1) fail('defaults.guidance', `must be 1 for a distilled model: its guidance is built into the weights (distillation.guidanceBakedIn), got ${defaults.guidance}`);
  const gi = ts['guidanceInterval'];
  const why = gi === undefined ? null : checkGuidanceInterval(gi);
  if (why) fail('distillation.teacherSampler.guidanceInterval', why);
  const teacherSampler = {
    sampler: oneOf(ts['sampler'], 'distillation.teacherSampler.sampler', SAMPLER_NAMES),
    steps: num(ts['steps'], 'distillation.teacherSampler.steps', { int: true, min: 1, max: numTrainTimesteps }),
    timestepSpacing: oneOf(ts['timestepSpacing'], 'distillation.teacherSampler.timestepSpacing', SPACINGS),
  };
  return {
    teacher: { id: str(t['id'], 'distillation.teacher.id'), version: str(t['version'], 'distillation.teacher.version'), sha256: teacherSha },
    guidanceBakedIn: num(d['guidanceBakedIn'], 'distillation.guidanceBakedIn', { min: 0, max: 30 }),
    teacherSampler: gi === undefined ? teacherSampler : { ...teacherSampler, guidanceInterval: gi as GuidanceInterval },
    previewSteps: num(d['previewSteps'], 'distillation.previewSteps', { int: true, min: 1, max: defaults.steps }),
    method: str(d['method'], 'distillation.method'),
  };
}

/** Name of the tensor with a role, or undefined when the model does not take it. */
export function tensorName(m: ModelManifest, role: InputRole | 'modelOutput'): string | undefined {
  return (role === 'modelOutput' ? m.outputs : m.inputs).find((t) => t.role === role)?.name;
}

/** Compares the manifest with the ONNX session's real input/output names; throws naming each mismatch. */
export function checkSessionAgainstManifest(m: ModelManifest, sessionInputs: readonly string[], sessionOutputs: readonly string[]): void {
  const problems: string[] = [];
  for (const t of m.inputs)
    if (!sessionInputs.includes(t.name)) problems.push(`manifest input "${t.name}" (role ${t.role}) is not an input of the ONNX model`);
  for (const name of sessionInputs)
    if (!m.inputs.some((t) => t.name === name)) problems.push(`ONNX input "${name}" is not described in the manifest`);
  for (const t of m.outputs)
    if (!sessionOutputs.includes(t.name)) problems.push(`manifest output "${t.name}" is not an output of the ONNX model`);
  if (problems.length)
    throw new StudioError(
      'modelInvalid',
      `manifest.json does not match the ONNX file: ${problems.join('; ')}. ONNX inputs: ${sessionInputs.join(', ')}; outputs: ${sessionOutputs.join(', ')}`,
    );
}

export function checkSha256(m: ModelManifest, actualHex: string, byteLength: number): void {
  if (actualHex !== m.sha256)
    throw new StudioError(
      'modelInvalid',
      `the ONNX file's SHA-256 is ${actualHex} (${byteLength} bytes) but manifest.json says ${m.sha256} (${m.sizeBytes} bytes): the file is corrupt or belongs to another manifest`,
    );
}
