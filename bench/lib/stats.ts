// Small statistics and formatting helpers for benchmark results.

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Adapter name for file names: lower case, other characters collapsed to '-', at most 64 characters. */
export function slug(s: string): string {
  const full = s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return full.slice(0, 64).replace(/-+$/, '') || 'unknown-adapter';
}

/** A plain-text table with right-aligned numeric columns. */
export function formatTable(header: string[], rows: string[][], numeric: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function fmt(x: number | undefined, digits: number): string {
  return x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits);
}
