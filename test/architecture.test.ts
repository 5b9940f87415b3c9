/**
 * The fence (docs/ARCHITECTURE.md): reads every import in src/ and webview/ with TypeScript's own parser — so
 * `import type`, `export … from`, `import()` and `typeof import()` count — and checks the rules between rooms.
 * The rules are one pure function over an import graph, also run on a made-up graph that breaks each of them.
 * The CLI runs the engine in-process and is exempt from the host's rules and the rooms' front doors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

const repo = path.resolve(__dirname, '..');

/** One import: the importing file and what it names, both repo-relative; `target` is a bare module name when not a file. */
interface Edge {
  readonly from: string;
  readonly target: string;
  readonly typeOnly: boolean;
}

/** What the host (src/ outside the engine, the CLI and the launchers) may import of the engine. */
const HOST_MAY_IMPORT = new Set([
  'src/engine/model/index.ts', 'src/engine/image/index.ts', 'src/engine/request.ts', 'src/engine/infotext.ts',
  'src/engine/schedulers/samplers.ts',
]);
/** Doors into an engine room besides its index.ts. */
const EXTRA_DOORS = new Set(['src/engine/schedulers/samplers.ts']);

const isCli = (f: string) => f === 'src/cli.ts' || f.startsWith('src/cli/');
const isHost = (f: string) => f.startsWith('src/') && !f.startsWith('src/engine/') && !isCli(f) && !f.startsWith('src/launch/');
const isFile = (t: string) => t.startsWith('src/') || t.startsWith('webview/') || t.startsWith('test/') || t === 'package.json';
/** The engine room a file is in (src/engine/<room>/…), or undefined. */
function roomOf(f: string): string | undefined {
  const m = /^src\/engine\/([^/]+)\//.exec(f);
  return m ? `src/engine/${m[1]}` : undefined;
}

/** Strongly connected components with more than one node (Tarjan). */
function cycles(nodes: Iterable<string>, next: (n: string) => Iterable<string>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of next(v)) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) found.push(scc.sort());
    }
  };
  for (const n of nodes) if (!idx.has(n)) visit(n);
  return found;
}

/** Every broken rule, one line each. */
export function fenceViolations(edges: readonly Edge[]): string[] {
  const out: string[] = [];
  for (const { from, target } of edges) {
    const edge = `${from} → ${target}`;
    if (from.startsWith('src/engine/') && target === 'vscode') out.push(`the engine imports vscode: ${edge}`);
    if (isHost(from) && target.startsWith('src/engine/') && !HOST_MAY_IMPORT.has(target)) {
      out.push(`the host reaches into the engine past model/, image/, request, infotext and the sampler table: ${edge}`);
    }
    if (from.startsWith('webview/') && isFile(target) && !target.startsWith('webview/')
        && !target.startsWith('src/protocol/') && !target.startsWith('src/common/')) {
      out.push(`the webview imports from the repository only src/protocol/ and src/common/: ${edge}`);
    }
    if (from.startsWith('webview/') && target === 'vscode') out.push(`the webview imports vscode: ${edge}`);
    if (from.startsWith('src/common/') && !target.startsWith('src/common/')) out.push(`src/common/ depends on nothing: ${edge}`);
    const room = roomOf(target);
    if (room !== undefined && from.startsWith('src/') && !isCli(from) && roomOf(from) !== room && target !== `${room}/index.ts` && !EXTRA_DOORS.has(target)) {
      out.push(`an engine room is entered through its index.ts: ${edge}`);
    }
  }
  const fileEdges = edges.filter((e) => isFile(e.target) && e.target !== e.from);
  const folderNext = new Map<string, Set<string>>();
  const valueNext = new Map<string, Set<string>>();
  const add = (m: Map<string, Set<string>>, a: string, b: string) => (m.get(a) ?? m.set(a, new Set()).get(a)!).add(b);
  for (const e of fileEdges) {
    const a = path.posix.dirname(e.from);
    const b = path.posix.dirname(e.target);
    if (a !== b) add(folderNext, a, b);
    if (!e.typeOnly) add(valueNext, e.from, e.target);
  }
  for (const scc of cycles(folderNext.keys(), (n) => folderNext.get(n) ?? [])) out.push(`folders import each other: ${scc.join(' ↔ ')}`);
  for (const scc of cycles(valueNext.keys(), (n) => valueNext.get(n) ?? [])) out.push(`files import each other: ${scc.join(' ↔ ')}`);
  return out;
}

function listTs(dir: string): string[] {
  return fs.readdirSync(path.join(repo, dir), { withFileTypes: true }).flatMap((d) => {
    const rel = `${dir}/${d.name}`;
    if (d.isDirectory()) return listTs(rel);
    return d.name.endsWith('.ts') ? [rel] : [];
  });
}

function resolveImport(from: string, spec: string): string {
  if (!spec.startsWith('.')) return spec.startsWith('node:') ? spec : spec.split('/')[0].startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
  const base = path.posix.join(path.posix.dirname(from), spec);
  for (const c of [base, `${base}.ts`, `${base}/index.ts`]) {
    const abs = path.join(repo, c);
    if (fs.existsSync(abs) && fs.statSync(abs).isFile()) return c;
  }
  throw new Error(`${from}: cannot resolve ${spec}`);
}

/** The imports of src/ and webview/, type-only ones marked. */
export function readImports(files: readonly string[]): Edge[] {
  const edges: Edge[] = [];
  for (const from of files) {
    const sf = ts.createSourceFile(from, fs.readFileSync(path.join(repo, from), 'utf8'), ts.ScriptTarget.Latest, true);
    const push = (spec: string, typeOnly: boolean) => edges.push({ from, target: resolveImport(from, spec), typeOnly });
    const visit = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
        const c = node.importClause;
        const named = c?.namedBindings && ts.isNamedImports(c.namedBindings) ? c.namedBindings.elements : undefined;
        const typeOnly = c !== undefined && (c.isTypeOnly || (c.name === undefined && named !== undefined && named.length > 0 && named.every((e) => e.isTypeOnly)));
        push(node.moduleSpecifier.text, typeOnly);
      } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        push(node.moduleSpecifier.text, node.isTypeOnly);
      } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
        push(node.argument.literal.text, true);
      } else if (ts.isCallExpression(node) && node.arguments.length === 1 && ts.isStringLiteralLike(node.arguments[0])
          && (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require'))) {
        push(node.arguments[0].text, false);
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return edges;
}

const files = [...listTs('src'), ...listTs('webview')];

test('the repository keeps the fence: host, engine rooms, webview, src/common, no cycles', () => {
  const edges = readImports(files);
  assert.ok(edges.length > 300, `read only ${edges.length} imports`);
  assert.deepEqual(fenceViolations(edges), []);
});

test('the fence catches each kind of forbidden import, type-only ones included', () => {
  const e = (from: string, target: string, typeOnly = false): Edge => ({ from, target, typeOnly });
  const cases: Array<[Edge[], RegExp]> = [
    [[e('src/engine/engine.ts', 'vscode')], /the engine imports vscode/],
    [[e('src/generation/generationHost.ts', 'src/engine/onnx/index.ts', true)], /the host reaches into the engine/],
    [[e('src/models/x.ts', 'src/engine/tokenizer/index.ts')], /the host reaches into the engine/],
    [[e('src/models/x.ts', 'src/engine/schedulers/index.ts')], /the host reaches into the engine/],
    [[e('src/models/x.ts', 'src/engine/engine.ts')], /the host reaches into the engine/],
    [[e('src/models/x.ts', 'src/engine/model/modelFolder.ts')], /the host reaches into the engine/],
    [[e('webview/main.ts', 'src/util/disposable.ts')], /the webview imports from the repository only/],
    [[e('webview/main.ts', 'vscode')], /the webview imports vscode/],
    [[e('src/common/text.ts', 'node:fs')], /src\/common\/ depends on nothing/],
    [[e('src/engine/pipeline.ts', 'src/engine/schedulers/lcm.ts', true)], /entered through its index/],
    [[e('src/a/x.ts', 'src/b/y.ts', true), e('src/b/z.ts', 'src/a/w.ts', true)], /folders import each other: src\/a ↔ src\/b/],
    [[e('src/a/x.ts', 'src/a/y.ts'), e('src/a/y.ts', 'src/a/x.ts')], /files import each other: src\/a\/x.ts ↔ src\/a\/y.ts/],
  ];
  for (const [edges, expected] of cases) {
    const found = fenceViolations(edges);
    assert.ok(found.some((v) => expected.test(v)), `${JSON.stringify(edges)} → ${JSON.stringify(found)}`);
  }
  // allowed: the CLI runs the engine in-process; type-only cycles inside one folder; the host's own doors
  assert.deepEqual(fenceViolations([
    e('src/cli/generate.ts', 'src/engine/engine.ts'),
    e('src/a/x.ts', 'src/a/y.ts', true), e('src/a/y.ts', 'src/a/x.ts'),
    ...[...HOST_MAY_IMPORT].map((t) => e('src/generation/x.ts', t, true)),
    e('webview/main.ts', 'src/protocol/webviewMessages.ts', true), e('webview/main.ts', 'src/common/text.ts'),
  ]), []);
});

test('the parser sees type-only imports and re-exports', () => {
  const edges = readImports(['src/engine/schedulers/types.ts', 'src/engine/random/index.ts']);
  assert.deepEqual(edges.filter((x) => x.target.startsWith('src/')).map((x) => [x.from, x.target, x.typeOnly]), [
    ['src/engine/schedulers/types.ts', 'src/engine/random/index.ts', true],
    ['src/engine/random/index.ts', 'src/engine/random/types.ts', true],
    ['src/engine/random/index.ts', 'src/engine/random/torch.ts', false],
    ['src/engine/random/index.ts', 'src/engine/random/torch.ts', true],
    ['src/engine/random/index.ts', 'src/engine/random/philox.ts', false],
    ['src/engine/random/index.ts', 'src/engine/random/variationNoise.ts', false],
    ['src/engine/random/index.ts', 'src/engine/random/variationNoise.ts', true],
  ]);
});
test('every path docs/ARCHITECTURE.md names exists', () => {
  const doc = fs.readFileSync(path.join(repo, 'docs/ARCHITECTURE.md'), 'utf8');
  // `…/<room>/` is a pattern, not a path
  const named = [...doc.matchAll(/`((?:src|webview|test|bench|scripts|models|docs|media)\/[^`*\s<]*)`/g)].map((m) => m[1]);
  assert.ok(named.length > 20, `the map names only ${named.length} paths`);
  const missing = named.filter((p) => !fs.existsSync(path.join(repo, p)));
  assert.deepEqual(missing, []);
});
