import type { IncomingHttpHeaders } from 'node:http';

// Headers that carry credentials never become record metadata: a mapping could copy them into
// an event, and events reach disk and sinks.
const CREDENTIAL = /authorization|cookie|token|secret|signature|password|api[-_]?key|^x-hub-signature/i;

/** Request headers a mapping may read (`meta`), without credentials and the verifier's own headers. */
export function headerMeta(headers: IncomingHttpHeaders, alsoDrop: readonly string[] = []): Record<string, string> {
  const drop = new Set(alsoDrop.map((h) => h.toLowerCase()));
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || drop.has(name) || CREDENTIAL.test(name)) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
