/**
 * Tests that need data from outside the repository (the magnetic-tile dataset in ../shared): skipped on a
 * developer machine without it, FAILED when CI is set, so CI never passes by skipping. Returns whether to skip.
 * Each skip is written to MISSING_LOG, and scripts/lib/needsReport.ts (vitest's and Playwright's global setup)
 * prints one loud line after the run naming everything that did not run and why.
 */
import { appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MISSING_LOG = join(tmpdir(), 'ddstudio-tests-not-run.txt');

export function missing(present: boolean, what: string, log = MISSING_LOG): boolean {
  if (present) return false;
  if (process.env['CI']) throw new Error(`CI is set but ${what} is missing`);
  try {
    appendFileSync(log, `${what}\n`);
  } catch {
    /* the report is a courtesy; the skip itself is what matters */
  }
  return true;
}
