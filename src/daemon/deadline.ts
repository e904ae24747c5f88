/**
 * Waits for `work` until the epoch-ms time `until`: true when it settled (resolved or
 * rejected) in time, false when the time ran out first; `work` goes on (it is abandoned, not
 * cancelled). The timer keeps the process alive: a step waiting on a promise nothing will ever
 * settle must still end at its deadline, not let the process slip out half stopped.
 */
export async function settlesBy(work: Promise<unknown>, until: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, until - Date.now()));
  });
  try {
    return await Promise.race([work.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}
