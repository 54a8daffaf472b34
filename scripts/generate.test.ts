import { describe, expect, it } from 'vitest';
import { parseGenerateArgs, UsageError } from './generate';

const req = ['--model', 'public/models/magtile-defect-64', '--class', 'Crack', '--out', '/tmp/x'];

describe('generate arguments', () => {
  it('leaves unset sampling options to the manifest and reads --guidance-interval as LOW,HIGH or all', () => {
    const a = parseGenerateArgs(req);
    expect(a.guidance).toBeUndefined();
    expect(a.guidanceInterval).toBeUndefined();
    expect(parseGenerateArgs([...req, '--guidance-interval', '0.28,5.42']).guidanceInterval).toEqual([0.28, 5.42]);
    expect(parseGenerateArgs([...req, '--guidance-interval', 'all']).guidanceInterval).toBe('all');
  });

  it('refuses a bad --guidance-interval, saying what is accepted', () => {
    for (const bad of ['5,1', '0.3', 'a,b', '0.3,', '-1,2']) {
      const argv = [...req, `--guidance-interval=${bad}`];
      expect(() => parseGenerateArgs(argv)).toThrow(UsageError);
      expect(() => parseGenerateArgs(argv)).toThrow(/accepted: LOW,HIGH .* or all/);
    }
  });
});
