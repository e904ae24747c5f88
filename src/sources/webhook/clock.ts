/**
 * TEST-ONLY hook: AGENT_AUDIT_TEST_NOW=<Unix seconds> starts the webhook source's clock at that
 * time (it then advances in real time). Recorded deliveries carry their original signed
 * timestamps, which the replay window would refuse; tests replay them with this. It is not a
 * configuration setting on purpose, and the source logs a warning when it is set.
 */
export const TEST_CLOCK_ENV = 'AGENT_AUDIT_TEST_NOW';

export function sourceClock(env: NodeJS.ProcessEnv = process.env): { now: () => number; testClock: boolean } {
  const v = env[TEST_CLOCK_ENV];
  if (v === undefined || v === '') return { now: Date.now, testClock: false };
  const start = Number(v) * 1000;
  if (!Number.isFinite(start)) return { now: Date.now, testClock: false };
  const offset = start - Date.now();
  return { now: () => Date.now() + offset, testClock: true };
}
