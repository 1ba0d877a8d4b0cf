// The precision option: text form, per-component resolution, bad input, and the shader-f16 rule.
import { describe, expect, it, vi } from 'vitest';
import { parsePrecision, precisionLabel, quantOf, resolvePrecision } from '../../src/model/precision.js';
import { precisionForAdapter } from '../../src/model/sam2-model.js';
import { chooseMatrixFormat } from '../../src/model/weight-format.js';
import type { Gpu } from '../../src/runtime/gpu.js';

describe('precision options', () => {
  it('parses per-component weights, activations and the threshold', () => {
    const p = resolvePrecision('encoder=int4-g64,memattn=f16,act=f16,decoder.act=f32,min=1024');
    expect(p.components.encoder).toEqual({ weights: 'int4-g64', activations: 'f16' });
    expect(p.components.memattn).toEqual({ weights: 'f16', activations: 'f16' });
    expect(p.components.memenc).toEqual({ weights: 'stored', activations: 'f16' });
    expect(p.components.decoder).toEqual({ weights: 'stored', activations: 'f32' });
    expect(p.minQuantElements).toBe(1024);
    expect(precisionLabel(p)).toBe('encoder=int4-g64,memattn=f16,encoder.act=f16,memattn.act=f16,memenc.act=f16,min=1024');
    expect(resolvePrecision('int8').components.decoder.weights).toBe('int8');
    expect(resolvePrecision({ all: 'bf16', encoder: { activations: 'f16' } }).components.encoder).toEqual({ weights: 'bf16', activations: 'f16' });
    expect(precisionLabel(resolvePrecision(undefined))).toBe('stored');
    expect(quantOf('int4-g128-mse')).toEqual({ scheme: 'int4', groupSize: 128, method: 'mse' });
    expect(quantOf('f16')).toBeNull();
  });

  it('names the problem in bad input', () => {
    expect(() => parsePrecision('encoder=int3')).toThrow(/unknown weight precision "int3".*int4-g64/);
    expect(() => parsePrecision('vision=int8')).toThrow(/unknown component "vision"/);
    expect(() => parsePrecision('act=bf16')).toThrow(/activations must be f32 or f16/);
    expect(() => parsePrecision('min=-1')).toThrow(/min must be a non-negative integer/);
    expect(() => resolvePrecision({ encoder: 'int4' as never })).toThrow(/unknown weight precision "int4"/);
  });

  it('f16 activations without shader-f16: a clear error, or f32 with a warning under fallback', () => {
    const gpu = { features: { f16: false }, adapterName: 'SwiftShader' } as unknown as Gpu;
    expect(() => precisionForAdapter(gpu, 'act=f16')).toThrow(/"shader-f16".*SwiftShader.*fallback/);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const p = precisionForAdapter(gpu, 'all=int8,act=f16', true);
    expect(warn).toHaveBeenCalledOnce();
    warn.mockRestore();
    expect(p.components.encoder).toEqual({ weights: 'int8', activations: 'f32' });
    // Weight formats alone never need the feature.
    expect(precisionForAdapter(gpu, 'all=f16').components.memenc.weights).toBe('f16');
  });

  it('chooses matrix formats: thresholds, the int4 → int8 fallback, reuse of stored bytes', () => {
    const f32 = { dtype: 'F32', quant: null };
    const a = (weights: string) => ({ weights, activations: 'f32' }) as never;
    expect(chooseMatrixFormat(256, 256, f32, a('int4-g64'), 16384)).toMatchObject({ format: 'int4', groupSize: 64, reuseStored: false });
    expect(chooseMatrixFormat(256, 96, f32, a('int4-g64'), 16384)).toMatchObject({ format: 'int8' });
    expect(chooseMatrixFormat(64, 64, f32, a('int8'), 16384)).toMatchObject({ format: 'f32' });
    const int4 = { dtype: 'U8', quant: { scheme: 'int4' as const, groupSize: 64 } };
    expect(chooseMatrixFormat(256, 256, int4, a('stored'), 16384)).toMatchObject({ format: 'int4', reuseStored: true });
    expect(chooseMatrixFormat(256, 256, int4, a('int4-g64'), 16384)).toMatchObject({ reuseStored: true });
    expect(chooseMatrixFormat(256, 256, int4, a('int4-g64-mse'), 16384)).toMatchObject({ reuseStored: false, method: 'mse' });
    expect(chooseMatrixFormat(256, 256, int4, a('int4-g32'), 16384)).toMatchObject({ reuseStored: false });
    expect(chooseMatrixFormat(256, 256, { dtype: 'BF16', quant: null }, a('stored'), 16384)).toMatchObject({ format: 'bf16' });
  });
});
