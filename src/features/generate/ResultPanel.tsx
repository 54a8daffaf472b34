import { useShallow } from 'zustand/react/shallow';
import { useStudio } from '../../state/store';

export function ResultPanel() {
  const { result, preview, generating } = useStudio(useShallow((s) => ({ result: s.result, preview: s.preview, generating: s.status.kind === 'generating' })));
  const p = result?.provenance;
  return (
    <section className="panel result" aria-label="Result">
      {generating && preview && <img className="pixelated" src={preview} alt="Live preview of the predicted clean image" width={256} height={256} />}
      {!generating && result && (
        <figure>
          <div className="stack">
            <img className="pixelated" src={result.url} alt={`Generated ${p?.className} image, seed ${p?.seed}`} width={256} height={256} data-testid="result-image" />
            <img className="pixelated overlay" src={result.maskUrl} alt="Defect mask" width={256} height={256} />
          </div>
          <figcaption>
            {p?.className} · seed {p?.seed} · {p?.sampler} {p?.steps} steps · guidance {p?.guidance} · backend{' '}
            <b data-testid="result-backend">{p?.backend}</b> · {p ? (p.timings.totalMs / 1000).toFixed(2) : ''} s ·{' '}
            <span data-testid="progress-count" data-steps={result.progressSteps.join(",")}>{result.progressSteps.length}</span> progress events
          </figcaption>
        </figure>
      )}
    </section>
  );
}
