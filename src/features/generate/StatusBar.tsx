import { useShallow } from 'zustand/react/shallow';
import { useStudio } from '../../state/store';

export function StatusBar() {
  const { status, model, handshake } = useStudio(useShallow((s) => ({ status: s.status, model: s.model, handshake: s.handshake })));
  const text =
    status.kind === 'idle' ? 'Starting' :
    status.kind === 'loadingModel' ? 'Loading model' :
    status.kind === 'ready' ? 'Ready' :
    status.kind === 'generating' ? 'Generating' :
    `Error (${status.code}): ${status.message}`;
  return (
    <div className="statusbar">
      <span role="status" aria-live="polite" className={status.kind === 'error' ? 'error' : ''}>{text}</span>
      {model && (
        <span className="engine" data-testid="engine">
          model {model.manifest.id} {model.manifest.version} · backend <b data-testid="backend">{model.backend}</b>
          {model.backend === 'wasm' ? ` (${model.numThreads} threads)` : ''}
          {model.backend === 'wasm' && handshake?.adapter?.isFallbackAdapter ? ' · software WebGPU adapter passed over (slower than WASM; ?backend=webgpu forces it)' : ''}
          {handshake?.adapter && model.backend === 'webgpu' ? ` · ${handshake.adapter.description || handshake.adapter.vendor}${handshake.adapter.isFallbackAdapter ? ' (fallback adapter)' : ''}` : ''}
          {' '}· onnxruntime-web {handshake?.ortVersion}
        </span>
      )}
    </div>
  );
}

export function NoticeBanner() {
  const { notice, setNotice } = useStudio(useShallow((s) => ({ notice: s.notice, setNotice: s.setNotice })));
  if (!notice) return null;
  return (
    <div className={`notice ${notice.kind}`} role={notice.kind === 'error' ? 'alert' : 'note'}>
      {notice.text}
      <button type="button" className="small" aria-label="Dismiss" onClick={() => setNotice(null)}>×</button>
    </div>
  );
}
