import { ConfigError } from '../core/errors.ts';

const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_BYTES: Record<string, number> = {
  B: 1, KB: 1e3, MB: 1e6, GB: 1e9, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4,
};

/** "250ms" | "5s" | "10m" | "1h" | number of ms → milliseconds. */
export function parseDuration(value: string | number, where: string): number {
  if (typeof value === 'number') return value;
  const m = /^([0-9]+)(ms|s|m|h)$/.exec(value);
  if (!m) throw new ConfigError('bad_duration', `${where}: '${value}' is not a duration (e.g. 250ms, 5s, 10m, 1h)`, { path: where });
  return Number(m[1]) * DURATION_MS[m[2]!]!;
}

/** "64MiB" | "1GB" | number of bytes → bytes. */
export function parseByteSize(value: string | number, where: string): number {
  if (typeof value === 'number') return value;
  const m = /^([0-9]+)(B|KB|MB|GB|KiB|MiB|GiB|TiB)$/.exec(value);
  if (!m) throw new ConfigError('bad_size', `${where}: '${value}' is not a size (e.g. 512KiB, 64MiB, 10GiB)`, { path: where });
  return Number(m[1]) * SIZE_BYTES[m[2]!]!;
}
