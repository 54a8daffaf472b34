import { useShallow } from 'zustand/react/shallow';
import { SAMPLER_NAMES, type SamplerName } from '../../core/diffusion/samplers';
import { MAX_SEED, MAX_STEPS } from '../../core/model/request';
import { useState } from 'react';
import { applyPrompt, cancelGeneration, enqueueFromSettings, removeQueuedJob } from '../../engine';
import { useStudio } from '../../state/store';
import { ModelPicker } from '../models/ModelPicker';
import { PhotoSetPanel } from './PhotoSetPanel';

const NO_CLASSES: readonly string[] = [];
const STUDENT_SAMPLERS: readonly SamplerName[] = ['consistency'];
const TEACHER_SAMPLERS: readonly SamplerName[] = SAMPLER_NAMES.filter((s) => s !== 'consistency');

export function GeneratePanel() {
  const { settings, update, classes, status, interval, distillation } = useStudio(
    useShallow((s) => ({
      settings: s.settings, update: s.updateSettings, classes: s.model?.manifest.classes ?? NO_CLASSES, status: s.status,
      interval: s.model?.manifest.defaults.guidanceInterval, distillation: s.model?.manifest.distillation,
    })),
  );
  // A distilled student is sampled by consistency sampling with its guidance built in; a teacher by the others.
  const samplers = distillation ? STUDENT_SAMPLERS : TEACHER_SAMPLERS;
  const [notes, setNotes] = useState<string[]>([]);
  // Until a model is loaded its defaults are not known: show no number rather than one that changes on load.
  const loaded = status.kind === 'ready' || status.kind === 'generating';
  return (
    <section className="panel controls" aria-label="Generation settings">
      <ModelPicker />
      <label>
        Defect class
        <select value={settings.className} onChange={(e) => update({ className: e.target.value })}>
          {classes.map((c) => (
            <option key={c} value={c}>{c}</option>
          ))}
        </select>
      </label>
      <label>
        Prompt
        <input type="text" value={settings.prompt} placeholder='e.g. "two small blowholes at the top"' maxLength={200}
          onChange={(e) => update({ prompt: e.target.value })} onKeyDown={(e) => { if (e.key === 'Enter') setNotes(applyPrompt()); }} />
      </label>
      <div className="buttons">
        <button type="button" className="small" onClick={() => setNotes(applyPrompt())} disabled={!settings.prompt.trim()}>Apply prompt</button>
      </div>
      {notes.length > 0 && (
        <ul className="prompt-notes" aria-label="Understood as" data-testid="prompt-notes">
          {notes.map((n) => <li key={n}>{n}</li>)}
        </ul>
      )}
      <div className="row">
        <label>
          Seed
          <input type="number" min={0} max={MAX_SEED} step={1} value={settings.seed} disabled={settings.randomSeed}
            onChange={(e) => update({ seed: Math.min(MAX_SEED, Math.max(0, Math.floor(Number(e.target.value) || 0))) })} />
        </label>
        <label className="check">
          <input type="checkbox" checked={settings.randomSeed} onChange={(e) => update({ randomSeed: e.target.checked })} /> Random each time
        </label>
      </div>
      <div className="row">
        <label>
          Sampler
          <select value={settings.sampler} onChange={(e) => update({ sampler: e.target.value as SamplerName })}>
            {samplers.map((s) => (
              <option key={s} value={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Steps
          <input type="number" min={1} max={MAX_STEPS} value={loaded ? settings.steps : ''} disabled={!loaded} placeholder={loaded ? undefined : 'loading…'}
            onChange={(e) => update({ steps: Math.min(MAX_STEPS, Math.max(1, Math.floor(Number(e.target.value) || 1))) })} />
        </label>
      </div>
      <div className="row">
        {distillation ? (
          <label title={`Distilled from ${distillation.teacher.id} sampled with guidance ${distillation.guidanceBakedIn}: the guidance is in the weights, so every step is one call.`}>
            Guidance
            <input type="text" value={`${distillation.guidanceBakedIn} (built in)`} disabled data-testid="guidance-built-in" />
          </label>
        ) : (
          <label title={interval ? `Applied at noise levels sigma in (${interval[0]}, ${interval[1]}] (the model's setting); the other steps use the class alone.` : 'Applied at every step.'}>
            Guidance
            <input type="number" min={0} max={30} step={0.5} value={loaded ? settings.guidance : ''} disabled={!loaded} placeholder={loaded ? undefined : 'loading…'}
              onChange={(e) => update({ guidance: Math.min(30, Math.max(0, Number(e.target.value) || 0)) })} />
          </label>
        )}
        <label>
          Batch size
          <input type="number" min={1} max={16} value={settings.batchSize}
            onChange={(e) => update({ batchSize: Math.min(16, Math.max(1, Math.floor(Number(e.target.value) || 1))) })} />
        </label>
      </div>
      <PhotoSetPanel />
    </section>
  );
}

/**
 * Generate / Fast preview / Cancel, the progress of the running image and the queue: always on screen under the
 * left column's tabs, whichever tab is open.
 */
export function GenerateActions() {
  const { settings, status, queue, distillation, defaultSteps } = useStudio(
    useShallow((s) => ({ settings: s.settings, status: s.status, queue: s.queue, distillation: s.model?.manifest.distillation, defaultSteps: s.model?.manifest.defaults.steps })),
  );
  const busy = status.kind === 'generating';
  const canGenerate = status.kind === 'ready' || status.kind === 'generating';
  const progress = status.kind === 'generating' ? status.progress : null;
  return (
    <section className="panel actions" aria-label="Generate">
      <div className="buttons">
        <button type="button" onClick={() => enqueueFromSettings()} disabled={!canGenerate || !settings.className}
          title={distillation ? `${settings.steps} network evaluation${settings.steps === 1 ? '' : 's'} per window` : undefined}>Generate</button>
        {distillation && (
          <button type="button" onClick={() => enqueueFromSettings({ steps: distillation.previewSteps })} disabled={!canGenerate || !settings.className}
            title={`A quick look: ${distillation.previewSteps} network evaluation${distillation.previewSteps === 1 ? '' : 's'} per window instead of ${defaultSteps ?? settings.steps}; softer than the full-quality default`}>
            Fast preview ({distillation.previewSteps} eval.)
          </button>
        )}
        <button type="button" onClick={cancelGeneration} disabled={!busy}>Cancel</button>
      </div>
      <div className="progress">
        <progress role="progressbar" aria-label="Generation progress" max={progress?.totalSteps ?? 1} value={progress?.step ?? 0}
          aria-valuenow={progress?.step ?? 0} aria-valuemax={progress?.totalSteps ?? 1} />
        <span data-testid="progress-text">
          {progress ? `step ${progress.step}/${progress.totalSteps} · ETA ${(progress.etaMs / 1000).toFixed(1)} s` : busy ? 'starting…' : ''}
        </span>
      </div>
      {queue.length > 0 && (
        <ol className="queue" aria-label="Queue">
          {queue.map((j, i) => (
            <li key={j.id}>
              {j.className} × {j.seeds.length}{j.onPhotos ? ' on photos' : ''} (seeds {j.seeds[0]}…) {j.done}/{j.seeds.length}
              {i > 0 && (
                <button type="button" className="small" aria-label={`Remove queued ${j.className} request`} onClick={() => removeQueuedJob(j.id)}>×</button>
              )}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
