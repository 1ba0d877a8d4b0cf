// Launches Debian's headless Chromium with WebGPU for the browser tests (puppeteer-core: it never
// downloads a browser). Flags follow /work/shared/ENVIRONMENT.md: --no-sandbox because CI runs as
// root; the network flags keep Chromium from reaching for the (closed) network; a fresh profile per run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface LaunchedChromium {
  browser: Browser;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<LaunchedChromium> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: the browser kernel tests need Debian's \`chromium\` package ` +
        '(`apt-get install chromium`, done by .ci/install-system.sh) or CHROMIUM_PATH pointing at a Chromium binary.',
    );
  }
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sam2-chromium-'));
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      userDataDir,
      args: [
        '--headless=new',
        '--no-sandbox',
        '--enable-unsafe-webgpu',
        // WebGL2 on SwiftShader for the app's viewer (niivue); Chromium no longer falls back to it silently.
        '--enable-unsafe-swiftshader',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
        // Containers often have a 64 MB /dev/shm; Chromium then crashes on large pages.
        '--disable-dev-shm-usage',
      ],
      protocolTimeout: 30 * 60_000, // page.evaluate polls can wait behind long GPU work
    });
  } catch (e) {
    fs.rmSync(userDataDir, { recursive: true, force: true });
    throw new Error(`could not launch ${CHROMIUM_PATH}: ${(e as Error).message}`);
  }
  return {
    browser,
    async close() {
      await browser.close().catch(() => undefined);
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
