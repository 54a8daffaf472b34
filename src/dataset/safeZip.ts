/**
 * Zip hygiene for everything the studio reads or writes: inflating with limits checked against the central
 * directory's declared sizes before any entry is inflated (a zip bomb is refused, not unpacked), and path
 * segments that are safe on every file system (no traversal, no separators, nothing Windows refuses).
 */
import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex } from '@noble/hashes/utils';
import { unzipSync } from 'fflate';
import { StudioError, type ErrorCode } from '../core/errors';
import { formatBytes } from '../core/model/limits';

export interface UnzipLimits {
  /** What the zip is, for messages ("the dataset zip", "model.zip"). */
  what: string;
  maxEntries: number;
  maxTotalBytes: number;
  /** Largest single entry (defaults to maxTotalBytes). */
  maxEntryBytes?: number;
  /** Error code of a refusal. */
  code: ErrorCode;
  /** What a readable zip of the right kind is, appended to an unreadable-zip message. */
  accepted: string;
  /** Entries to inflate (the others are counted as entries but neither inflated nor counted in the bytes). */
  want?: (name: string) => boolean;
}

/**
 * unzipSync with limits. fflate reads each entry's sizes from the central directory and calls the filter before
 * inflating it into a buffer of exactly the declared size, so a lying header cannot inflate past what was checked.
 */
export function unzipWithLimits(bytes: Uint8Array, lim: UnzipLimits): Record<string, Uint8Array> {
  let entries = 0;
  let total = 0;
  let refusal: StudioError | null = null;
  const maxEntry = lim.maxEntryBytes ?? lim.maxTotalBytes;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, {
      filter: (f) => {
        if (refusal) return false;
        entries++;
        if (lim.want && !lim.want(f.name)) {
          if (entries > lim.maxEntries) refusal = tooMany(lim);
          return false;
        }
        total += f.originalSize;
        if (entries > lim.maxEntries) refusal = tooMany(lim);
        else if (f.originalSize > maxEntry)
          refusal = new StudioError(lim.code, `${lim.what}: entry ${f.name} inflates to ${formatBytes(f.originalSize)}; the limit for one entry is ${formatBytes(maxEntry)}`);
        else if (total > lim.maxTotalBytes)
          refusal = new StudioError(lim.code, `${lim.what} inflates to more than ${formatBytes(total)} (at entry ${f.name}); the limit is ${formatBytes(lim.maxTotalBytes)}`);
        return !refusal;
      },
    });
  } catch (e) {
    throw new StudioError(lim.code, `${lim.what} is not a readable zip file (${(e as Error).message}); accepted: ${lim.accepted}`);
  }
  if (refusal) throw refusal;
  return files;
}

function tooMany(lim: UnzipLimits): StudioError {
  const n = lim.maxEntries.toLocaleString('en');
  return new StudioError(lim.code, `${lim.what} has more than ${n} entries; the limit is ${n}`);
}

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;
// Control characters, path separators and what Windows forbids in a file name.
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f/\\<>:"|?*]/g;

/**
 * A name (class name, item id) as one zip path segment that every file system accepts: unsafe characters become
 * "_", leading dots and trailing dots or spaces are dropped, Windows device names get a "_" prefix, and it is cut
 * to 100 characters. A name that had to change gets 8 hex digits of its sha256 appended, so two names never end
 * up as one folder or file (for example "a/b" and "a_b").
 */
export function safePathSegment(name: string): string {
  let s = name.replace(UNSAFE_CHARS, '_').replace(/^\.+/, '').replace(/[. ]+$/, '');
  if (WINDOWS_RESERVED.test(s)) s = `_${s}`;
  if (s.length > 100) s = s.slice(0, 100);
  if (s === name && s.length > 0) return s;
  return `${s || '_'}-${bytesToHex(sha256(new TextEncoder().encode(name))).slice(0, 8)}`;
}
