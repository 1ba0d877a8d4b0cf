// The package's public entry points (package.json `exports`) and the README's TypeScript examples,
// shared by the API test (against the source) and the package test (against the packed tarball).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/fixtures-dir.js';

/** Import specifier → source entry file (relative to the repository root). */
export const ENTRY_SOURCES: Readonly<Record<string, string>> = {
  'sam2-webgpu': 'src/index.ts',
  'sam2-webgpu/node': 'src/node.ts',
  'sam2-webgpu/volume': 'src/volume/index.ts',
  'sam2-webgpu/weights-tools': 'weights-tools/index.ts',
};

export interface CodeBlock {
  /** 1-based line of the opening fence in README.md. */
  line: number;
  code: string;
}

/** Every ```ts block of a Markdown file, as a module (an `export {}` is added to blocks without imports). */
export function typescriptBlocks(markdownPath = join(REPO_ROOT, 'README.md')): CodeBlock[] {
  const lines = readFileSync(markdownPath, 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i])) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i]);
    if (i >= lines.length) throw new Error(`README.md:${start + 1}: unterminated code block`);
    let code = body.join('\n');
    if (!/^\s*(import|export)\s/m.test(code)) code += '\nexport {};';
    blocks.push({ line: start + 1, code: `${code}\n` });
  }
  return blocks;
}
