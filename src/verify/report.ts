import type { ChainReport, Problem, ProblemKind, VerifyReport } from './chain-verifier.ts';

const LABEL: Record<ProblemKind, string> = {
  modified: 'MODIFIED',
  conflict: 'CONFLICT',
  broken_link: 'BROKEN LINK',
  gap: 'GAP',
  out_of_order: 'OUT OF ORDER',
  unreadable: 'UNREADABLE',
  bad_signature: 'BAD SIGNATURE',
  unknown_key: 'UNKNOWN KEY',
  missing_checkpoint: 'MISSING CHECKPOINT',
};

function n(x: number): string {
  return x.toLocaleString('en-US');
}

function problemLine(p: Problem): string {
  return `  ${LABEL[p.kind].padEnd(18)} ${p.at ? `${p.at.file}:${p.at.line}  ` : ''}${p.message}`;
}

function counts(problems: readonly Problem[]): string {
  const by = new Map<ProblemKind, number>();
  for (const p of problems) by.set(p.kind, (by.get(p.kind) ?? 0) + 1);
  return [...by].map(([k, c]) => `${n(c)} ${LABEL[k].toLowerCase()}`).join(', ');
}

function chainText(c: ChainReport, maxProblems: number): string[] {
  const status = c.problems.length === 0 ? 'intact' : `BROKEN: ${counts(c.problems)}`;
  const out = [`chain ${c.id}: seq ${n(c.firstSeq)}–${n(c.lastSeq)}, ${n(c.events)} events — ${status}`];
  for (const p of c.problems.slice(0, maxProblems)) out.push(problemLine(p));
  if (c.problems.length > maxProblems) out.push(`  … and ${n(c.problems.length - maxProblems)} more (--max-problems N, or --json)`);
  if (c.duplicates > 0) {
    const e = c.duplicateExamples.map((d) => `seq ${d.seq} at ${d.first.file}:${d.first.line} and ${d.again.file}:${d.again.line}`).join('; ');
    out.push(`  duplicates: ${n(c.duplicates)} exact copies (at-least-once redelivery, not tampering), e.g. ${e}`);
  }
  if (c.resubmitted > 0) {
    const e = c.resubmittedExamples.map((r) => `event ${r.eventId} at seq ${r.seqs[0]} and ${r.seqs[1]}`).join('; ');
    out.push(`  resubmitted: ${n(c.resubmitted)} events linked again under a new seq (a source re-read them after a restart; at-least-once, not tampering), e.g. ${e}`);
  }
  const k = c.checkpoints;
  if (k.checked) {
    if (k.valid === 0) out.push(`  checkpoints: none valid in this stream: its events are vouched for by hash links only`);
    else out.push(`  checkpoints: ${n(k.valid)} valid, signed through seq ${n(k.signedThrough!)}${k.unsignedTail > 0 ? `; ${n(k.unsignedTail)} later events are vouched for by hash links only` : ''}`);
  } else if (k.present > 0) out.push(`  checkpoints: ${n(k.present)} signed checkpoints present, not checked (--public-key FILE)`);
  return out;
}

export function reportText(r: VerifyReport, sources: readonly string[], maxProblems: number): string {
  const out = [`agent-audit verify: ${n(r.documents)} documents from ${sources.join(', ')}; ${n(r.chains.length)} chain${r.chains.length === 1 ? '' : 's'}`, ''];
  for (const c of r.chains) out.push(...chainText(c, maxProblems), '');
  if (r.unreadable.length > 0) {
    out.push(`${n(r.unreadable.length)} documents could not be checked:`);
    for (const p of r.unreadable.slice(0, maxProblems)) out.push(problemLine(p));
    if (r.unreadable.length > maxProblems) out.push(`  … and ${n(r.unreadable.length - maxProblems)} more`);
    out.push('');
  }
  if (r.chains.length === 0 && r.unreadable.length === 0) out.push('No documents.', '');
  const broken = r.chains.filter((c) => c.problems.length > 0).length;
  out.push(r.ok ? 'Result: intact' : `Result: BROKEN (${broken} of ${r.chains.length} chains${r.unreadable.length > 0 ? `, ${n(r.unreadable.length)} unreadable documents` : ''})`);
  const kinds = new Set(r.chains.flatMap((c) => c.problems.map((p) => p.kind)));
  if (kinds.has('gap')) out.push('A gap can also be events a sink refused (agent-audit dlq list) or that a route sent elsewhere.');
  if (kinds.has('out_of_order')) out.push('Events replayed from a dead-letter queue, and streams read back from a SIEM, are out of order by nature: use --unordered for them.');
  return `${out.join('\n')}\n`;
}

export function reportJson(r: VerifyReport, maxProblems: number): unknown {
  return {
    ok: r.ok,
    documents: r.documents,
    chains: r.chains.map((c) => ({ ...c, problems: c.problems.slice(0, maxProblems), problemCount: c.problems.length })),
    unreadable: r.unreadable.slice(0, maxProblems),
    unreadableCount: r.unreadable.length,
  };
}
