import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { missing } from './needs';

describe('missing(): skip locally with a record of what did not run, fail under CI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'needs-'));
  const log = join(dir, 'not-run.txt');
  afterEach(() => vi.unstubAllEnvs());

  it('present: runs, records nothing', () => {
    vi.stubEnv('CI', '');
    expect(missing(true, 'the dataset', log)).toBe(false);
    expect(() => readFileSync(log)).toThrow();
  });

  it('absent without CI: skips and records what is missing for the summary line', () => {
    vi.stubEnv('CI', '');
    expect(missing(false, 'the dataset', log)).toBe(true);
    expect(readFileSync(log, 'utf8')).toBe('the dataset\n');
    rmSync(dir, { recursive: true, force: true });
  });

  it('absent with CI set: throws, so the test fails instead of skipping', () => {
    vi.stubEnv('CI', '1');
    expect(() => missing(false, 'the dataset', log)).toThrow('CI is set but the dataset is missing');
  });
});
