import { useRef, useState, type DragEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { activateModel, addUserModel, deleteUserModel } from '../../engine';
import { useStudio } from '../../state/store';
import { judgeName } from '../quality/judgeText';

/**
 * Model picker plus "Load model…" (file picker or drag-and-drop of model.onnx + manifest.json, or a .zip; either may
 * carry the model's own classifier: classifier/ in the zip, or its manifest.json, model.onnx and reference_features.json).
 */
export function ModelPicker() {
  const { models, modelId, busy } = useStudio(useShallow((s) => ({ models: s.models, modelId: s.settings.modelId, busy: s.status.kind === 'generating' || s.status.kind === 'loadingModel' })));
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const load = async (files: File[]) => {
    if (!files.length) return;
    try {
      const id = await addUserModel(files);
      // Which classifier judges it (quality numbers, flags, downstream check), or why none does.
      const q = useStudio.getState().model?.quality;
      const name = judgeName(q);
      const judged = name ? ` Judged by ${name}.` : q ? ` It has no evaluation classifier, so no quality numbers or flags: ${q.reason}.` : '';
      useStudio.getState().setNotice({ kind: 'info', text: `Model ${id} loaded and stored in this browser.${judged}` });
    } catch (e) {
      useStudio.getState().setNotice({ kind: 'error', text: `Model not loaded: ${(e as Error).message}` });
    }
  };
  const current = models.find((m) => m.id === modelId);
  const remove = async () => {
    if (!current || current.source !== 'user') return;
    if (!window.confirm(`Delete model ${current.id} from this browser? Images made with it are kept.`)) return;
    try {
      await deleteUserModel(current.id);
      useStudio.getState().setNotice({ kind: 'info', text: `Model ${current.id} was deleted from this browser.` });
    } catch (e) {
      useStudio.getState().setNotice({ kind: 'error', text: `Model not deleted: ${(e as Error).message}` });
    }
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    if (busy) {
      useStudio.getState().setNotice({ kind: 'error', text: 'A generation or model load is running: drop the model again when it has finished.' });
      return;
    }
    void load(Array.from(e.dataTransfer.files));
  };
  return (
    <div className={`model-picker${over ? ' over' : ''}`} onDragOver={(e) => { e.preventDefault(); setOver(true); }} onDragLeave={() => setOver(false)} onDrop={onDrop}>
      <label>
        Model
        <select value={modelId} disabled={busy} onChange={(e) => void activateModel(e.target.value)}>
          {models.map((m) => (
            <option key={m.id} value={m.id}>{m.label}</option>
          ))}
        </select>
      </label>
      <button type="button" className="small" disabled={busy} onClick={() => input.current?.click()}>Load model…</button>
      {current?.source === 'user' && (
        <button type="button" className="small" disabled={busy} onClick={() => void remove()} aria-label={`Delete model ${current.id}`}>Delete model</button>
      )}
      <input ref={input} type="file" hidden multiple accept=".onnx,.json,.zip" aria-label="Model files"
        onChange={(e) => { void load(Array.from(e.target.files ?? [])); e.target.value = ''; }} />
      <small title="A model's own evaluation classifier may come too: classifier/ in the .zip, or its manifest.json, model.onnx and reference_features.json beside the model's files">or drop model.onnx + manifest.json (or a .zip) here</small>
    </div>
  );
}
