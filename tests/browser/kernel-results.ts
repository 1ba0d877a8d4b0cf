// The contract between the kernel page (browser) and the vitest driver (Node): what the page
// leaves on `window.__kernelRun` when it has finished.

/** Case id as `<op>/<case name>`, <op> being the `<op>.cases.ts` file name. Unique across files. */
export function caseId(op: string, name: string): string {
  return `${op}/${name}`;
}

export interface CaseResult {
  id: string;
  op: string;
  name: string;
  passed: boolean;
  /** Error message (with stack in the browser's format) when the case failed. */
  error?: string;
  ms: number;
}

export interface KernelRun {
  /** 'done' once every selected case ran; 'error' if the page could not start (no adapter, import failure). */
  state: 'running' | 'done' | 'error';
  adapterName?: string;
  features?: Record<string, boolean>;
  filter: string;
  /** Every case id found, selected or not. */
  allIds: string[];
  results: CaseResult[];
  error?: string;
  totalMs?: number;
}

declare global {
  interface Window {
    __kernelRun?: KernelRun;
  }
}
