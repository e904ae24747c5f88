// Typed errors that carry their context; `code` is stable and safe to log, `message` never
// contains a secret value (config secrets are referred to by their ${...} reference).

export class AgentAuditError extends Error {
  readonly code: string;
  readonly context: Readonly<Record<string, unknown>>;
  constructor(code: string, message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.context = context;
  }
}

/** The input could not be turned into an event (goes to the dead-letter queue). */
export class InputError extends AgentAuditError {}

/** Configuration is invalid; the message names file, line and path. */
export class ConfigError extends AgentAuditError {}

/** The spool cannot take more data right now (sources pause, webhooks answer 503). */
export class SpoolFullError extends AgentAuditError {
  constructor(context: Record<string, unknown> = {}) {
    super('spool_full', 'spool is full: sources are paused until sinks catch up', context);
  }
}

/** On-disk state is unreadable (corrupt record, wrong encryption key). */
export class StorageError extends AgentAuditError {}

/** A sink cannot work at all (bad credentials, disabled token): stop it loudly. */
export class SinkFatalError extends AgentAuditError {}

/** The daemon is shutting down; in-flight work is abandoned (never lost: not yet acknowledged). */
export class ShutdownError extends AgentAuditError {
  constructor() {
    super('shutting_down', 'agent-audit is shutting down');
  }
}
