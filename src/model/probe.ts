// Lets tests and debugging tools look at named intermediates without the model knowing who
// listens. Components call `probe(name, tensor, layout)` at the points the golden fixtures record;
// names follow the fixtures' names (e.g. `trunk.block03`, `neck.fpn.2`). The default is a no-op.
import type { GpuTensor } from '../runtime/tensor.js';

/**
 * How the probed tensor is laid out: `hwc` = a feature map [H, W, C]; `tokens` = [N, C];
 * `flat` = anything else, compared as is.
 */
export type ProbeLayout = 'hwc' | 'tokens' | 'flat';

export type Probe = (name: string, t: GpuTensor, layout: ProbeLayout) => void;

export const noProbe: Probe = () => {};
