import type { AuditEvent } from '../core/audit-event.ts';
import { AgentAuditError } from '../core/errors.ts';

// One exported document → the canonical event whose chain link can be checked. The stream may
// be the file sink's JSON lines (canonical, ECS or OCSF rendering) or documents read back from
// a SIEM; the shape of each document picks the decoder, so a stream can mix them.

export type DocumentShape = 'canonical' | 'ecs' | 'ocsf';

export type DocumentDecoder = (doc: Record<string, unknown>) => AuditEvent;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * SIEM read-backs wrap the stored document: an Elasticsearch hit keeps it in `_source`, a
 * Splunk JSON export as the `_raw` text of `result`. Anything else is the document itself.
 */
export function unwrap(doc: Record<string, unknown>): Record<string, unknown> {
  if (isObject(doc._source) && typeof doc._id === 'string') return doc._source;
  const result = doc.result;
  if (isObject(result) && typeof result._raw === 'string') {
    try {
      const parsed = JSON.parse(result._raw) as unknown;
      if (isObject(parsed)) return parsed;
    } catch {
      // not JSON: left as is, reported as an unknown shape
    }
  }
  return doc;
}

export function detectShape(doc: Record<string, unknown>): DocumentShape | undefined {
  if (typeof doc.schema_version === 'string' && isObject(doc.event) && typeof doc.event.id === 'string') return 'canonical';
  if (typeof doc.class_uid === 'number' && isObject(doc.metadata)) return 'ocsf';
  if (typeof doc['@timestamp'] === 'string' && isObject(doc.ecs) && typeof doc.ecs.version === 'string') return 'ecs';
  return undefined;
}

/** The canonical rendering is the event; the Elasticsearch sink adds `@timestamp` (= event.time) for data streams. */
function decodeCanonical(doc: Record<string, unknown>): AuditEvent {
  const { '@timestamp': ts, ...rest } = doc;
  const time = (doc.event as { time?: unknown }).time;
  return (ts !== undefined && ts === time ? rest : doc) as unknown as AuditEvent;
}

export class DecoderMissingError extends AgentAuditError {}

type DecoderFactory = (name: 'ecs' | 'ocsf') => { decode(doc: Record<string, unknown>): AuditEvent };

/** Chooses the decoder per document shape; ECS and OCSF come from src/formats when it provides them. */
export class DocumentDecoders {
  private readonly decoders = new Map<DocumentShape, DocumentDecoder>([['canonical', decodeCanonical]]);
  private factory: DecoderFactory | undefined;

  async decoderFor(shape: DocumentShape): Promise<DocumentDecoder> {
    const known = this.decoders.get(shape);
    if (known) return known;
    this.factory ??= await loadFactory();
    const decoder = this.factory(shape as 'ecs' | 'ocsf');
    const fn: DocumentDecoder = (doc) => decoder.decode(doc);
    this.decoders.set(shape, fn);
    return fn;
  }
}

async function loadFactory(): Promise<DecoderFactory> {
  const formats = (await import('../formats/index.ts')) as unknown as Record<string, unknown>;
  const create = formats.createDecoder;
  if (typeof create !== 'function') {
    throw new DecoderMissingError('decoder_missing', 'ECS/OCSF verification needs the decoder from src/formats (createDecoder), which this build does not have yet; verify the canonical stream (a sink with encoding: canonical) meanwhile');
  }
  return create as DecoderFactory;
}
