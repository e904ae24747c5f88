import { isUtf8 } from 'node:buffer';
import type { KafkaMessage } from 'kafkajs';
import type { RawRecord } from '../../core/raw-record.ts';

/**
 * One Kafka message as a raw record: its value is the record's bytes (a null value, a
 * tombstone, becomes an empty record, which the pipeline dead-letters as such); its position is
 * topic/partition/offset; its headers are the record's meta, for mappings that read transport
 * metadata (`meta["x-agent-id"]`), with `kafka.key` and `kafka.timestamp` added.
 */
export function messageRecord(source: string, topic: string, partition: number, m: KafkaMessage, format: string | undefined, receivedAt: number): RawRecord {
  const meta = messageMeta(m);
  return {
    source,
    input: 'kafka',
    position: { kind: 'kafka', topic, partition, offset: m.offset },
    bytes: m.value ?? Buffer.alloc(0),
    ...(format ? { format } : {}),
    receivedAt,
    ...(meta ? { meta } : {}),
  };
}

/**
 * Header values are bytes in Kafka: UTF-8 text is passed as is, anything else as `base64:<…>`
 * so nothing is mangled; a header repeated under one name is joined with ", " (as HTTP does).
 */
function messageMeta(m: KafkaMessage): Record<string, string> | undefined {
  let meta: Record<string, string> | undefined;
  const put = (k: string, v: string) => {
    meta ??= {};
    meta[k] = meta[k] !== undefined ? `${meta[k]}, ${v}` : v;
  };
  if (m.headers) {
    for (const [name, value] of Object.entries(m.headers)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) put(name, headerText(v));
    }
  }
  if (m.key && m.key.length > 0) put('kafka.key', headerText(m.key));
  if (m.timestamp && m.timestamp !== '-1') put('kafka.timestamp', m.timestamp);
  return meta;
}

function headerText(v: Buffer | string): string {
  if (typeof v === 'string') return v;
  return isUtf8(v) ? v.toString('utf8') : `base64:${v.toString('base64')}`;
}
