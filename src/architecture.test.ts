/**
 * The layering docs/architecture.md states, checked on the import lines: components reach the worker, the client
 * and IndexedDB only through src/app (the src/engine.ts façade); src/core imports nothing from the app, the
 * workers, React, the DOM-facing code or onnxruntime; and no source file grows past 400 lines.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve('.');
const walk = (d: string): string[] =>
  readdirSync(d).flatMap((f) => {
    const p = join(d, f);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
const imports = (file: string): string[] =>
  [...readFileSync(file, 'utf8').matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/g)].map((m) => m[1] as string);
const rel = (p: string) => relative(ROOT, p);

describe('architecture', () => {
  it('components never import the worker, the client or IndexedDB: they call src/app through src/engine.ts', () => {
    const bad: string[] = [];
    for (const f of walk('src/features').filter((p) => /\.tsx?$/.test(p) && !p.endsWith('.test.ts')))
      for (const spec of imports(f))
        if (/(^|\/)(client\/|workers\/|dataset\/db$|app\/client$)/.test(spec) || spec === 'comlink') bad.push(`${rel(f)}: ${spec}`);
    expect(bad).toEqual([]);
  });

  it('src/app and src/state import no component (features/ depend on them, not the other way round)', () => {
    const bad: string[] = [];
    for (const f of [...walk('src/app'), ...walk('src/state')].filter((p) => p.endsWith('.ts') && !p.endsWith('.test.ts')))
      for (const spec of imports(f)) if (/(^|\/)features\//.test(spec)) bad.push(`${rel(f)}: ${spec}`);
    expect(bad).toEqual([]);
  });

  it('src/core depends on nothing above it', () => {
    const bad: string[] = [];
    for (const f of walk('src/core').filter((p) => p.endsWith('.ts') && !p.endsWith('.test.ts')))
      for (const spec of imports(f)) {
        const target = spec.startsWith('.') ? rel(resolve(f, '..', spec)) : spec;
        const inside = target.startsWith('src/core/') || target === 'src/core';
        if ((spec.startsWith('.') && !inside) || /^(react|react-dom|zustand|comlink|onnxruntime-web|onnxruntime-node|idb)$/.test(spec)) bad.push(`${rel(f)}: ${spec}`);
      }
    expect(bad).toEqual([]);
  });

  it('no source file is over 400 lines', () => {
    const long = ['src', 'scripts', 'bench', 'workers', 'e2e']
      .flatMap((d) => walk(d))
      .filter((p) => /\.tsx?$/.test(p))
      .map((p) => [rel(p), readFileSync(p, 'utf8').split('\n').length] as const)
      .filter(([, n]) => n > 400);
    expect(long).toEqual([]);
  });
});
