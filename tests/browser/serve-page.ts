// Serves the kernel page (tests/browser/index.html) with Vite's dev server on 127.0.0.1 and a
// free port, from Node, for the Chromium test. WebGPU needs a real origin: about:blank and
// data: pages have no navigator.gpu. The config is inline (configFile: false) so an app-level
// vite.config.ts at the repo root never changes how the tests are served.
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, type ViteDevServer } from 'vite';

export const BROWSER_TEST_DIR = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(BROWSER_TEST_DIR, '../..');

export interface ServedPage {
  /** Base URL of the page, e.g. http://127.0.0.1:41234/ */
  url: string;
  close(): Promise<void>;
}

/** A port the OS considers free right now (Vite reads `port: 0` as "use the default 5173"). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export async function servePage(): Promise<ServedPage> {
  const server: ViteDevServer = await createServer({
    configFile: false,
    root: BROWSER_TEST_DIR,
    logLevel: 'warn',
    clearScreen: false,
    server: {
      host: '127.0.0.1',
      port: await freePort(),
      strictPort: false, // should another process take it meanwhile, Vite tries the next one
      hmr: false,
      watch: null, // one-shot run: no file watcher over the repo
      fs: { allow: [REPO_ROOT] }, // the page imports src/ and tests/kernels/ outside its root
    },
    // Nothing from node_modules reaches the page. `webgpu` (Dawn's native addon) is imported only on
    // device.ts's Node branch; without discovery Vite never tries to pre-bundle it.
    optimizeDeps: { noDiscovery: true, include: [] },
  });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') {
    await server.close();
    throw new Error(`Vite dev server did not report a TCP address (${String(address)})`);
  }
  return {
    url: `http://127.0.0.1:${address.port}/`,
    close: () => server.close(),
  };
}

// `npx tsx tests/browser/serve-page.ts` serves the page for a manual look in a WebGPU browser
// (append ?filter=<substr> to the printed URL to run a subset). Ctrl-C stops it.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { url } = await servePage();
  console.log(`kernel page: ${url}  (add ?filter=<substr> to run a subset)`);
}
