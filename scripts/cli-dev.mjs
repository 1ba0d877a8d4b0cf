#!/usr/bin/env node
// The command line from source, for development and the repository's tests: registers tsx's
// TypeScript loader, then runs src/cli/run.ts (what bin/sam2-webgpu.mjs runs compiled from dist/).
// `node scripts/cli-dev.mjs <verb> ...` works from any folder.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/run.ts');
