// What a source hands to the pipeline: the bytes of one record plus where they came from.
// The position is what a source acknowledges (checkpoint, Kafka offset, HTTP response) once
// every event derived from the record is durable.

export type InputKind = 'file' | 'kafka' | 'webhook' | 'otlp' | 'stdin';

export interface FilePosition {
  readonly kind: 'file';
  readonly path: string;
  /** Stable file identity: fingerprint of the first bytes + device/inode. */
  readonly fileId: string;
  /** Byte offset of the first byte of the line. */
  readonly offset: number;
  /** 1-based line number when the reader knows it (normalize CLI, tail from start). */
  readonly line?: number;
}

export interface KafkaPosition {
  readonly kind: 'kafka';
  readonly topic: string;
  readonly partition: number;
  /** int64 as decimal string, as kafkajs gives it. */
  readonly offset: string;
}

export interface HttpPosition {
  readonly kind: 'http';
  /** Route the body arrived on, e.g. /webhooks/openai or /v1/logs. */
  readonly path: string;
  /** Delivery id (webhook-id header) or a receiver-assigned request id; unique per request. */
  readonly deliveryId: string;
}

export type SourcePosition = FilePosition | KafkaPosition | HttpPosition;

export interface RawRecord {
  /** Configured source name (unique in the config). */
  readonly source: string;
  readonly input: InputKind;
  readonly position: SourcePosition;
  /** The record's bytes exactly as read (one line, one Kafka message value, one HTTP body). */
  readonly bytes: Buffer;
  /** Format configured for the source; undefined means auto-detect. */
  readonly format?: string;
  /** When agent-audit read the record (ms since epoch). */
  readonly receivedAt: number;
  /** Transport metadata a mapping may use (HTTP headers of a webhook, Kafka headers). */
  readonly meta?: Readonly<Record<string, string>>;
}

/** Human-readable position, used in every error and dead letter. */
export function describePosition(p: SourcePosition): string {
  switch (p.kind) {
    case 'file':
      return p.line !== undefined ? `${p.path}:${p.line} (byte ${p.offset})` : `${p.path} byte ${p.offset}`;
    case 'kafka':
      return `${p.topic}/${p.partition}@${p.offset}`;
    case 'http':
      return `${p.path} delivery ${p.deliveryId}`;
  }
}

/** Stable identity of a position, the input to the deterministic event id. */
export function positionKey(p: SourcePosition): string {
  switch (p.kind) {
    case 'file':
      return `file:${p.fileId}:${p.offset}`;
    case 'kafka':
      return `kafka:${p.topic}:${p.partition}:${p.offset}`;
    case 'http':
      return `http:${p.path}:${p.deliveryId}`;
  }
}
