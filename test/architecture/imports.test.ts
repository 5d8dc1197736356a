import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The dependency rules of docs/design.md, "The parts", checked on every `npm test`: no import cycle
// among the modules of lib/, infra/ and functions/ (type-only imports count: they couple modules
// too), and lib/signing imports nothing but Node's built-ins and itself (it is the pure core).

const ROOT = resolve(import.meta.dirname, '..', '..');
const FOLDERS = ['lib', 'infra', 'functions'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mts)$/.test(name) ? [path] : [];
  });
}

/** Every module specifier a file imports or re-exports, static or dynamic, type-only included. */
function specifiersOf(source: string): string[] {
  const found: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) for (const match of source.matchAll(pattern)) found.push(match[1]!);
  return found;
}

const files = FOLDERS.flatMap((folder) => sourceFiles(join(ROOT, folder)));
const graph = new Map<string, string[]>();
for (const file of files) {
  const targets = specifiersOf(readFileSync(file, 'utf8'))
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => resolve(dirname(file), specifier));
  graph.set(file, targets);
}

/** Strongly connected components with more than one module (or a module importing itself). */
function cycles(edges: Map<string, string[]>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    indices.set(node, index);
    low.set(node, index);
    index++;
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node) ?? []) {
      if (!edges.has(next)) continue;
      if (!indices.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, indices.get(next)!));
      }
    }
    if (low.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(relative(ROOT, member));
      } while (member !== node);
      if (component.length > 1 || (edges.get(node) ?? []).includes(node)) found.push(component.sort());
    }
  };
  for (const node of edges.keys()) if (!indices.has(node)) visit(node);
  return found;
}

describe('import rules', () => {
  it('reads every kind of import the codebase uses', () => {
    expect(
      specifiersOf(
        "import a from './a.ts';\nimport type { B } from './b.ts';\nexport { c } from './c.ts';\n" +
          "export * from './d.ts';\nimport './e.ts';\nconst f = await import('./f.ts');\n" +
          "import {\n  g,\n  type H,\n} from './g.ts';",
      ).sort(),
    ).toEqual(['./a.ts', './b.ts', './c.ts', './d.ts', './e.ts', './f.ts', './g.ts']);
    expect(graph.size).toBeGreaterThan(100);
  });

  it('finds a cycle when there is one (the check can fail)', () => {
    const fake = new Map([
      ['/x/a.ts', ['/x/b.ts']],
      ['/x/b.ts', ['/x/c.ts']],
      ['/x/c.ts', ['/x/a.ts']],
      ['/x/d.ts', ['/x/a.ts']],
    ]);
    expect(cycles(fake)).toHaveLength(1);
  });

  it('has no import cycle in lib/, infra/ or functions/, type-only imports included', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('keeps lib/signing pure: Node built-ins and its own modules only', () => {
    const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
    const offending = files
      .filter((file) => relative(ROOT, file).startsWith(join('lib', 'signing')))
      .flatMap((file) =>
        specifiersOf(readFileSync(file, 'utf8'))
          .filter((specifier) =>
            specifier.startsWith('.')
              ? !relative(ROOT, resolve(dirname(file), specifier)).startsWith(join('lib', 'signing'))
              : !builtins.has(specifier),
          )
          .map((specifier) => `${relative(ROOT, file)} imports ${specifier}`),
      );
    expect(offending).toEqual([]);
  });
});
