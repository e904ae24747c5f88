import type { ReadPoint } from './tailed-file.ts';

// Kubernetes container logs as the CRI runtimes (containerd, CRI-O) write them under
// /var/log/pods: `<RFC 3339 time> <stdout|stderr> <P|F> <text>`. A log line longer than the
// runtime's limit (16 KiB by default) is split into `P` (partial) pieces ended by an `F` piece
// of the same stream; the other stream's lines may come in between.

export interface CriLine {
  readonly stream: string;
  readonly partial: boolean;
  readonly text: Buffer;
}

/** The fields of a CRI line; undefined when the line is not one (it is then passed on whole). */
export function parseCri(line: Buffer): CriLine | undefined {
  const s1 = line.indexOf(0x20);
  const s2 = s1 === -1 ? -1 : line.indexOf(0x20, s1 + 1);
  if (s2 === -1) return undefined;
  const tagEnd = line.indexOf(0x20, s2 + 1);
  const tag = line.subarray(s2 + 1, tagEnd === -1 ? line.length : tagEnd).toString('latin1');
  // The tag may carry more flags after P/F, separated by ':' (CRI log format).
  const first = tag.split(':')[0];
  if (first !== 'P' && first !== 'F') return undefined;
  return { stream: line.subarray(s1 + 1, s2).toString('latin1'), partial: first === 'P', text: tagEnd === -1 ? Buffer.alloc(0) : line.subarray(tagEnd + 1) };
}

/** A record put together from one or more CRI lines, positioned at its first line. */
export interface Assembled {
  readonly offset: number;
  readonly line: number | undefined;
  readonly text: Buffer;
}

/** A split line that grew past the size limit: dead-lettered, its remaining pieces dropped. */
export interface TooLong {
  readonly offset: number;
  readonly line: number | undefined;
  readonly prefix: Buffer;
}

interface OpenRun {
  /** The read point before its first piece: where a checkpoint may be while it is open. */
  readonly at: ReadPoint;
  readonly line: number | undefined;
  parts: Buffer[];
  bytes: number;
  discarding: boolean;
}

/**
 * Joins the `P` pieces of each stream with their `F` piece. While a stream has an open run, a
 * checkpoint may not pass the run's first piece (after a restart the run is read again from
 * its start), so `earliestOpen` is where the file's checkpoint can be.
 */
export class CriAssembler {
  private readonly maxBytes: number;
  private readonly open = new Map<string, OpenRun>();

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /**
   * One CRI line; `at` gives the read point before it (asked only when a run starts), `line`
   * its 1-based number. Gives the completed record, if this line completed one.
   */
  push(raw: Buffer, at: () => ReadPoint, line: number | undefined): { record?: Assembled; tooLong?: TooLong } {
    const c = parseCri(raw);
    if (c === undefined) return { record: { offset: at().offset, line, text: raw } };
    let run = this.open.get(c.stream);
    if (run === undefined && !c.partial) return { record: { offset: at().offset, line, text: c.text } };
    if (run === undefined) {
      run = { at: at(), line, parts: [], bytes: 0, discarding: false };
      this.open.set(c.stream, run);
    }
    let tooLong: TooLong | undefined;
    if (!run.discarding) {
      run.parts.push(Buffer.from(c.text));
      run.bytes += c.text.length;
      if (run.bytes > this.maxBytes) {
        tooLong = { offset: run.at.offset, line: run.line, prefix: Buffer.concat(run.parts).subarray(0, 1024) };
        run.discarding = true;
        run.parts = [];
      }
    }
    if (c.partial) return tooLong ? { tooLong } : {};
    this.open.delete(c.stream);
    if (run.discarding) return tooLong ? { tooLong } : {};
    return { record: { offset: run.at.offset, line: run.line, text: Buffer.concat(run.parts) } };
  }

  /** The read point before the earliest open run's first piece; undefined when none is open. */
  earliestOpen(): ReadPoint | undefined {
    let first: ReadPoint | undefined;
    for (const r of this.open.values()) if (first === undefined || r.at.offset < first.offset) first = r.at;
    return first;
  }

  get hasOpen(): boolean {
    return this.open.size > 0;
  }

  /** The open runs as they are: the file ends and their `F` piece will not come. */
  flush(): Assembled[] {
    const out = [...this.open.values()].filter((r) => !r.discarding).map((r) => ({ offset: r.at.offset, line: r.line, text: Buffer.concat(r.parts) }));
    this.open.clear();
    return out.sort((a, b) => a.offset - b.offset);
  }

  clear(): void {
    this.open.clear();
  }
}
