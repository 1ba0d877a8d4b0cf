#!/usr/bin/env node
// Entry point of `npx sam2-webgpu <verb>`: runs the compiled command line (dist/, made by
// `npm run build`, which `npm ci` / `npm install` run through the `prepare` script).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli/run.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('sam2-webgpu: the compiled CLI (dist/src/cli/run.js) is missing; run `npm run build` in the package folder');
  process.exit(1);
}
await import(entry.href);
