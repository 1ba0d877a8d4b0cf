// Runs the command line on this process's arguments: `bin/sam2-webgpu.mjs` loads the built copy
// (dist/src/cli/run.js); in the repository `npm run cli -- <verb>` runs the source through tsx.
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
