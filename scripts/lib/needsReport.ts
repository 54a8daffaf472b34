/**
 * Global setup for vitest and Playwright: clears the log of tests skipped for missing data (needs.ts) before the
 * run and, after it, prints one loud line naming what did not run, so a local run without ../shared cannot look
 * like a full pass. (With CI set such tests fail instead.)
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { MISSING_LOG } from './needs';

export default function setup(): () => void {
  rmSync(MISSING_LOG, { force: true });
  return () => {
    if (!existsSync(MISSING_LOG)) return;
    const what = [...new Set(readFileSync(MISSING_LOG, 'utf8').split('\n').filter(Boolean))];
    rmSync(MISSING_LOG, { force: true });
    if (what.length)
      console.warn(`\n*** NOT RUN: tests that need data from outside the repository were skipped, missing: ${what.join('; ')}. ` +
        'Put the magnetic-tile dataset at ../shared/datasets/magnetic-tile beside the clone (with CI set they fail). ***\n');
  };
}
