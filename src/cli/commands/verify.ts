import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { loadPublicKeys } from '../../queue/checkpoint.ts';
import { ChainVerifier } from '../../verify/chain-verifier.ts';
import { DecoderMissingError, detectShape, DocumentDecoders, unwrap } from '../../verify/document.ts';
import { reportJson, reportText } from '../../verify/report.ts';

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const HELP = `Usage: agent-audit verify [FILE...] [--public-key FILE]... [--unordered] [--json]

Checks the hash chain of an exported event stream: JSON lines as the file sink writes them
(canonical, ECS or OCSF rendering, detected per document), or documents read back from a SIEM
(Elasticsearch hits with _source, Splunk JSON exports with result._raw). Reads stdin when no
FILE is given or FILE is '-'. Chains are checked per chain id (one per spool; several may
interleave). It reports, with file, line and seq:

  MODIFIED       an event whose content does not match its chain.hash (edited)
  CONFLICT       two different events with the same seq (inserted or forged)
  BROKEN LINK    prev_hash not matching the hash of the event before (changed and rehashed,
                 inserted or replaced)
  GAP            seqs missing between the first and the last event (deleted, or never
                 delivered: refused by the sink, routed elsewhere)
  OUT OF ORDER   an event after one with a higher seq (moved) — not checked with --unordered
  duplicates     exact copies of an event (at-least-once redelivery): counted, not an error

The first and last seq of a stream are taken as they come: a stream may start mid-chain (a
sink added later, rotated files) and the chain alone cannot show events cut off its end;
signed checkpoints narrow that (events up to the last valid one are vouched for).

Options:
  --public-key FILE  Ed25519 public key (PEM) of spool.checkpoints; repeat for rotated keys.
                     Checks every checkpoint (chain.signature) and reports bad signatures,
                     unknown keys and checkpoints missing where one is due.
  --unordered        the stream's order is not meaningful (SIEM read-back, dead-letter
                     replays): do not report OUT OF ORDER
  --max-problems N   problems listed per chain (default 50)
  --json             the report as JSON
  -h, --help         show this help

Exit status: 0 intact (duplicates allowed), 1 broken or unreadable, 2 usage error.
`;

export async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { 'public-key': { type: 'string', multiple: true }, unordered: { type: 'boolean' }, json: { type: 'boolean' }, 'max-problems': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    process.stderr.write(`agent-audit verify: ${errorText(err)}\n\n${HELP}`);
    return 2;
  }
  const v = args.values;
  if (v.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const maxProblems = v['max-problems'] === undefined ? 50 : Number(v['max-problems']);
  if (!Number.isInteger(maxProblems) || maxProblems < 0) {
    process.stderr.write(`agent-audit verify: --max-problems must be a whole number\n`);
    return 2;
  }
  const files = args.positionals.length > 0 ? args.positionals : ['-'];
  if (files.includes('-') && process.stdin.isTTY) {
    process.stderr.write(`agent-audit verify: which file? (or pipe the stream to stdin)\n\n${HELP}`);
    return 2;
  }
  let publicKeys;
  try {
    publicKeys = v['public-key'] ? loadPublicKeys(v['public-key']) : undefined;
  } catch (err) {
    process.stderr.write(`agent-audit verify: ${errorText(err)}\n`);
    return 1;
  }
  const verifier = new ChainVerifier({ ...(publicKeys ? { publicKeys } : {}), unordered: v.unordered === true });
  const decoders = new DocumentDecoders();
  try {
    for (const file of files) await readStream(file === '-' ? process.stdin : createReadStream(file), file === '-' ? '<stdin>' : file, verifier, decoders);
  } catch (err) {
    process.stderr.write(`agent-audit verify: ${errorText(err)}\n`);
    return 1;
  }
  const report = verifier.finish();
  const names = files.map((f) => (f === '-' ? '<stdin>' : f));
  process.stdout.write(v.json ? `${JSON.stringify(reportJson(report, maxProblems), null, 2)}\n` : reportText(report, names, maxProblems));
  return report.ok ? 0 : 1;
}

async function readStream(stream: Readable, name: string, verifier: ChainVerifier, decoders: DocumentDecoders): Promise<void> {
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('error', (err) => reject(new Error(`cannot read ${name}: ${(err as NodeJS.ErrnoException).code ?? err.message}`)));
    stream.once('end', resolve);
  });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  const reading = (async () => {
    for await (const text of lines) {
      line++;
      if (text.trim() === '') continue;
      const at = { file: name, line };
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch {
        verifier.reject(at, 'not JSON (a torn or edited line)');
        continue;
      }
      if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
        verifier.reject(at, 'not a JSON object');
        continue;
      }
      const inner = unwrap(doc as Record<string, unknown>);
      const shape = detectShape(inner);
      if (!shape) {
        verifier.reject(at, 'not an agent-audit event (neither canonical, ECS nor OCSF)');
        continue;
      }
      const decode = await decoders.decoderFor(shape);
      let event;
      try {
        event = decode(inner);
      } catch (err) {
        if (err instanceof DecoderMissingError) throw err;
        verifier.reject(at, `${shape} document cannot be decoded: ${errorText(err)}`);
        continue;
      }
      verifier.add(event, at);
    }
  })();
  await Promise.all([reading, opened]);
}
