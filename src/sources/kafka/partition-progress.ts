/**
 * What of one assigned partition is durable, for one assignment (a rebalance starts a new one).
 * Submits are registered in fetch order; a submit covers the messages up to `last` (the last
 * offset it holds, or the fetched batch's last offset, control records included). The
 * committable offset is last + 1 of the newest submit whose predecessors in this assignment
 * are all durable: Kafka offsets have gaps (compaction, transaction markers), so contiguity is
 * the fetch order, never offset arithmetic.
 */
export class PartitionProgress {
  readonly topic: string;
  readonly partition: number;
  private pending: { readonly first: bigint; readonly last: bigint; done: boolean }[] = [];
  /** Bumped by reset(): submits registered before it no longer count. */
  private generation = 0;
  /** Next offset to commit: every message before it is durable. */
  private durableNext: bigint | undefined;
  /** What was last committed from this progress (undefined: nothing yet). */
  committed: bigint | undefined;

  constructor(topic: string, partition: number) {
    this.topic = topic;
    this.partition = partition;
  }

  /** Registers a submit covering messages `first`..`last`; call `durable()` on it when it resolved. */
  add(first: bigint, last: bigint): { durable(): boolean; current(): boolean } {
    const entry = { first, last, done: false };
    const generation = this.generation;
    this.pending.push(entry);
    return {
      durable: () => {
        if (generation !== this.generation) return false;
        entry.done = true;
        return this.advance();
      },
      current: () => generation === this.generation,
    };
  }

  /** Forgets the submits in flight (the partition is read again from resumePoint()). */
  reset(): void {
    this.pending = [];
    this.generation++;
  }

  /** Moves the durable mark past the leading completed submits; true if it moved. */
  private advance(): boolean {
    let moved = false;
    while (this.pending.length > 0 && this.pending[0]!.done) {
      const head = this.pending.shift()!;
      this.durableNext = head.last + 1n;
      moved = true;
    }
    return moved;
  }

  /** The offset to commit now, if durable progress went past the last commit. */
  toCommit(): bigint | undefined {
    if (this.durableNext === undefined) return undefined;
    if (this.committed !== undefined && this.durableNext <= this.committed) return undefined;
    return this.durableNext;
  }

  /** Where reading must start again so that nothing not yet durable is skipped. */
  resumePoint(): bigint | undefined {
    return this.durableNext ?? this.pending[0]?.first;
  }

  get inflight(): number {
    return this.pending.length;
  }
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
