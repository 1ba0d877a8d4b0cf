// Vite configuration of the browser app (app/): `vite --config vite.app.config.ts` serves it,
// `vite build --config vite.app.config.ts` writes a static site to dist/app (relative URLs, so it
// works from any folder of any static host). The engine runs in a module worker, bundled as ES.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const repoRoot = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: path.join(repoRoot, 'app'),
  base: './',
  clearScreen: false,
  // The engine's browser entry imports no Node module (src/index.ts; Dawn is behind src/node.ts).
  worker: {
    format: 'es',
  },
  server: {
    host: '127.0.0.1',
    fs: { allow: [repoRoot] }, // the app imports the engine from ../src
  },
  preview: { host: '127.0.0.1' },
  optimizeDeps: {
    // CommonJS/UMD packages the volume readers use; pre-bundled so the dev server can serve them.
    include: ['dicom-parser', 'fflate'],
  },
  build: {
    outDir: path.join(repoRoot, 'dist/app'),
    emptyOutDir: true,
    target: 'es2022',
    // The engine chunk (kernels as WGSL strings) and niivue are large by nature; that is expected.
    chunkSizeWarningLimit: 4000,
  },
});
