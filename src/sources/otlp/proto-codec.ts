import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import type { Signal } from './signals.ts';

// The OTLP messages, from the .proto files in ./proto (see its README), loaded once per process
// with protobufjs.

export const PROTO_DIR = fileURLToPath(new URL('./proto/', import.meta.url));
export const PROTO_FILES = ['opentelemetry/proto/collector/logs/v1/logs_service.proto', 'opentelemetry/proto/collector/trace/v1/trace_service.proto', 'google/rpc/status.proto'] as const;

let root: protobuf.Root | undefined;

/** The protobufjs root with every message the OTLP source reads and writes. */
export function otlpRoot(): protobuf.Root {
  if (root !== undefined) return root;
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => join(PROTO_DIR, target);
  r.loadSync([...PROTO_FILES]);
  r.resolveAll();
  root = r;
  return r;
}

/** proto3 JSON conventions for toObject: int64 as decimal strings, enums as numbers, NaN/Infinity as strings. */
const TO_JSON: protobuf.IConversionOptions = { longs: String, enums: Number, bytes: String, json: true };

/** Decodes a protobuf Export*ServiceRequest into plain objects (bytes still base64; see otlp-json.ts). Throws on malformed input. */
export function decodeRequest(signal: Signal, body: Buffer): Record<string, unknown> {
  const type = otlpRoot().lookupType(signal.requestType);
  return type.toObject(type.decode(body), TO_JSON);
}

export type Encoding = 'json' | 'protobuf';

/** Export*ServiceResponse; partial_success only when something was rejected (an empty message means full success). */
export function encodeExportResponse(signal: Signal, encoding: Encoding, rejected: number, errorMessage: string): Buffer {
  const type = otlpRoot().lookupType(signal.responseType);
  const value = rejected > 0 ? { partialSuccess: { [signal.rejectedField]: rejected, errorMessage } } : {};
  return encode(type, value, encoding);
}

/** google.rpc.Status: the body of every OTLP/HTTP 4xx and 5xx answer. */
export function encodeStatus(encoding: Encoding, code: number, message: string): Buffer {
  return encode(otlpRoot().lookupType('google.rpc.Status'), { code, message }, encoding);
}

function encode(type: protobuf.Type, value: Record<string, unknown>, encoding: Encoding): Buffer {
  const message = type.fromObject(value);
  if (encoding === 'protobuf') return Buffer.from(type.encode(message).finish());
  return Buffer.from(JSON.stringify(type.toObject(message, TO_JSON)), 'utf8');
}

/** google.rpc.Code values used in Status answers. */
export const RPC_CODE = {
  invalidArgument: 3,
  resourceExhausted: 8,
  unimplemented: 12,
  internal: 13,
  unavailable: 14,
  unauthenticated: 16,
} as const;
