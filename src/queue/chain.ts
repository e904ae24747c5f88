import { createHash, randomUUID } from 'node:crypto';
import { jcs } from './jcs.ts';
import type { AuditEvent } from '../core/audit-event.ts';
import type { CheckpointSigner } from './checkpoint.ts';

// Tamper evidence: every event appended to the spool is linked to the one before it,
// hash = sha256(prev_hash || JCS(event with chain {id, seq, prev_hash})). Anyone holding the
// exported stream can recompute the links (`agent-audit verify`). A signed checkpoint
// (chain.signature) is added after the hash and is not part of it.

export const GENESIS_HASH = '0'.repeat(64);

export interface ChainState {
  readonly id: string;
  /** Sequence number the next event gets. */
  readonly nextSeq: number;
  /** Hash of the last linked event (GENESIS_HASH before the first). */
  readonly lastHash: string;
}

export function newChain(): ChainState {
  return { id: randomUUID(), nextSeq: 0, lastHash: GENESIS_HASH };
}

/** sha256 over prev_hash followed by the JCS form of the event without `chain.hash` and `chain.signature`. */
export function chainHash(event: AuditEvent): string {
  const { chain, ...rest } = event;
  if (!chain) throw new Error('event has no chain link');
  const { hash: _hash, signature: _signature, ...link } = chain;
  return createHash('sha256')
    .update(String(link.prev_hash))
    .update(jcs({ ...rest, chain: link }))
    .digest('hex');
}

/** Returns the event with its chain link, and the state after it. */
export function link(event: AuditEvent, state: ChainState, signer?: CheckpointSigner): { event: AuditEvent; state: ChainState } {
  const { chain: _old, ...rest } = event;
  const linked = { ...rest, chain: { id: state.id, seq: state.nextSeq, prev_hash: state.lastHash, hash: '' } } as AuditEvent;
  const hash = chainHash(linked);
  const signature = signer?.due(state.nextSeq) ? { signature: signer.sign(state.id, state.nextSeq, hash) } : {};
  const out = { ...linked, chain: { ...linked.chain!, hash, ...signature } } as AuditEvent;
  return { event: out, state: { id: state.id, nextSeq: state.nextSeq + 1, lastHash: hash } };
}

/**
 * The spool's hot path: links the event and returns its serialized form in one pass. The JCS
 * text that was hashed is also the stored body (it is JSON), with `hash` spliced into the
 * chain object — `hash` sorts first among the chain's keys and `signature` last, so the body
 * stays canonical.
 */
export function linkSerialized(event: AuditEvent, state: ChainState, signer?: CheckpointSigner): { body: string; state: ChainState } {
  const { chain: _old, ...rest } = event;
  const linkOnly = { id: state.id, seq: state.nextSeq, prev_hash: state.lastHash };
  const text = jcs({ ...rest, chain: linkOnly });
  const hash = createHash('sha256').update(state.lastHash).update(text).digest('hex');
  const linkText = jcs(linkOnly);
  const marker = `"chain":${linkText}`;
  const at = text.indexOf(marker);
  const signature = signer?.due(state.nextSeq) ? `,"signature":${jcs(signer.sign(state.id, state.nextSeq, hash))}` : '';
  const body = `${text.slice(0, at)}"chain":{"hash":"${hash}",${linkText.slice(1, -1)}${signature}}${text.slice(at + marker.length)}`;
  return { body, state: { id: state.id, nextSeq: state.nextSeq + 1, lastHash: hash } };
}
