// Progress display on stderr for long runs. On a terminal: one bar redrawn in place (at most 10
// times a second). Elsewhere (CI logs, pipes): plain lines at every 10 % and at the end, so logs
// stay short and readable.

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  total: number;
  /** Shown before the bar, e.g. "segmenting". */
  label?: string;
  /** Unit of the counted items (default "slices"). */
  unit?: string;
  stream?: ProgressStream;
  /** Overrides stream.isTTY. */
  tty?: boolean;
  /** Clock in ms (for tests). */
  now?: () => number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export class ProgressBar {
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly now: () => number;
  private readonly start: number;
  private lastDraw = -Infinity;
  private lastStep = -1;
  private done = 0;
  private first: { at: number; done: number } | null = null;
  private finished = false;
  private total: number;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.tty = options.tty ?? !!this.stream.isTTY;
    this.now = options.now ?? (() => performance.now());
    this.start = this.now();
    this.total = Math.max(0, options.total);
  }

  /**
   * Rate (items/s) and estimated seconds left. The rate is measured from the first update on:
   * the first item often comes almost free (e.g. the prompted slice, already segmented).
   */
  stats(): { rate: number; eta: number; elapsed: number } {
    const now = this.now();
    const elapsed = (now - this.start) / 1000;
    const span = this.first ? (now - this.first.at) / 1000 : 0;
    const rate = this.first && span > 0 && this.done > this.first.done ? (this.done - this.first.done) / span : 0;
    const eta = rate > 0 ? (this.total - this.done) / rate : Infinity;
    return { rate, eta, elapsed };
  }

  private text(): string {
    const { rate, eta } = this.stats();
    const unit = this.options.unit ?? 'slices';
    const label = this.options.label ? `${this.options.label} ` : '';
    const pct = this.total > 0 ? Math.floor((100 * this.done) / this.total) : 100;
    const speed = rate > 0 ? (rate >= 1 ? `${rate.toFixed(2)} ${unit}/s` : `${(1 / rate).toFixed(1)} s/${unit.replace(/s$/, '')}`) : '';
    const eta_ = this.done < this.total && rate > 0 ? `, ETA ${formatDuration(eta)}` : '';
    if (!this.tty) return `${label}${this.done}/${this.total} ${unit} (${pct}%)${speed ? `, ${speed}` : ''}${eta_}`;
    const width = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - 60));
    const filled = this.total > 0 ? Math.round((width * this.done) / this.total) : width;
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    return `${label}[${bar}] ${this.done}/${this.total} ${pct}%${speed ? ` ${speed}` : ''}${eta_}`;
  }

  /** Sets the count of finished items (and the total, if it changed). */
  update(done: number, total = this.total): void {
    if (this.finished) return;
    this.done = Math.min(done, total);
    this.total = total;
    this.first ??= { at: this.now(), done: this.done };
    if (this.tty) {
      const t = this.now();
      if (t - this.lastDraw < 100 && this.done < this.total) return;
      this.lastDraw = t;
      this.stream.write(`\r\x1b[2K${this.text()}`);
      return;
    }
    // One line per 10 % step, and always the first item and the last.
    const step = this.total > 0 ? Math.floor((10 * this.done) / this.total) : 10;
    if (step === this.lastStep && this.done !== 1) return;
    this.lastStep = step;
    this.stream.write(`${this.text()}\n`);
  }

  /** Ends the display (a final newline on a terminal). */
  finish(): void {
    if (this.finished) return;
    if (this.tty) this.stream.write(`\r\x1b[2K${this.text()}\n`);
    else if (this.lastStep !== 10 && this.done > 0) this.stream.write(`${this.text()}\n`);
    this.finished = true;
  }
}
