import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DescribeLogGroupsCommand,
  PutLogEventsCommand,
  PutRetentionPolicyCommand,
  type CloudWatchLogsClientConfig,
} from '@aws-sdk/client-cloudwatch-logs';
import type { AuditEvent } from '../../core/audit-event.ts';
import type { Encoder } from '../../core/encoder.ts';
import { SinkFatalError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { BatchLimits, DeliveryResult, EventOutcome, Sink } from '../../core/sink.ts';
import { redactUrl } from '../http/client.ts';
import type { CloudWatchLogsOptions } from './config.ts';
import { LogEventsBuilder, planCalls, type Destination, type LogRecord } from './request.ts';
import { classifyError, outcomesOf, type CallVerdict } from './response.ts';

// CloudWatch Logs through PutLogEvents. No DescribeLogStreams before a batch and no sequence
// tokens (ignored by the service since 2023): the sink just puts, and only a
// ResourceNotFoundException makes it create the stream (and, when allowed, the group) and put
// again. The SDK's own retries are off: the delivery runner owns retrying, with the spool
// behind it, so an outage shows in the sink's health instead of inside one long send().

/** Why the rest of a send stops early (the service is throttling us or out of reach). */
interface Halt {
  readonly reason: string;
  readonly retryAfterMs: number;
}

interface SendState {
  /** Worst outcome per audit event over its records (an oversized event has several). */
  readonly outcomes: (EventOutcome | undefined)[];
  halt: Halt | undefined;
}

type Ensured = { readonly ok: true } | { readonly ok: false; readonly outcome: EventOutcome; readonly halt?: Halt };

export class CloudWatchLogsSink implements Sink {
  readonly name: string;
  readonly type = 'cloudwatch_logs' as const;
  readonly limits: BatchLimits;
  private readonly options: CloudWatchLogsOptions;
  private readonly builder: LogEventsBuilder;
  readonly client: CloudWatchLogsClient;
  private readonly where: string;
  private logger: Logger;

  constructor(name: string, options: CloudWatchLogsOptions, encoder: Encoder, logger: Logger) {
    this.name = name;
    this.options = options;
    this.limits = options.limits;
    this.builder = new LogEventsBuilder(options, encoder);
    this.logger = logger;
    this.where = options.endpoint ? redactUrl(options.endpoint).replace(/\/+$/, '') : `CloudWatch Logs in ${options.region ?? 'the default region'}`;
    const config: CloudWatchLogsClientConfig = {
      ...(options.region !== undefined ? { region: options.region } : {}),
      ...(options.endpoint ? { endpoint: options.endpoint.href.replace(/\/+$/, '') } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      ...(options.profile !== undefined ? { profile: options.profile } : {}),
      maxAttempts: 1,
      requestHandler: {
        requestTimeout: options.requestTimeoutMs,
        connectionTimeout: Math.min(10_000, options.requestTimeoutMs),
        httpAgent: { keepAlive: true, maxSockets: Math.max(8, options.concurrency * 2) },
        httpsAgent: { keepAlive: true, maxSockets: Math.max(8, options.concurrency * 2) },
      },
    };
    this.client = new CloudWatchLogsClient(config);
  }

  /**
   * Credentials resolvable, service reachable, credentials accepted (DescribeLogGroups on the
   * group, or its fixed prefix when it is a template). Throws SinkFatalError for wrong
   * credentials or a missing region, a plain Error when the endpoint cannot be reached.
   */
  async start(logger: Logger): Promise<void> {
    this.logger = logger;
    try {
      await this.client.config.credentials();
    } catch (err) {
      throw new SinkFatalError('cwl_no_credentials', `sink '${this.name}': no AWS credentials found (${(err as Error).message}): set access_key_id/secret_access_key, a profile, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run with a role (instance profile, IRSA, ECS task role)`, { sink: this.name }, { cause: err });
    }
    let region: string;
    try {
      region = await this.client.config.region();
    } catch (err) {
      throw new SinkFatalError('cwl_no_region', `sink '${this.name}': no AWS region: set region in the sink or AWS_REGION (${(err as Error).message})`, { sink: this.name }, { cause: err });
    }
    const group = this.options.logGroup;
    const prefix = group.staticPrefix;
    try {
      const res = await this.client.send(new DescribeLogGroupsCommand({ ...(prefix ? { logGroupNamePrefix: prefix } : {}), limit: 5 }));
      if (group.isStatic) {
        const found = res.logGroups?.some((g) => g.logGroupName === prefix) ?? false;
        if (!found && !this.options.createLogGroup) {
          logger.warn({ logGroup: prefix, region }, `log group '${prefix}' does not exist and create_log_group is off: create it (with its retention), or set create_log_group: true; events wait in the spool until it exists`);
        } else if (!found) logger.info({ logGroup: prefix, retentionDays: this.options.retentionDays }, 'log group will be created at the first delivery');
      }
    } catch (err) {
      const v = classifyError(err, this.options.credentials !== undefined);
      if (v.kind === 'fatal' && v.code === 'cwl_access_denied') {
        // A least-privilege writer may hold PutLogEvents only: the first batch will tell.
        logger.warn({ reason: v.reason }, 'credentials accepted but not allowed to list log groups (logs:DescribeLogGroups): continuing; deliveries will tell');
        return;
      }
      if (v.kind === 'fatal') throw this.fatal(v);
      throw new Error(`sink '${this.name}': ${this.where} did not answer the start-up check: ${v.kind === 'retriable' || v.kind === 'invalid' || v.kind === 'missing' ? v.reason : v.kind}`);
    }
    logger.info({ endpoint: this.where, region, logGroup: group.source, logStream: this.options.logStream.source }, 'CloudWatch Logs reachable, credentials accepted');
  }

  async send(batch: readonly AuditEvent[]): Promise<DeliveryResult> {
    const prepared = this.builder.prepare(batch, Date.now());
    const state: SendState = { outcomes: new Array<EventOutcome | undefined>(batch.length), halt: undefined };
    for (const r of prepared.refused) state.outcomes[r.event] = { status: 'rejected', reason: r.reason };
    const queue = [...prepared.destinations];
    const worker = async () => {
      for (let d = queue.shift(); d !== undefined; d = queue.shift()) await this.deliverTo(d, state);
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency, queue.length) }, worker));
    const outcomes = state.outcomes.map((o) => o ?? ({ status: 'retriable', reason: 'not sent' } as const));
    return state.halt && state.halt.retryAfterMs > 0 ? { outcomes, retryAfterMs: state.halt.retryAfterMs } : { outcomes };
  }

  private async deliverTo(dest: Destination, state: SendState): Promise<void> {
    for (const call of planCalls(dest.records)) {
      if (state.halt) record(state, call, { status: 'retriable', reason: `not sent: ${state.halt.reason}` });
      else await this.put(dest, call, state, false);
    }
  }

  /** One PutLogEvents; creates what is missing once, splits on InvalidParameterException. */
  private async put(dest: Destination, records: readonly LogRecord[], state: SendState, afterCreate: boolean): Promise<void> {
    let verdict: CallVerdict;
    try {
      const res = await this.client.send(
        new PutLogEventsCommand({ logGroupName: dest.group, logStreamName: dest.stream, logEvents: records.map((r) => ({ timestamp: r.timestamp, message: r.message })) }),
      );
      const outcomes = outcomesOf(res.rejectedLogEventsInfo, records.length);
      for (let k = 0; k < records.length; k++) merge(state, records[k]!.event, outcomes[k]!);
      return;
    } catch (err) {
      verdict = classifyError(err, this.options.credentials !== undefined);
    }
    switch (verdict.kind) {
      case 'already_accepted':
        return record(state, records, { status: 'accepted' });
      case 'fatal':
        throw this.fatal(verdict, dest);
      case 'retriable':
        state.halt ??= { reason: verdict.reason, retryAfterMs: verdict.retryAfterMs ?? 0 };
        return record(state, records, { status: 'retriable', reason: verdict.reason });
      case 'invalid': {
        if (records.length === 1) return record(state, records, { status: 'rejected', reason: `CloudWatch Logs refused the event: ${verdict.reason}` });
        // A refused group or stream name (rendered from these events' fields) fails the same
        // way for every event of the call: no need to bisect down to each of them.
        if (/at 'log(Group|Stream)Name'/.test(verdict.reason)) return record(state, records, { status: 'rejected', reason: `CloudWatch Logs refused log group '${dest.group}' / stream '${dest.stream}': ${verdict.reason}` });
        const half = records.length >> 1;
        await this.put(dest, records.slice(0, half), state, afterCreate);
        if (state.halt) return record(state, records.slice(half), { status: 'retriable', reason: `not sent: ${state.halt.reason}` });
        return this.put(dest, records.slice(half), state, afterCreate);
      }
      case 'missing':
      case 'exists': {
        if (afterCreate) return record(state, records, { status: 'retriable', reason: `log stream '${dest.stream}' in '${dest.group}' still missing after it was created: ${verdict.kind === 'missing' ? verdict.reason : 'already exists'}` });
        const ensured = await this.ensure(dest, verdict.kind === 'missing' ? verdict.what : 'unknown');
        if (!ensured.ok) {
          if (ensured.halt) state.halt ??= ensured.halt;
          return record(state, records, ensured.outcome);
        }
        return this.put(dest, records, state, true);
      }
    }
  }

  /** Creates the log stream (and the group with its retention, when allowed) after a ResourceNotFoundException. */
  private async ensure(dest: Destination, missing: 'group' | 'stream' | 'unknown'): Promise<Ensured> {
    const { createLogGroup, createLogStream } = this.options;
    const where = `log group '${dest.group}'`;
    if (!createLogStream) {
      if (missing === 'group' && createLogGroup) {
        const g = await this.createGroup(dest.group);
        if (!g.ok) return g;
      }
      return { ok: false, outcome: { status: 'retriable', reason: `log ${missing === 'group' ? `group '${dest.group}'` : `stream '${dest.stream}' in ${where}`} does not exist and create_log_stream is off: create it, or set create_log_stream: true` } };
    }
    let s = await this.create(new CreateLogStreamCommand({ logGroupName: dest.group, logStreamName: dest.stream }), `log stream '${dest.stream}'`);
    if (s.ok || s.verdict.kind === 'exists') {
      this.logger.info({ logGroup: dest.group, logStream: dest.stream }, 'log stream created');
      return { ok: true };
    }
    if (s.verdict.kind !== 'missing') return this.failed(s.verdict, dest);
    if (!createLogGroup) return { ok: false, outcome: { status: 'retriable', reason: `${where} does not exist and create_log_group is off: create it (with its retention), or set create_log_group: true` } };
    const g = await this.createGroup(dest.group);
    if (!g.ok) return g;
    s = await this.create(new CreateLogStreamCommand({ logGroupName: dest.group, logStreamName: dest.stream }), `log stream '${dest.stream}'`);
    if (s.ok || s.verdict.kind === 'exists') {
      this.logger.info({ logGroup: dest.group, logStream: dest.stream }, 'log stream created');
      return { ok: true };
    }
    return this.failed(s.verdict, dest);
  }

  private async createGroup(group: string): Promise<Ensured> {
    const dest = { group, stream: '', records: [] };
    const g = await this.create(new CreateLogGroupCommand({ logGroupName: group }), `log group '${group}'`);
    if (!g.ok && g.verdict.kind !== 'exists') return this.failed(g.verdict, dest);
    // Retention only on a group this sink created: an existing group's policy is the operator's.
    if (g.ok) {
      this.logger.info({ logGroup: group, retentionDays: this.options.retentionDays }, 'log group created');
      if (this.options.retentionDays !== undefined) {
        const r = await this.create(new PutRetentionPolicyCommand({ logGroupName: group, retentionInDays: this.options.retentionDays }), `retention of log group '${group}'`);
        if (!r.ok) return this.failed(r.verdict, dest);
      }
    }
    return { ok: true };
  }

  private async create(command: CreateLogGroupCommand | CreateLogStreamCommand | PutRetentionPolicyCommand, what: string): Promise<{ ok: true } | { ok: false; verdict: CallVerdict; what: string }> {
    try {
      // The union of command types is not one overload of send(); each is a valid command.
      await this.client.send(command as CreateLogStreamCommand);
      return { ok: true };
    } catch (err) {
      return { ok: false, verdict: classifyError(err, this.options.credentials !== undefined), what };
    }
  }

  private failed(verdict: CallVerdict, dest: Destination): Ensured {
    switch (verdict.kind) {
      case 'fatal':
        throw this.fatal(verdict, dest);
      case 'invalid':
        // The name came from the event's fields and the service refuses it: that never changes.
        return { ok: false, outcome: { status: 'rejected', reason: `CloudWatch Logs refused to create log group '${dest.group}' / stream '${dest.stream}': ${verdict.reason}` } };
      case 'retriable': {
        const halt = { reason: verdict.reason, retryAfterMs: verdict.retryAfterMs ?? 0 };
        return { ok: false, outcome: { status: 'retriable', reason: verdict.reason }, halt };
      }
      default:
        return { ok: false, outcome: { status: 'retriable', reason: `creating log group '${dest.group}' / stream '${dest.stream}': ${'reason' in verdict ? verdict.reason : verdict.kind}` } };
    }
  }

  private fatal(v: Extract<CallVerdict, { kind: 'fatal' }>, dest?: Destination): SinkFatalError {
    const target = dest ? ` (log group '${dest.group}'${dest.stream ? `, stream '${dest.stream}'` : ''})` : '';
    return new SinkFatalError(v.code, `sink '${this.name}': ${this.where} refused the credentials${target}: ${v.reason}: ${v.hint}`, { sink: this.name, endpoint: this.where });
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

function record(state: SendState, records: readonly LogRecord[], outcome: EventOutcome): void {
  for (const r of records) merge(state, r.event, outcome);
}

/** rejected > retriable > accepted: an event is delivered only when all of its parts are. */
function merge(state: SendState, event: number, outcome: EventOutcome): void {
  const prev = state.outcomes[event];
  if (prev === undefined || rank(outcome) > rank(prev)) state.outcomes[event] = outcome;
}

function rank(o: EventOutcome): number {
  return o.status === 'rejected' ? 2 : o.status === 'retriable' ? 1 : 0;
}
