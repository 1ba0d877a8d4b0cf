#!/usr/bin/env node
// Entry point of `npx sam2-webgpu <verb>`: registers tsx's TypeScript loader, then runs the
// TypeScript CLI (src/cli/main.ts) directly from source.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
