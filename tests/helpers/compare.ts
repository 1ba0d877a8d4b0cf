// Numerical comparison with messages that name the tensor and the first place it diverges.

export interface Tolerance {
  /** max |a-b| <= atol + rtol*|b| elementwise. */
  atol?: number;
  rtol?: number;
  /** ||a-b|| / ||b|| over the whole tensor. */
  relL2?: number;
  /** max |a-b| <= maxAbsRel * max|b|. */
  maxAbsRel?: number;
}

export interface CompareResult {
  relL2: number;
  maxAbs: number;
  maxAbsRef: number;
  firstBad: number;
  nonFinite: number;
}

export function compareArrays(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance): CompareResult {
  let num = 0;
  let den = 0;
  let maxAbs = 0;
  let maxAbsRef = 0;
  let firstBad = -1;
  let nonFinite = 0;
  const atol = tol.atol ?? Infinity;
  const rtol = tol.rtol ?? 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const b = expected[i];
    if (!Number.isFinite(a)) {
      nonFinite++;
      if (firstBad < 0) firstBad = i;
      continue;
    }
    const d = Math.abs(a - b);
    num += d * d;
    den += b * b;
    if (d > maxAbs) maxAbs = d;
    if (Math.abs(b) > maxAbsRef) maxAbsRef = Math.abs(b);
    if (firstBad < 0 && d > atol + rtol * Math.abs(b)) firstBad = i;
  }
  return { relL2: den > 0 ? Math.sqrt(num / den) : Math.sqrt(num), maxAbs, maxAbsRef, firstBad, nonFinite };
}

function coords(i: number, shape?: readonly number[]): string {
  if (!shape) return `[${i}]`;
  const c: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    c.unshift(i % shape[d]);
    i = Math.floor(i / shape[d]);
  }
  return `[${c.join(', ')}]`;
}

/** Throws an Error naming `name`, the metric that failed and the first diverging index. */
export function assertClose(
  name: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: Tolerance,
  shape?: readonly number[],
): CompareResult {
  if (actual.length < expected.length) {
    throw new Error(`${name}: got ${actual.length} values, expected ${expected.length}`);
  }
  const r = compareArrays(actual, expected, tol);
  const problems: string[] = [];
  if (r.nonFinite) problems.push(`${r.nonFinite} non-finite values (unwritten or overflowed)`);
  if (tol.atol !== undefined || tol.rtol !== undefined) {
    if (r.firstBad >= 0 && !r.nonFinite) problems.push(`elementwise tolerance atol=${tol.atol} rtol=${tol.rtol} exceeded`);
  }
  if (tol.relL2 !== undefined && !(r.relL2 <= tol.relL2)) problems.push(`rel_l2 ${r.relL2.toExponential(3)} > ${tol.relL2}`);
  if (tol.maxAbsRel !== undefined && !(r.maxAbs <= tol.maxAbsRel * r.maxAbsRef)) {
    problems.push(`max_abs ${r.maxAbs.toExponential(3)} > ${tol.maxAbsRel} * max_abs_ref ${r.maxAbsRef.toExponential(3)}`);
  }
  if (problems.length) {
    let first = r.firstBad;
    if (first < 0) {
      // Point at the largest difference when only an aggregate metric failed.
      let best = -1;
      for (let i = 0; i < expected.length; i++) {
        const d = Math.abs(actual[i] - expected[i]);
        if (d > best) {
          best = d;
          first = i;
        }
      }
    }
    throw new Error(
      `${name}: ${problems.join('; ')}. First divergence at ${coords(first, shape)} (flat ${first}): ` +
        `got ${actual[first]}, expected ${expected[first]}. rel_l2=${r.relL2.toExponential(3)} ` +
        `max_abs=${r.maxAbs.toExponential(3)} max_abs_ref=${r.maxAbsRef.toExponential(3)}`,
    );
  }
  return r;
}
