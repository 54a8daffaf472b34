import { useShallow } from 'zustand/react/shallow';
import { SAMPLER_NAMES, type SamplerName } from '../../core/samplers';
import { MAX_SEED } from '../../core/generate';
import { cancelGeneration, generateFromSettings } from '../../engine';
import { useStudio } from '../../state/store';

const NO_CLASSES: readonly string[] = [];

export function GeneratePanel() {
  const { settings, update, classes, status } = useStudio(
    useShallow((s) => ({ settings: s.settings, update: s.updateSettings, classes: s.model?.manifest.classes ?? NO_CLASSES, status: s.status })),
  );
  const busy = status.kind === 'generating';
  const canGenerate = status.kind === 'ready';
  const progress = status.kind === 'generating' ? status.progress : null;
  return (
    <section className="panel controls" aria-label="Generation settings">
      <label>
        Defect class
        <select value={settings.className} onChange={(e) => update({ className: e.target.value })} disabled={busy}>
          {classes.map((c) => (
            <option key={c} value={c}>{c}</option>
          ))}
        </select>
      </label>
      <label>
        Seed
        <input type="number" min={0} max={MAX_SEED} step={1} value={settings.seed} disabled={busy}
          onChange={(e) => update({ seed: Math.max(0, Math.floor(Number(e.target.value) || 0)) })} />
      </label>
      <label>
        Sampler
        <select value={settings.sampler} onChange={(e) => update({ sampler: e.target.value as SamplerName })} disabled={busy}>
          {SAMPLER_NAMES.map((s) => (
            <option key={s} value={s}>{s}</option>
          ))}
        </select>
      </label>
      <label>
        Steps
        <input type="number" min={1} max={200} value={settings.steps} disabled={busy}
          onChange={(e) => update({ steps: Math.min(200, Math.max(1, Math.floor(Number(e.target.value) || 1))) })} />
      </label>
      <label>
        Guidance
        <input type="number" min={0} max={30} step={0.5} value={settings.guidance} disabled={busy}
          onChange={(e) => update({ guidance: Math.min(30, Math.max(0, Number(e.target.value) || 0)) })} />
      </label>
      <div className="buttons">
        <button type="button" onClick={() => void generateFromSettings()} disabled={!canGenerate}>Generate</button>
        <button type="button" onClick={cancelGeneration} disabled={!busy}>Cancel</button>
      </div>
      <div className="progress">
        <progress role="progressbar" aria-label="Generation progress" max={progress?.totalSteps ?? 1} value={progress?.step ?? 0}
          aria-valuenow={progress?.step ?? 0} aria-valuemax={progress?.totalSteps ?? 1} />
        <span data-testid="progress-text">
          {progress ? `step ${progress.step}/${progress.totalSteps} · ETA ${(progress.etaMs / 1000).toFixed(1)} s` : ''}
        </span>
      </div>
    </section>
  );
}
