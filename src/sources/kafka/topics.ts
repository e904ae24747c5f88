import type { Admin } from 'kafkajs';
import type { TopicSelection } from './config.ts';

/**
 * The topics to subscribe to now: configured names that exist, plus existing topics a pattern
 * matches (internal topics such as __consumer_offsets never match a pattern). kafkajs matches a
 * RegExp subscription only once, at subscribe time; the source calls this again every
 * topic_refresh_interval and restarts its consumer when the answer changes.
 */
export async function resolveTopics(selection: TopicSelection, admin: () => Promise<Admin>): Promise<string[]> {
  const existing = await (await admin()).listTopics();
  const exists = new Set(existing);
  const out = new Set<string>(selection.names.filter((n) => exists.has(n)));
  for (const t of existing) {
    if (t.startsWith('__')) continue;
    if (selection.patterns.some((p) => p.test(t))) out.add(t);
  }
  return [...out].sort();
}

export function sameTopics(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}
