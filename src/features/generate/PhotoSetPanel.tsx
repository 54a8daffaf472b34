import { useState, type CSSProperties } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { formatBytes } from '../../core/model/limits';
import { addPhotos, clearPhotoSet, removePhoto } from '../../engine';
import { photoSetProblem, useStudio } from '../../state/store';

// The folder picker: a standard attribute in every current browser, not yet in React's input props.
const FOLDER_PICKER = { webkitdirectory: '' } as Record<string, string>;

const box: CSSProperties = { border: '1px solid #e5e7eb', borderRadius: 4, padding: '0.4rem 0.55rem 0.5rem', margin: 0, display: 'grid', gap: '0.35rem', minWidth: 0 };
const legend: CSSProperties = { fontSize: '0.85rem', padding: '0 0.25rem' };
const list: CSSProperties = { listStyle: 'none', margin: 0, padding: 0, maxHeight: '6.2rem', overflow: 'auto', fontSize: '0.75rem', borderTop: '1px solid #f3f4f6' };
const rowStyle: CSSProperties = { display: 'grid', gridTemplateColumns: 'minmax(0, 1fr) auto auto', gap: '0.4rem', alignItems: 'center', padding: '1px 0', borderBottom: '1px solid #f3f4f6' };
const nameStyle: CSSProperties = { overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' };
const dim: CSSProperties = { color: '#6b7280', fontVariantNumeric: 'tabular-nums' };
const pick: CSSProperties = { display: 'inline-block', cursor: 'pointer', border: '1px solid #9ca3af', borderRadius: 3, background: '#f9fafb', padding: '0.1rem 0.45rem', fontSize: '0.8rem' };
const hiddenInput: CSSProperties = { position: 'absolute', width: 1, height: 1, opacity: 0, overflow: 'hidden' };
const note: CSSProperties = { fontSize: '0.72rem', color: '#6b7280', margin: 0 };

/**
 * The stored base photo set (src/app/photos.ts): add a folder or files, see and remove what is stored, and the
 * option that puts each generated image's defect on one of them (photo and real mask chosen by its seed, as
 * `npm run generate -- --photos` does). The option says why when it cannot be used.
 */
export function PhotoSetPanel() {
  const { photos, busy, onPhotoSet, className, problem, update } = useStudio(
    useShallow((s) => ({
      photos: s.photoSet, busy: s.photoSetBusy, onPhotoSet: s.settings.onPhotoSet, className: s.settings.className,
      problem: photoSetProblem(s, s.settings.className), update: s.updateSettings,
    })),
  );
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const total = photos.reduce((a, p) => a + p.fileBytes, 0);
  const run = (what: () => Promise<string | void>) => {
    setMessage(null);
    what().then((text) => text && setMessage({ error: false, text }), (e: Error) => setMessage({ error: true, text: e.message }));
  };
  const onFiles = (input: HTMLInputElement, fromFolder: boolean) => {
    const files = Array.from(input.files ?? []);
    input.value = '';
    if (files.length) run(() => addPhotos(files, fromFolder));
  };
  return (
    <fieldset style={box} data-testid="photo-set">
      <legend style={legend}>
        Base photos{' '}
        <span style={{ ...dim, fontSize: '0.75rem' }} data-testid="photo-set-count">
          · {photos.length} photo{photos.length === 1 ? '' : 's'}{photos.length ? ` · ${formatBytes(total)}` : ''}
        </span>
      </legend>
      <div className="buttons" style={{ flexWrap: 'wrap', gap: '0.35rem', alignItems: 'center' }}>
        <label style={pick} title="A folder of defect-free photos: its PNG and JPEG files (masks beside them and subfolders are skipped)">
          Add folder…
          <input type="file" {...FOLDER_PICKER} multiple style={hiddenInput} aria-label="Add a folder of photos" disabled={busy !== null} onChange={(e) => onFiles(e.currentTarget, true)} />
        </label>
        <label style={pick} title="One or more PNG or JPEG photos of defect-free parts">
          Add photos…
          <input type="file" multiple accept="image/png,image/jpeg" style={hiddenInput} aria-label="Add photos" disabled={busy !== null} onChange={(e) => onFiles(e.currentTarget, false)} />
        </label>
        <button type="button" className="small" disabled={!photos.length || busy !== null} onClick={() => {
          if (confirm(`Remove all ${photos.length} stored photos from this browser? Items already made on them stay.`)) void run(clearPhotoSet);
        }}>Remove all</button>
      </div>
      {busy && <p style={note}>{busy}</p>}
      {message && <p style={{ ...note, color: message.error ? '#991b1b' : '#166534', overflowWrap: 'anywhere' }} aria-live="polite" data-testid="photo-set-message">{message.text}</p>}
      {photos.length > 0 && (
        <ul style={list} aria-label="Stored photos">
          {photos.map((p) => (
            <li key={p.name} style={rowStyle}>
              <span style={nameStyle} title={`${p.name} · sha256 of its gray pixels ${p.sha256}`}>{p.name}</span>
              <span style={dim}>{p.width}×{p.height}</span>
              <button type="button" className="small" style={{ padding: '0 0.35rem' }} aria-label={`Remove ${p.name}`} disabled={busy !== null} onClick={() => run(() => removePhoto(p.name))}>×</button>
            </li>
          ))}
        </ul>
      )}
      <label className="check" style={{ fontSize: '0.85rem' }}>
        {/* Unticking stays possible when the option cannot be used (so it never gets stuck on). */}
        <input type="checkbox" checked={onPhotoSet} disabled={!onPhotoSet && problem !== null} onChange={(e) => update({ onPhotoSet: e.target.checked })} />
        Place defects on the stored photos
      </label>
      <p style={{ ...note, ...(problem && onPhotoSet ? { color: '#991b1b' } : {}) }} data-testid="photo-set-note">
        {problem
          ? `Not available: ${problem}.`
          : `Each image picks a photo and a real ${className} mask from its seed, as npm run generate -- --photos does; the mask canvas is not used.`}
      </p>
    </fieldset>
  );
}
