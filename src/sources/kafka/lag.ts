import type { Admin } from 'kafkajs';

/**
 * Consumer lag of the partitions this member owns: messages between the group's committed
 * offset and the partition's high watermark (what is read but not yet durable counts as lag,
 * since it is not acknowledged). A partition the group never committed counts from its start
 * (start_at: earliest) or not at all (latest).
 */
export async function computeLag(admin: Admin, groupId: string, assigned: readonly { topic: string; partition: number }[], startAt: 'earliest' | 'latest'): Promise<number> {
  const byTopic = new Map<string, Set<number>>();
  for (const a of assigned) {
    let s = byTopic.get(a.topic);
    if (!s) byTopic.set(a.topic, (s = new Set()));
    s.add(a.partition);
  }
  if (byTopic.size === 0) return 0;
  const topics = [...byTopic.keys()];
  const [committed, ...ends] = await Promise.all([admin.fetchOffsets({ groupId, topics }), ...topics.map((t) => admin.fetchTopicOffsets(t))]);
  const committedOf = new Map<string, bigint>();
  for (const t of committed) for (const p of t.partitions) committedOf.set(`${t.topic}/${p.partition}`, BigInt(p.offset));
  let lag = 0n;
  topics.forEach((topic, i) => {
    const mine = byTopic.get(topic)!;
    for (const o of ends[i]!) {
      if (!mine.has(o.partition)) continue;
      const high = BigInt(o.high);
      const low = BigInt(o.low);
      const c = committedOf.get(`${topic}/${o.partition}`) ?? -1n;
      const from = c >= 0n ? (c > low ? c : low) : startAt === 'earliest' ? low : high;
      if (high > from) lag += high - from;
    }
  });
  return Number(lag);
}
