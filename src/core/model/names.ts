/**
 * Names that become folder or file names somewhere (class names, item ids, photo names): the one rule for what
 * is safe to keep. Path-unsafe characters that are not separators (Windows' <>:"|?*) are allowed here: exports
 * write every name through safePathSegment (src/dataset/safeZip.ts).
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

const show = (s: string): string => {
  const j = JSON.stringify(s);
  return j.length > 60 ? `${j.slice(0, 57)}...` : j;
};

/** Why a name is not safe to keep, or null. */
export function nameProblem(s: string): string | null {
  if (s.length === 0) return 'must not be empty';
  if (s.length > 200) return `must be at most 200 characters, got ${s.length}`;
  if (CONTROL.test(s)) return `must not contain control characters, got ${show(s)}`;
  if (/[/\\]/.test(s)) return `must not contain a path separator (/ or \\), got ${show(s)}`;
  if (s === '.' || s === '..') return `must not be "." or "..", got ${show(s)}`;
  return null;
}
