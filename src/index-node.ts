// `sam2-webgpu` under Node (the package's "node" export condition): the same API as index.ts, with
// Dawn (the `webgpu` package) registered as the WebGPU provider, so `createGpu()` works unchanged.
import { useDawn } from './runtime/dawn.js';

useDawn();

export * from './index.js';
