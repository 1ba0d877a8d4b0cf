// The public API from the source: every export of every entry point (and every public member of an
// exported class or interface) carries TSDoc; the README's TypeScript examples type-check against
// the entries; the browser entries (`sam2-webgpu`, `sam2-webgpu/volume`) reach no Node module.
// One TypeScript program serves all three (about 10 s on 2 cores). tests/package/package.test.ts
// checks the same things against the packed tarball.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/fixtures-dir.js';
import { ENTRY_SOURCES, typescriptBlocks } from './package-entries.js';

const tmp = mkdtempSync(join(tmpdir(), 'sam2-api-'));
let program: ts.Program;
let blockFiles: Array<{ file: string; line: number }> = [];

beforeAll(() => {
  const config = ts.getParsedCommandLineOfConfigFile(join(REPO_ROOT, 'tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  })!;
  blockFiles = typescriptBlocks().map((b, n) => {
    const file = join(tmp, `readme-${n + 1}.ts`);
    writeFileSync(file, b.code);
    return { file, line: b.line };
  });
  const paths = Object.fromEntries(Object.entries(ENTRY_SOURCES).map(([spec, src]) => [spec, [join(REPO_ROOT, src)]]));
  program = ts.createProgram({
    rootNames: [...Object.values(ENTRY_SOURCES).map((s) => join(REPO_ROOT, s)), ...blockFiles.map((b) => b.file)],
    options: { ...config.options, noEmit: true, paths, types: ['@webgpu/types', 'node'] },
  });
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function isInternal(node: ts.Node): boolean {
  return ts.getJSDocTags(node).some((t) => t.tagName.text === 'internal');
}

/** `entry: name` of every export (and `entry: Class.member`) without a documentation comment. */
function undocumented(): string[] {
  const checker = program.getTypeChecker();
  const missing: string[] = [];
  const documented = (s: ts.Symbol) => s.getDocumentationComment(checker).some((p) => p.text.trim() !== '');
  for (const [spec, src] of Object.entries(ENTRY_SOURCES)) {
    const file = program.getSourceFile(join(REPO_ROOT, src))!;
    for (const exported of checker.getExportsOfModule(checker.getSymbolAtLocation(file)!)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      if (!documented(symbol)) missing.push(`${spec}: ${exported.name}`);
      for (const decl of symbol.declarations ?? []) {
        if (!ts.isInterfaceDeclaration(decl) && !ts.isClassDeclaration(decl)) continue;
        for (const member of decl.members as ts.NodeArray<ts.ClassElement | ts.TypeElement>) {
          if (!member.name || ts.isPrivateIdentifier(member.name) || ts.isConstructorDeclaration(member)) continue;
          if (ts.getCombinedModifierFlags(member as ts.Declaration) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
          if (isInternal(member)) continue;
          const m = checker.getSymbolAtLocation(member.name);
          if (m && !documented(m)) missing.push(`${spec}: ${exported.name}.${member.name.getText()}`);
        }
      }
    }
  }
  return [...new Set(missing)];
}

/** Relative imports of a source file resolved to files, and its other module specifiers. */
function importsOf(file: string): { files: string[]; modules: string[] } {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  const files: string[] = [];
  const modules: string[] = [];
  for (const { fileName } of info.importedFiles) {
    if (!fileName.startsWith('.')) {
      modules.push(fileName);
      continue;
    }
    const target = resolve(dirname(file), fileName).replace(/\.js$/, '.ts');
    if (!existsSync(target)) throw new Error(`${file}: cannot resolve ${fileName}`);
    files.push(target);
  }
  return { files, modules };
}

/** Files and bare modules reachable (static or dynamic imports) from an entry; modules map to one importer. */
function reachable(entry: string): { files: Set<string>; modules: Map<string, string> } {
  const seen = new Set<string>([entry]);
  const queue = [entry];
  const modules = new Map<string, string>();
  while (queue.length) {
    const file = queue.pop()!;
    const { files, modules: mods } = importsOf(file);
    for (const m of mods) if (!modules.has(m)) modules.set(m, file.slice(REPO_ROOT.length + 1));
    for (const f of files) if (!seen.has(f)) queue.push(f), seen.add(f);
  }
  return { files: new Set([...seen].map((f) => f.slice(REPO_ROOT.length + 1))), modules };
}

describe('public API (source)', () => {
  it('documents every export of every entry point with TSDoc', () => {
    expect(undocumented()).toEqual([]);
  });

  it('type-checks the README examples against the entry points', () => {
    expect(blockFiles.length, 'README.md has no ```ts examples').toBeGreaterThanOrEqual(2);
    const errors: string[] = [];
    for (const { file, line } of blockFiles) {
      for (const d of ts.getPreEmitDiagnostics(program, program.getSourceFile(file))) {
        const at = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
        errors.push(`README.md:${line + at}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
      }
    }
    expect(errors).toEqual([]);
  });

  it.each([
    ['src/index.ts', 'src/runtime/device.ts'],
    ['src/volume/index.ts', 'src/volume/nifti.ts'],
  ])('%s reaches no Node module (browser-safe)', (entry, expected) => {
    const { files, modules } = reachable(join(REPO_ROOT, entry));
    const nodeOnly = [...modules].filter(([m]) => m.startsWith('node:') || ['webgpu', 'fs', 'path', 'url', 'os'].includes(m));
    expect(nodeOnly.map(([m, from]) => `${m} (imported by ${from})`)).toEqual([]);
    expect(files, 'the walk did not reach the engine').toContain(expected);
    expect(files).toContain('src/model/video-predictor.ts');
  });

  it('keeps Node-only code behind sam2-webgpu/node (the check above can fail)', () => {
    expect([...reachable(join(REPO_ROOT, 'src/node.ts')).modules.keys()]).toEqual(expect.arrayContaining(['node:fs/promises', 'webgpu']));
  });
});
