// agent-audit normalize: raw log files (or stdin) → canonical / ECS / OCSF JSON lines on stdout,
// dead letters as JSON lines to --dead-letters FILE (or stderr), a summary on stderr.
// Exit: 0 input processed (dead letters included), 1 I/O failure, 2 usage error.

import { createReadStream, createWriteStream, statSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import type { Readable, Writable } from 'node:stream';
import type { AuditEvent } from '../../core/audit-event.ts';
import type { DeadLetter } from '../../core/dead-letter.ts';
import type { Encoder, EncodingName } from '../../core/encoder.ts';
import type { PolicyOptions } from '../../core/normalizer.ts';
import type { FilePosition, RawRecord } from '../../core/raw-record.ts';
import { describePosition } from '../../core/raw-record.ts';
import { AgentAuditError } from '../../core/errors.ts';
import { forEachLine } from '../../normalize/line-reader.ts';
import { createNormalizer, type MappingNormalizer } from '../../normalize/index.ts';

const HELP = `Usage: agent-audit normalize [options] [FILE...]

Normalize raw AI-agent activity logs (JSON lines) into audit events. Reads stdin when no FILE is given.

Options:
  --format NAME|auto       source format (default auto: detected per record; see --list-formats)
  --explain                print per record which format matched and why the others were rejected (stderr)
  --to canonical|ecs|ocsf  output encoding (default canonical)
  --dead-letters FILE      write dead letters (JSON lines) to FILE instead of stderr
  --payload-mode MODE      none | hash (default: digest + size) | full (redacted content kept)
  --max-line-bytes N       longer lines become line_too_long dead letters (default 1048576)
  --mappings DIR           extra directory of mapping files (repeatable; same name overrides a built-in)
  --source NAME            source name recorded in origin.source and the event ids (default "cli")
  --list-formats           print the known formats and exit
  -h, --help               show this help

Blank lines are skipped (counted in the summary), not dead-lettered.
Exit status: 0 input processed (even with dead letters), 1 I/O failure, 2 usage error.
`;

export interface NormalizeSummary {
  records: number;
  blankLines: number;
  events: number;
  recordsWithoutEvents: number;
  deadLetters: Record<string, number>;
  formats: Record<string, { records: number; events: number }>;
}

class UsageError extends Error {}

/** The canonical encoding: the event as is. Used when src/formats has no encoder for it. */
const canonicalEncoder: Encoder = {
  name: 'canonical',
  version: '1.0',
  encode: (e: AuditEvent) => e as unknown as Record<string, unknown>,
  classOf: (e: AuditEvent) => e.event.action,
};

async function loadEncoder(name: EncodingName): Promise<Encoder> {
  // A variable specifier: src/formats/index.ts is another engineer's module and may not exist yet.
  const spec: string = '../../formats/index.ts';
  let mod: { createEncoder?: (n: EncodingName) => Encoder } | undefined;
  try {
    mod = (await import(spec)) as { createEncoder?: (n: EncodingName) => Encoder };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND' || !String((e as Error).message).includes('formats/index.ts')) throw e;
  }
  if (name === 'canonical') {
    try {
      return mod?.createEncoder?.('canonical') ?? canonicalEncoder;
    } catch {
      return canonicalEncoder;
    }
  }
  if (mod?.createEncoder === undefined) throw new UsageError(`--to ${name} is not available in this build (no encoders in src/formats); use --to canonical`);
  return mod.createEncoder(name);
}

/** Buffered line writer honouring backpressure. */
class LineSink {
  private chunks: string[] = [];
  private size = 0;
  private readonly out: Writable;
  failed: Error | undefined;
  constructor(out: Writable) {
    this.out = out;
    out.on('error', (e: Error) => {
      this.failed = e;
    });
  }
  write(line: string): Promise<void> | undefined {
    this.chunks.push(line);
    this.size += line.length;
    return this.size > 1 << 18 ? this.flush() : undefined;
  }
  async flush(): Promise<void> {
    if (this.chunks.length === 0 || this.failed) return;
    const data = this.chunks.join('');
    this.chunks = [];
    this.size = 0;
    if (!this.out.write(data)) await Promise.race([once(this.out, 'drain'), once(this.out, 'error').catch(() => undefined)]);
  }
}

function parse(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      format: { type: 'string' },
      explain: { type: 'boolean' },
      to: { type: 'string' },
      'dead-letters': { type: 'string' },
      'payload-mode': { type: 'string' },
      'max-line-bytes': { type: 'string' },
      mappings: { type: 'string', multiple: true },
      source: { type: 'string' },
      'list-formats': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const to = values.to ?? 'canonical';
  if (to !== 'canonical' && to !== 'ecs' && to !== 'ocsf') throw new UsageError(`--to must be canonical, ecs or ocsf (got '${to}')`);
  const mode = values['payload-mode'] ?? 'hash';
  if (mode !== 'none' && mode !== 'hash' && mode !== 'full') throw new UsageError(`--payload-mode must be none, hash or full (got '${mode}')`);
  const maxLine = values['max-line-bytes'] === undefined ? 1 << 20 : Number(values['max-line-bytes']);
  if (!Number.isInteger(maxLine) || maxLine < 1) throw new UsageError(`--max-line-bytes must be a positive integer (got '${values['max-line-bytes']}')`);
  const source = values.source ?? 'cli';
  if (source === '') throw new UsageError('--source must not be empty');
  return {
    files: positionals,
    format: values.format ?? 'auto',
    explain: values.explain === true,
    to: to as EncodingName,
    deadLettersFile: values['dead-letters'],
    payloadMode: mode as PolicyOptions['payloadMode'],
    maxLineBytes: maxLine,
    mappingDirs: values.mappings ?? [],
    source,
    listFormats: values['list-formats'] === true,
    help: values.help === true,
  };
}

export function formatSummary(s: NormalizeSummary): string {
  const dl = Object.values(s.deadLetters).reduce((a, b) => a + b, 0);
  const lines = [
    `agent-audit normalize: ${s.records} records read, ${s.events} events written, ${dl} dead letters` +
      (s.blankLines > 0 ? `, ${s.blankLines} blank lines skipped` : '') +
      (s.recordsWithoutEvents > 0 ? `, ${s.recordsWithoutEvents} records held no events` : ''),
  ];
  if (dl > 0) {
    lines.push(`  dead letters by reason: ${Object.entries(s.deadLetters).sort().map(([r, n]) => `${r} ${n}`).join(', ')}`);
  }
  for (const [f, c] of Object.entries(s.formats).sort()) lines.push(`  ${f}: ${c.records} records → ${c.events} events`);
  return lines.join('\n') + '\n';
}

export async function main(argv: string[]): Promise<number> {
  let opts: ReturnType<typeof parse>;
  try {
    opts = parse(argv);
  } catch (e) {
    process.stderr.write(`agent-audit normalize: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(HELP);
    return 0;
  }

  let normalizer: MappingNormalizer;
  try {
    normalizer = createNormalizer({ mappingDirs: opts.mappingDirs, defaultFormat: opts.format, policy: { payloadMode: opts.payloadMode } });
  } catch (e) {
    const usage = e instanceof AgentAuditError && e.code === 'normalizer_invalid';
    process.stderr.write(`agent-audit normalize: ${(e as Error).message}\n`);
    return usage ? 2 : 1;
  }
  if (opts.listFormats) {
    process.stdout.write(normalizer.registry.names().join('\n') + '\n');
    return 0;
  }

  let encoder: Encoder;
  try {
    encoder = await loadEncoder(opts.to);
  } catch (e) {
    process.stderr.write(`agent-audit normalize: ${(e as Error).message}\n`);
    return e instanceof UsageError ? 2 : 1;
  }

  // Open every input first: a missing file fails before any output is written.
  const inputs: { path: string; fileId: string; open: () => Readable }[] = [];
  for (const path of opts.files) {
    try {
      const st = statSync(path);
      if (st.isDirectory()) throw Object.assign(new Error(`${path} is a directory`), { code: 'EISDIR' });
      inputs.push({ path, fileId: `${st.dev}:${st.ino}`, open: () => createReadStream(path, { highWaterMark: 1 << 20 }) });
    } catch (e) {
      process.stderr.write(`agent-audit normalize: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
      return 1;
    }
  }
  if (inputs.length === 0) inputs.push({ path: '<stdin>', fileId: 'stdin', open: () => process.stdin });

  let dlStream: WriteStream | undefined;
  if (opts.deadLettersFile !== undefined) {
    dlStream = createWriteStream(opts.deadLettersFile);
    try {
      await once(dlStream, 'open');
    } catch (e) {
      process.stderr.write(`agent-audit normalize: cannot write ${opts.deadLettersFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
      return 1;
    }
  }
  const out = new LineSink(process.stdout);
  const dlOut = new LineSink(dlStream ?? process.stderr);
  const summary: NormalizeSummary = { records: 0, blankLines: 0, events: 0, recordsWithoutEvents: 0, deadLetters: {}, formats: {} };
  const countDead = (d: DeadLetter): void => {
    summary.deadLetters[d.reason] = (summary.deadLetters[d.reason] ?? 0) + 1;
  };

  let ioFailure: string | undefined;
  for (const input of inputs) {
    const stdin = input.path === '<stdin>';
    try {
      await forEachLine(input.open(), opts.maxLineBytes, (line) => {
        if (line.tooLongBytes === undefined && isBlankLine(line.bytes)) {
          summary.blankLines++;
          return;
        }
        summary.records++;
        const position: FilePosition = { kind: 'file', path: input.path, fileId: input.fileId, offset: line.offset, line: line.line };
        const record: RawRecord = { source: opts.source, input: stdin ? 'stdin' : 'file', position, bytes: line.bytes, receivedAt: Date.now() };
        let pending: Promise<void> | undefined;
        if (line.tooLongBytes !== undefined) {
          const d = normalizer.reject(record, 'line_too_long', `line is ${line.tooLongBytes} bytes, over the ${opts.maxLineBytes}-byte limit`, line.bytes.toString('utf8'));
          countDead(d);
          return dlOut.write(JSON.stringify(d) + '\n');
        }
        if (opts.explain) {
          process.stderr.write(`explain ${describePosition(position)}:\n${normalizer.explain(record).map((l) => `  ${l}\n`).join('')}`);
        }
        const r = normalizer.normalize(record);
        if (r.format !== undefined) {
          const f = (summary.formats[r.format] ??= { records: 0, events: 0 });
          f.records++;
          f.events += r.events.length;
        }
        if (r.events.length === 0 && r.deadLetters.length === 0) summary.recordsWithoutEvents++;
        for (const e of r.events) {
          summary.events++;
          pending = out.write(JSON.stringify(encoder.encode(e)) + '\n') ?? pending;
        }
        for (const d of r.deadLetters) {
          countDead(d);
          pending = dlOut.write(JSON.stringify(d) + '\n') ?? pending;
        }
        return pending;
      });
    } catch (e) {
      ioFailure = `error reading ${input.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
      break;
    }
  }
  await out.flush();
  await dlOut.flush();
  if (dlStream !== undefined) {
    dlStream.end();
    await once(dlStream, 'close').catch(() => undefined);
  }
  process.stderr.write(formatSummary(summary));
  if (ioFailure !== undefined) {
    process.stderr.write(`agent-audit normalize: ${ioFailure}\n`);
    return 1;
  }
  const writeFailure = out.failed ?? dlOut.failed;
  if (writeFailure !== undefined && (writeFailure as NodeJS.ErrnoException).code !== 'EPIPE') {
    process.stderr.write(`agent-audit normalize: write failed: ${writeFailure.message}\n`);
    return 1;
  }
  return 0;
}

function isBlankLine(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}
