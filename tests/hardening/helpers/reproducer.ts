// A reproducer from the hostile-input report (issue 13): a named action that must end, within
// the time and memory budget, in a clear error matching `error` (or in a correct result when
// `error` is absent and `check` passes).

export interface Reproducer {
  name: string;
  run: () => unknown | Promise<unknown>;
  /** The clear error expected; absent when the input must be read correctly. */
  error?: RegExp;
  /** For inputs that must succeed: throws when the result is wrong. */
  check?: (result: unknown) => void;
}

/** What the child runner prints for each reproducer (one JSON line each). */
export interface ReproducerOutcome {
  name: string;
  ms: number;
  /** The error message, when the run threw. */
  error?: string;
  /** The error's class name (a raw RangeError/TypeError is a defect). */
  errorName?: string;
  /** check() failure or "expected an error" when the outcome is wrong. */
  wrong?: string;
}

/** Time budget per reproducer (issue 13: 2 s) and memory budget of the process (500 MB). */
export const TIME_BUDGET_MS = 2000;
export const RSS_BUDGET_MB = 500;
