// Child process that hosts librdkafka's mock Kafka cluster (from the node-rdkafka dev
// dependency): a librdkafka client configured with `test.mock.num.brokers` creates an in-process
// cluster of brokers that speak the real Kafka protocol on local TCP ports. It lives in its own
// process so that it outlives daemons the tests SIGKILL, and it exits when its parent goes away
// (its stdin closes).
//
// librdkafka logs the bootstrap address at creation ("Mock cluster enabled: … replaced with
// 127.0.0.1:p1,127.0.0.1:p2,…"); node-rdkafka forwards librdkafka's log only when a debug
// context is enabled, hence `debug: 'mock'`. The address is printed on stdout as one JSON line.

import { createRequire } from 'node:module';

interface LogEvent {
  readonly message: string;
}
interface MockHolder {
  on(event: 'event.log', listener: (e: LogEvent) => void): this;
  on(event: 'event.error', listener: (e: Error) => void): this;
  connect(options: object, cb: (err: Error | null) => void): this;
}
type ProducerCtor = new (conf: Record<string, string | number | boolean>) => MockHolder;

const require = createRequire(import.meta.url);
const { Producer } = require('node-rdkafka') as { Producer: ProducerCtor };

const brokers = Number(process.argv[2] ?? '3');
let announced = false;

const holder = new Producer({ 'test.mock.num.brokers': brokers, 'client.id': 'agent-audit-test-mock', event_cb: true, debug: 'mock' });
holder.on('event.log', (e) => {
  if (announced) return;
  const m = /Mock cluster enabled.*replaced with (\S+)/.exec(e.message);
  if (!m) return;
  announced = true;
  process.stdout.write(`${JSON.stringify({ bootstrap: m[1] })}\n`);
});
holder.on('event.error', (e) => process.stderr.write(`mock cluster client: ${e.message}\n`));
holder.connect({}, (err) => {
  if (err) {
    process.stderr.write(`mock cluster client could not start: ${err.message}\n`);
    process.exit(1);
  }
});

process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
