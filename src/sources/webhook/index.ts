import type { SourceFactory } from '../../core/components.ts';
import { sourceClock } from './clock.ts';
import { webhookSourceOptions } from './config.ts';
import { WebhookSource } from './source.ts';

export { WebhookSource } from './source.ts';
export { webhookSourceOptions } from './config.ts';

/** A webhook endpoint on the daemon's HTTP server; answers 2xx only once a delivery is durable. */
export const createWebhookSource: SourceFactory = (name, block, deps) => {
  const clock = sourceClock();
  return new WebhookSource(name, webhookSourceOptions(name, block, clock.now), { http: deps.http, stateDir: deps.stateDir, logger: deps.logger, testClock: clock.testClock });
};
