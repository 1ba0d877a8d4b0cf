import { defineConfig } from 'vitest/config';

// GPU tests share one Dawn device per worker; software Vulkan on 2 cores gains nothing from
// running files in parallel, and parallel pipeline compiles only thrash the CPU.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts', 'src/**/*.test.ts', 'weights-tools/**/*.test.ts'],
    exclude: ['node_modules/**'],
    // Dawn as the WebGPU provider in Node (src/runtime/dawn.ts); browser tests use navigator.gpu.
    setupFiles: ['tests/helpers/node-gpu-setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    fileParallelism: false,
    pool: 'forks',
    reporters: ['default'],
  },
});
