// Vitest setup (Node): Dawn is the WebGPU provider for every test, as `sam2-webgpu` makes it under
// Node, so `Gpu.create()` works in tests as it does with navigator.gpu in a browser.
import { useDawn } from '../../src/runtime/dawn.js';

useDawn();
