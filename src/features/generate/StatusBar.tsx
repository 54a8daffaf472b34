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
        <span className="engine" data-testid="engine" title={engineTitle(model.manifest.id, model.manifest.version, model.backend, handshake?.ortVersion)}>
          model {model.manifest.id} {model.manifest.version} · backend <b data-testid="backend">{model.backend}</b>
          {model.backend === 'wasm' ? ` (${model.numThreads} threads)` : ''}
          {model.backend === 'wasm' && handshake?.adapter?.isFallbackAdapter ? (
            <span title="a software WebGPU adapter (such as SwiftShader) is slower than WASM; ?backend=webgpu forces it"> · software WebGPU adapter passed over</span>
          ) : ''}
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

/** The whole engine line as a tooltip: the header cuts it with an ellipsis on narrow screens. */
function engineTitle(id: string, version: string, backend: string, ort: string | undefined): string {
  return `model ${id} ${version} · backend ${backend} · onnxruntime-web ${ort ?? '?'}`;
}
