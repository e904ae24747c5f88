import { ConfigError } from '../../core/errors.ts';
import type { SinkBlock } from '../../config/types.ts';
import type { BatchLimits } from '../../core/sink.ts';
import { baseUrl, batchLimits, durationMs, type BatchBlock } from '../http/settings.ts';
import { MAX_BATCH_BYTES, MAX_BATCH_EVENTS, RETENTION_DAYS } from './limits.ts';
import { compileTemplate, sanitizeGroupName, sanitizeStreamName, type NameTemplate } from './template.ts';

/** The `cloudwatch_logs` block as schemas/components/cloudwatch_logs.schema.json admits it. */
export interface CloudWatchLogsBlock extends SinkBlock {
  readonly region?: string;
  readonly endpoint?: string;
  readonly log_group: string;
  readonly log_stream?: string;
  readonly create_log_group?: boolean;
  readonly create_log_stream?: boolean;
  readonly retention_days?: number;
  readonly access_key_id?: string;
  readonly secret_access_key?: string;
  readonly session_token?: string;
  readonly profile?: string;
  readonly oversized_events?: 'dead_letter' | 'split';
  readonly concurrency?: number;
  readonly batch?: BatchBlock;
  readonly request_timeout?: string | number;
}

export interface StaticCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface CloudWatchLogsOptions {
  /** undefined: the SDK's chain (AWS_REGION, AWS_DEFAULT_REGION, the profile's region). */
  readonly region?: string;
  readonly endpoint?: URL;
  readonly logGroup: NameTemplate;
  readonly logStream: NameTemplate;
  readonly createLogGroup: boolean;
  readonly createLogStream: boolean;
  readonly retentionDays?: number;
  /** Explicit keys; undefined means the standard AWS credential chain (or `profile`). Never logged. */
  readonly credentials?: StaticCredentials;
  readonly profile?: string;
  readonly oversized: 'dead_letter' | 'split';
  /** Log streams written in parallel within one batch (calls to one stream stay sequential). */
  readonly concurrency: number;
  readonly limits: BatchLimits;
  readonly requestTimeoutMs: number;
}

export const DEFAULT_LOG_STREAM = '{{ origin.host ?? unknown-host }}/{{ origin.source }}';

// One full PutLogEvents call per runner batch when events are ~100 bytes; bigger events make
// the sink split the batch into several calls within the API's limits.
export const CWL_DEFAULT_LIMITS: BatchLimits = { maxEvents: MAX_BATCH_EVENTS, maxBytes: MAX_BATCH_BYTES, maxWaitMs: 1000 };

export function cloudWatchLogsOptions(name: string, raw: SinkBlock): CloudWatchLogsOptions {
  const block = raw as CloudWatchLogsBlock;
  const where = `sinks.${name}`;
  if (typeof block.log_group !== 'string' || block.log_group === '') {
    throw new ConfigError('missing_log_group', `${where}.log_group: the log group (or a template, e.g. "/agent-audit/{{ tenant.id ?? default }}") is required`, { path: `${where}.log_group` });
  }
  const createLogGroup = block.create_log_group === true;
  if (block.retention_days !== undefined) {
    if (!RETENTION_DAYS.includes(block.retention_days)) {
      throw new ConfigError('bad_retention', `${where}.retention_days: ${block.retention_days} is not a value CloudWatch Logs accepts (${RETENTION_DAYS.join(', ')})`, { path: `${where}.retention_days` });
    }
    if (!createLogGroup) throw new ConfigError('retention_without_create', `${where}.retention_days: applies to log groups the sink creates; set create_log_group: true (an existing group's retention is left alone)`, { path: `${where}.retention_days` });
  }
  const keys = [block.access_key_id, block.secret_access_key].filter((k) => k !== undefined).length;
  if (keys === 1) throw new ConfigError('partial_credentials', `${where}: access_key_id and secret_access_key go together (or set neither and use the AWS credential chain)`, { path: where });
  if (keys === 0 && block.session_token !== undefined) throw new ConfigError('partial_credentials', `${where}.session_token: only with access_key_id and secret_access_key`, { path: `${where}.session_token` });
  if (keys === 2 && block.profile !== undefined) throw new ConfigError('ambiguous_credentials', `${where}: set either access_key_id/secret_access_key or profile, not both`, { path: where });
  const limits = batchLimits(block.batch, CWL_DEFAULT_LIMITS, where);
  return {
    ...(block.region !== undefined ? { region: block.region } : {}),
    ...(block.endpoint !== undefined ? { endpoint: baseUrl(block.endpoint, `${where}.endpoint`) } : {}),
    logGroup: compileTemplate(block.log_group, `${where}.log_group`, sanitizeGroupName),
    logStream: compileTemplate(block.log_stream ?? DEFAULT_LOG_STREAM, `${where}.log_stream`, sanitizeStreamName),
    createLogGroup,
    createLogStream: block.create_log_stream !== false,
    ...(block.retention_days !== undefined ? { retentionDays: block.retention_days } : {}),
    ...(keys === 2
      ? { credentials: { accessKeyId: block.access_key_id!, secretAccessKey: block.secret_access_key!, ...(block.session_token !== undefined ? { sessionToken: block.session_token } : {}) } }
      : {}),
    ...(block.profile !== undefined ? { profile: block.profile } : {}),
    oversized: block.oversized_events ?? 'dead_letter',
    concurrency: block.concurrency ?? 4,
    limits,
    requestTimeoutMs: durationMs(block.request_timeout, 30_000, `${where}.request_timeout`),
  };
}
