// Compiled compute pipelines keyed by kernel name + variant + override constants. Compilation is
// wrapped in a validation error scope so a WGSL error names the kernel that caused it.

import { programKey, type KernelProgram } from '../kernels/program.js';

export class PipelineCache {
  private pipelines = new Map<string, GPUComputePipeline>();
  private pendingErrors: Promise<string | null>[] = [];

  constructor(private readonly device: GPUDevice) {}

  get size(): number {
    return this.pipelines.size;
  }

  get(program: KernelProgram): GPUComputePipeline {
    const key = programKey(program);
    let p = this.pipelines.get(key);
    if (p) return p;
    const code = typeof program.source === 'function' ? program.source() : program.source;
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ code, label: program.name });
    p = this.device.createComputePipeline({
      label: key,
      layout: 'auto',
      compute: { module, entryPoint: program.entryPoint ?? 'main', constants: program.constants },
    });
    this.pendingErrors.push(
      this.device.popErrorScope().then(async (err) => {
        if (!err) return null;
        let detail = '';
        try {
          const info = await module.getCompilationInfo();
          detail = info.messages.map((m) => `  ${m.type} at ${m.lineNum}:${m.linePos}: ${m.message}`).join('\n');
        } catch {
          /* compilation info is optional */
        }
        return `kernel ${key} failed to compile: ${err.message}\n${detail}`;
      }),
    );
    this.pipelines.set(key, p);
    return p;
  }

  /** Throws the first compile error seen since the last check. */
  async checkErrors(): Promise<void> {
    const pending = this.pendingErrors;
    this.pendingErrors = [];
    const errors = (await Promise.all(pending)).filter((e): e is string => e !== null);
    if (errors.length) throw new Error(errors.join('\n'));
  }
}
