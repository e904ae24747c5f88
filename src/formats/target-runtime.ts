// Helpers the generated encoders and decoders call (passed in as `h`): the few operations that
// are not a property access or a comparison.

import { isIP } from 'node:net';
import { InputError } from '../core/errors.ts';

/** OCSF 1.8.0's email_t pattern, copied from the schema so emitted addresses always validate there. */
const OCSF_EMAIL = /^[a-zA-Z0-9!#$%&'*+-/=?^_`{|}~.]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+$/;

export interface KeyValue {
  name: string;
  value: string;
}

export const runtime = {
  /** RFC 3339 → ms since the epoch (sub-millisecond digits are cut, as OCSF's timestamp_t is ms). */
  epochMs(s: string): number | undefined {
    const ms = Date.parse(s);
    return Number.isNaN(ms) ? undefined : ms;
  },
  isIp(s: unknown): boolean {
    return typeof s === 'string' && isIP(s) !== 0;
  },
  isEmail(s: unknown): boolean {
    return typeof s === 'string' && OCSF_EMAIL.test(s);
  },
  kvList(o: Readonly<Record<string, string>>): KeyValue[] {
    const out: KeyValue[] = [];
    for (const name of Object.keys(o)) out.push({ name, value: o[name]! });
    return out;
  },
  kvObject(list: unknown, where: string): Record<string, string> {
    if (!Array.isArray(list)) throw new InputError('decode_invalid', `${where} is not a list of {name, value}`, { where });
    const out: Record<string, string> = {};
    for (const kv of list as KeyValue[]) {
      if (kv === null || typeof kv !== 'object' || typeof kv.name !== 'string' || typeof kv.value !== 'string') throw new InputError('decode_invalid', `${where} holds an entry that is not {name, value}`, { where });
      out[kv.name] = kv.value;
    }
    return out;
  },
  /** Present values joined by a space (undefined when none). */
  join(values: readonly unknown[]): string | undefined {
    let s = '';
    for (const v of values) {
      if (v === undefined || v === '') continue;
      s = s === '' ? String(v) : `${s} ${String(v)}`;
    }
    return s === '' ? undefined : s;
  },
  /** Array at a path plus value(s), without duplicates. */
  addTo(existing: unknown, add: unknown): unknown[] {
    const out = Array.isArray(existing) ? existing : [];
    for (const v of Array.isArray(add) ? add : [add]) if (!out.includes(v)) out.push(v);
    return out;
  },
  /** A table's value as the document's own (arrays in lookup tables are shared between events). */
  own<T>(v: T): T {
    return (Array.isArray(v) ? v.slice() : v) as T;
  },
  /** The decoder met a value this mapping never writes there. */
  notOurs(target: string, where: string, value: unknown): never {
    throw new InputError('decode_invalid', `${target} document: ${where} holds ${JSON.stringify(value)}, which this mapping never writes there (not a rendering of a canonical event, or altered)`, { target, where });
  },
};

export type Runtime = typeof runtime;
