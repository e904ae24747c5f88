import type { Signal } from './signals.ts';

// OTLP/JSON is what the mappings in mappings/sources/ read (claude_code_otel_logs,
// otel_genai_traces). A protobuf request is turned into exactly that shape, so one mapping serves
// both encodings: protobufjs already gives lowerCamelCase names, int64 as strings and enums as
// numbers; OTLP/JSON differs from plain proto3 JSON only in trace and span ids, which are hex.

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function hex(v: unknown): unknown {
  return typeof v === 'string' ? Buffer.from(v, 'base64').toString('hex') : v;
}

function idsToHex(o: Obj, keys: readonly string[]): void {
  for (const k of keys) if (k in o) o[k] = hex(o[k]);
}

/** Rewrites the ids of a decoded protobuf request in place (base64 → hex); returns the number of items. */
export function protobufToOtlpJson(signal: Signal, request: Obj): number {
  let items = 0;
  for (const resource of (request[signal.resourceKey] as Obj[] | undefined) ?? []) {
    for (const scope of (resource[signal.scopeKey] as Obj[] | undefined) ?? []) {
      for (const item of (scope[signal.itemKey] as Obj[] | undefined) ?? []) {
        items++;
        idsToHex(item, ['traceId', 'spanId', 'parentSpanId']);
        for (const link of (item.links as Obj[] | undefined) ?? []) idsToHex(link, ['traceId', 'spanId']);
      }
    }
  }
  return items;
}

export type JsonCheck = { readonly ok: true; readonly items: number } | { readonly ok: false; readonly message: string };

/**
 * Checks that a parsed OTLP/JSON body is the request message of the signal (the three levels
 * are arrays where present) and counts its items, for the partial-success answer.
 */
export function checkJsonRequest(signal: Signal, body: unknown): JsonCheck {
  if (!isObj(body)) return { ok: false, message: `expected an ${signal.requestType.split('.').pop()} object` };
  const resources = body[signal.resourceKey];
  if (resources === undefined) {
    const snake = signal.resourceKey.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    if (snake in body) return { ok: false, message: `field names must be lowerCamelCase as OTLP/JSON requires (${signal.resourceKey}, not ${snake})` };
    const other = Object.keys(body).find((k) => /^resource[A-Z]/.test(k));
    if (other !== undefined) return { ok: false, message: `body has ${other}, not ${signal.resourceKey}: it is not a ${signal.name} export (wrong endpoint?)` };
    return { ok: true, items: 0 };
  }
  if (!Array.isArray(resources)) return { ok: false, message: `${signal.resourceKey} is not an array` };
  let items = 0;
  for (const [i, resource] of resources.entries()) {
    if (!isObj(resource)) return { ok: false, message: `${signal.resourceKey}[${i}] is not an object` };
    const scopes = resource[signal.scopeKey] ?? [];
    if (!Array.isArray(scopes)) return { ok: false, message: `${signal.resourceKey}[${i}].${signal.scopeKey} is not an array` };
    for (const [j, scope] of scopes.entries()) {
      if (!isObj(scope)) return { ok: false, message: `${signal.resourceKey}[${i}].${signal.scopeKey}[${j}] is not an object` };
      const list = scope[signal.itemKey] ?? [];
      if (!Array.isArray(list)) return { ok: false, message: `${signal.resourceKey}[${i}].${signal.scopeKey}[${j}].${signal.itemKey} is not an array` };
      items += list.length;
    }
  }
  return { ok: true, items };
}
