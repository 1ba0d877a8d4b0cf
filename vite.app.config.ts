// Vite configuration of the browser app (app/): `vite --config vite.app.config.ts` serves it,
// `vite build --config vite.app.config.ts` writes a static site to dist/app (relative URLs, so it
// works from any folder of any static host). The engine runs in a module worker, bundled as ES.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const repoRoot = path.dirname(fileURLToPath(import.meta.url));

/**
 * src/runtime/device.ts imports `webgpu` (Dawn's native addon) and `node:fs` on its Node branch
 * only; in a browser navigator.gpu is used instead. Resolve them to a module that fails loudly if
 * it is ever reached, so the bundle never tries to include the addon.
 */
function nodeOnlyModules(): Plugin {
  const prefix = '\0node-only:';
  return {
    name: 'sam2-node-only-modules',
    enforce: 'pre',
    resolveId(id) {
      return id === 'webgpu' || id.startsWith('node:') ? prefix + id : null;
    },
    load(id) {
      if (!id.startsWith(prefix)) return null;
      const name = id.slice(prefix.length);
      return `throw new Error(${JSON.stringify(`${name} is a Node-only module and is not available in the browser`)});\nexport default undefined;`;
    },
  };
}

export default defineConfig({
  root: path.join(repoRoot, 'app'),
  base: './',
  clearScreen: false,
  plugins: [nodeOnlyModules()],
  worker: {
    format: 'es',
    plugins: () => [nodeOnlyModules()],
  },
  server: {
    host: '127.0.0.1',
    fs: { allow: [repoRoot] }, // the app imports the engine from ../src
  },
  preview: { host: '127.0.0.1' },
  optimizeDeps: {
    // CommonJS/UMD packages the volume readers use; pre-bundled so the dev server can serve them.
    include: ['dicom-parser', 'fflate'],
    exclude: ['webgpu'],
  },
  build: {
    outDir: path.join(repoRoot, 'dist/app'),
    emptyOutDir: true,
    target: 'es2022',
    // The engine chunk is large by nature (kernels as WGSL strings); that is expected.
    chunkSizeWarningLimit: 2000,
  },
});
