// Progress of a long CLI operation on stderr (stdout keeps the report): a redrawn bar on a
// terminal, plain lines elsewhere (every 10% or 5 s, so logs of a CI job or `| tee` stay
// readable). Small enough not to need a dependency.

export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): boolean;
}

export class Progress {
  private readonly label: string;
  private readonly total: number;
  private readonly out: ProgressStream;
  private readonly started = Date.now();
  private done = 0;
  private lastDraw = 0;
  private lastLinePct = -1;
  private lastLineAt = Date.now();
  private finished = false;

  constructor(label: string, total: number, out: ProgressStream = process.stderr) {
    this.label = label;
    this.total = total;
    this.out = out;
  }

  tick(n = 1): void {
    this.update(this.done + n);
  }

  update(done: number): void {
    this.done = Math.min(done, this.total);
    const now = Date.now();
    if (this.out.isTTY) {
      if (now - this.lastDraw < 100 && this.done < this.total) return;
      this.lastDraw = now;
      this.out.write(`\r${this.bar()}`);
      return;
    }
    const pct = this.total === 0 ? 100 : Math.floor((100 * this.done) / this.total);
    if (Math.floor(pct / 10) > Math.floor(this.lastLinePct / 10) || now - this.lastLineAt >= 5000) {
      this.lastLinePct = pct;
      this.lastLineAt = now;
      this.out.write(`${this.label}: ${this.done.toLocaleString('en-US')}/${this.total.toLocaleString('en-US')} (${pct}%)\n`);
    }
  }

  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.update(this.total);
    if (this.out.isTTY) this.out.write('\n');
  }

  private bar(): string {
    const pct = this.total === 0 ? 1 : this.done / this.total;
    const seconds = (Date.now() - this.started) / 1000;
    const rate = seconds > 0 ? this.done / seconds : 0;
    const eta = rate > 0 && this.done < this.total ? ` ETA ${Math.ceil((this.total - this.done) / rate)}s` : '';
    const text = ` ${Math.floor(pct * 100)}% ${this.done.toLocaleString('en-US')}/${this.total.toLocaleString('en-US')} ${Math.round(rate).toLocaleString('en-US')}/s${eta}`;
    const width = Math.max(10, Math.min(40, (this.out.columns ?? 80) - this.label.length - text.length - 4));
    const filled = Math.round(pct * width);
    return `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}]${text}`.padEnd(Math.min(this.out.columns ?? 80, 120) - 1);
  }
}
