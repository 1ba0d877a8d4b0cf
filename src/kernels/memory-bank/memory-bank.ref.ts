// CPU references for the memory-bank kernels.
import { bf16BitsToF32Bits, f32BitsToBf16Bits, float32Bits, float32FromBits } from '../../io/half.js';

/** Value after a round trip through bfloat16 (round-to-nearest-even), as torch's .to(bfloat16). */
export function bf16RoundRef(x: number): number {
  return float32FromBits(bf16BitsToF32Bits(f32BitsToBf16Bits(float32Bits(x))));
}
