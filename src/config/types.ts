// The validated configuration. Component blocks stay as plain objects here: each component
// validates and types its own block (its factory's config interface), the daemon only routes
// them by `type`.

export type SourceType = 'file' | 'kafka' | 'webhook' | 'otlp';
export type SinkType = 'splunk_hec' | 'elasticsearch' | 'cloudwatch_logs' | 'file' | 'stdout';

export interface SourceBlock {
  readonly type: SourceType;
  readonly format: string;
  readonly payload_mode: 'none' | 'hash' | 'full';
  readonly redaction?: { readonly hmac_key?: string; readonly extra_patterns?: readonly string[] };
  readonly [key: string]: unknown;
}

export interface SinkBlock {
  readonly type: SinkType;
  readonly encoding: 'canonical' | 'ecs' | 'ocsf';
  /** Target schema version (must match a mapping file); absent = the default mapping file's. */
  readonly encoding_version?: string;
  readonly start_at: 'oldest' | 'newest';
  readonly [key: string]: unknown;
}

export type Scalar = string | number | boolean;

export interface Condition {
  readonly field?: string;
  readonly equals?: Scalar;
  readonly not_equals?: Scalar;
  readonly in?: readonly Scalar[];
  readonly exists?: boolean;
  readonly matches?: string;
  readonly all?: readonly Condition[];
  readonly any?: readonly Condition[];
  readonly not?: Condition;
}

export interface Route {
  readonly from?: readonly string[];
  readonly to: readonly string[];
  readonly when?: Condition;
}

export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  readonly tls?: { readonly cert_file: string; readonly key_file: string };
  readonly readySinkFailureThresholdMs: number;
  readonly enableReload: boolean;
}

export interface AgentAuditConfig {
  /** Absolute path of the file the config came from (undefined for the embedded default). */
  readonly file?: string;
  readonly dataDir: string;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  readonly shutdownTimeoutMs: number;
  readonly workers: number;
  /** Extra mapping directories (absolute), loaded after the built-in mappings. */
  readonly mappingDirs: readonly string[];
  readonly spool: Readonly<Record<string, unknown>>;
  readonly server: ServerConfig;
  readonly sources: Readonly<Record<string, SourceBlock>>;
  readonly sinks: Readonly<Record<string, SinkBlock>>;
  readonly routes: readonly Route[];
  /** Config paths filled from ${…} references: masked wherever the config is shown. */
  readonly secretPaths: ReadonlySet<string>;
}
