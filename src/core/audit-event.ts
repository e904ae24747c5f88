// GENERATED from schemas/audit-event.schema.json by scripts/gen-types.ts: do not edit by hand.
/* eslint-disable */

/**
 * One canonical AI-agent audit event. Names follow the OpenTelemetry GenAI and MCP semantic conventions (nested: `gen_ai.usage.input_tokens` is gen_ai → usage → input_tokens) wherever they have one.
 */
export interface AuditEvent {
  /**
   * Version of this schema.
   */
  schema_version: '1.0';
  /**
   * What happened and when.
   */
  event: {
    /**
     * Deterministic id: derived from source identity + position + index within the raw record (redelivery keeps it).
     */
    id: string;
    /**
     * Normalized action class.
     */
    action:
      | 'llm.call'
      | 'tool.call'
      | 'api.call'
      | 'auth.decision'
      | 'auth.login'
      | 'auth.logout'
      | 'config.change'
      | 'prompt.submit'
      | 'agent.lifecycle'
      | 'notification';
    /**
     * Operation name as the platform names it (gen_ai.operation.name, mcp method, audit-log type, hook event).
     */
    operation?: string;
    outcome: 'success' | 'failure' | 'unknown';
    severity?: 'informational' | 'low' | 'medium' | 'high' | 'critical';
    /**
     * Short human-readable reason for the outcome or decision (redacted).
     */
    reason?: string;
    /**
     * When the action started (RFC 3339, up to nanosecond precision, UTC).
     */
    time: string;
    /**
     * When the action ended.
     */
    end_time?: string;
    /**
     * When agent-audit read the record.
     */
    observed_time: string;
    /**
     * Latency of the action in milliseconds.
     */
    duration_ms?: number;
    /**
     * Request id given by the gateway or provider.
     */
    request_id?: string;
    /**
     * Id that ties several events of one workflow or call together.
     */
    correlation_id?: string;
  };
  /**
   * OpenTelemetry GenAI attributes.
   */
  gen_ai?: {
    operation?: {
      /**
       * gen_ai.operation.name
       */
      name?: string;
    };
    provider?: {
      /**
       * gen_ai.provider.name, e.g. openai, anthropic, aws.bedrock
       */
      name?: string;
    };
    request?: {
      /**
       * gen_ai.request.model
       */
      model?: string;
      /**
       * gen_ai.request.max_tokens
       */
      max_tokens?: number;
      /**
       * gen_ai.request.temperature
       */
      temperature?: number;
      /**
       * gen_ai.request.top_p
       */
      top_p?: number;
      /**
       * gen_ai.request.stream
       */
      stream?: boolean;
    };
    response?: {
      /**
       * gen_ai.response.model
       */
      model?: string;
      /**
       * gen_ai.response.id
       */
      id?: string;
      /**
       * gen_ai.response.finish_reasons
       */
      finish_reasons?: string[];
    };
    usage?: {
      /**
       * gen_ai.usage.input_tokens
       */
      input_tokens?: number;
      /**
       * gen_ai.usage.output_tokens
       */
      output_tokens?: number;
      /**
       * Total tokens as reported (not in OTel).
       */
      total_tokens?: number;
      cache_read?: {
        /**
         * gen_ai.usage.cache_read.input_tokens
         */
        input_tokens?: number;
      };
      cache_creation?: {
        /**
         * gen_ai.usage.cache_creation.input_tokens
         */
        input_tokens?: number;
      };
      reasoning?: {
        /**
         * gen_ai.usage.reasoning.output_tokens
         */
        output_tokens?: number;
      };
    };
    /**
     * The AI agent that acted (gen_ai.agent.*).
     */
    agent?: {
      /**
       * gen_ai.agent.id
       */
      id?: string;
      /**
       * gen_ai.agent.name
       */
      name?: string;
      /**
       * gen_ai.agent.version
       */
      version?: string;
      /**
       * gen_ai.agent.description
       */
      description?: string;
      /**
       * Run or instance of the agent (OCSF 1.9 ai_agent.instance_uid).
       */
      instance_id?: string;
      /**
       * Agent framework or harness, e.g. claude-code, openai-agents, langchain.
       */
      framework?: string;
    };
    tool?: {
      /**
       * gen_ai.tool.name
       */
      name?: string;
      /**
       * gen_ai.tool.type: function, extension, datastore
       */
      type?: string;
      call?: {
        /**
         * gen_ai.tool.call.id
         */
        id?: string;
      };
    };
    conversation?: {
      /**
       * gen_ai.conversation.id
       */
      id?: string;
    };
  };
  /**
   * OpenTelemetry MCP attributes, plus the server the tool lives on.
   */
  mcp?: {
    method?: {
      /**
       * mcp.method.name, e.g. tools/call
       */
      name?: string;
    };
    session?: {
      /**
       * mcp.session.id
       */
      id?: string;
    };
    protocol?: {
      /**
       * mcp.protocol.version
       */
      version?: string;
    };
    resource?: {
      /**
       * mcp.resource.uri (sanitized)
       */
      uri?: string;
    };
    /**
     * MCP server (not in OTel).
     */
    server?: {
      name?: string;
      id?: string;
      /**
       * Sanitized URL: no query string, no userinfo.
       */
      url?: string;
    };
    /**
     * JSON-RPC error code (rpc.response.status_code).
     */
    rpc_status_code?: number;
  };
  /**
   * The human the agent acted for.
   */
  user?: {
    id?: string;
    name?: string;
    email?: string;
    roles?: string[];
    type?: 'human' | 'service' | 'admin' | 'system' | 'unknown';
  };
  /**
   * The identity whose privileges were used (service account, key owner, IAM role) when it differs from user.
   */
  principal?: {
    id?: string;
    name?: string;
    /**
     * iam_role, service_account, api_key_owner, …
     */
    type?: string;
  };
  /**
   * Organization / account / workspace.
   */
  tenant?: {
    id?: string;
    name?: string;
  };
  /**
   * Project, team or workspace inside the tenant.
   */
  project?: {
    id?: string;
    name?: string;
  };
  /**
   * The credential used — its id or fingerprint, never the secret.
   */
  credential?: {
    id?: string;
    name?: string;
    /**
     * api_key, session, oauth, service_account, virtual_key, …
     */
    type?: string;
    /**
     * Hash of the credential as logged by the platform (e.g. LiteLLM user_api_key_hash).
     */
    fingerprint?: string;
  };
  /**
   * On whose behalf and through which chain of agents.
   */
  delegation?: {
    /**
     * Ids from the originating principal to the acting agent.
     */
    chain?: string[];
    parent_agent_id?: string;
    acting_as?: string;
    scopes?: string[];
  };
  session?: {
    /**
     * session.id: agent runtime session.
     */
    id?: string;
  };
  trace?: {
    trace_id?: string;
    span_id?: string;
    parent_span_id?: string;
  };
  /**
   * Where the call came from.
   */
  client?: {
    address?: string;
    ip?: string;
    port?: number;
    user_agent?: string;
    geo?: {
      country_iso_code?: string;
      city?: string;
      region?: string;
    };
  };
  /**
   * Endpoint the call went to.
   */
  server?: {
    address?: string;
    port?: number;
  };
  /**
   * Sanitized endpoint: no query string, no userinfo, no fragment.
   */
  url?: {
    full?: string;
    scheme?: string;
    domain?: string;
    port?: number;
    path?: string;
  };
  http?: {
    request?: {
      method?: string;
      body?: {
        size?: number;
      };
    };
    response?: {
      status_code?: number;
      body?: {
        size?: number;
      };
    };
  };
  error?: {
    /**
     * Low-cardinality error class (error.type).
     */
    type?: string;
    code?: string;
    /**
     * Redacted error message.
     */
    message?: string;
  };
  cost?: {
    amount: number;
    /**
     * ISO 4217
     */
    currency: string;
  };
  /**
   * The object a config.change acted on.
   */
  config?: {
    object?: {
      /**
       * api_key, project, user, invite, role, rate_limit, …
       */
      type?: string;
      id?: string;
      name?: string;
    };
    change?: 'create' | 'read' | 'update' | 'delete' | 'enable' | 'disable' | 'other';
    /**
     * Requested changes, redacted; string values only after flattening.
     */
    changes?: {
      [k: string]: string;
    };
  };
  /**
   * An authorization or guardrail decision.
   */
  policy?: {
    decision?: 'allow' | 'deny' | 'redact' | 'require_approval' | 'observe';
    id?: string;
    name?: string;
    /**
     * config, hook, user, guardrail, …
     */
    source?: string;
  };
  /**
   * What happened to the payload.
   */
  payload: {
    /**
     * none: payloads dropped; hash: only hashes and sizes; full: redacted content kept.
     */
    mode: 'none' | 'hash' | 'full';
    algorithm?: 'sha256' | 'hmac-sha256';
    /**
     * Digest of one payload field. The content itself appears only under payload mode `full`, already redacted.
     */
    prompt?: {
      /**
       * Lowercase hex SHA-256 (mode hash, no key) or HMAC-SHA256 (key configured) of the UTF-8 bytes of the original value.
       */
      hash: string;
      /**
       * Size in bytes of the original value (UTF-8).
       */
      bytes: number;
      /**
       * The value with secrets redacted and e-mail addresses masked; present only in payload mode `full`.
       */
      content?: string;
      /**
       * The platform itself truncated the value before logging it.
       */
      truncated?: boolean;
    };
    /**
     * Digest of one payload field. The content itself appears only under payload mode `full`, already redacted.
     */
    completion?: {
      /**
       * Lowercase hex SHA-256 (mode hash, no key) or HMAC-SHA256 (key configured) of the UTF-8 bytes of the original value.
       */
      hash: string;
      /**
       * Size in bytes of the original value (UTF-8).
       */
      bytes: number;
      /**
       * The value with secrets redacted and e-mail addresses masked; present only in payload mode `full`.
       */
      content?: string;
      /**
       * The platform itself truncated the value before logging it.
       */
      truncated?: boolean;
    };
    /**
     * Digest of one payload field. The content itself appears only under payload mode `full`, already redacted.
     */
    tool_arguments?: {
      /**
       * Lowercase hex SHA-256 (mode hash, no key) or HMAC-SHA256 (key configured) of the UTF-8 bytes of the original value.
       */
      hash: string;
      /**
       * Size in bytes of the original value (UTF-8).
       */
      bytes: number;
      /**
       * The value with secrets redacted and e-mail addresses masked; present only in payload mode `full`.
       */
      content?: string;
      /**
       * The platform itself truncated the value before logging it.
       */
      truncated?: boolean;
    };
    /**
     * Digest of one payload field. The content itself appears only under payload mode `full`, already redacted.
     */
    tool_result?: {
      /**
       * Lowercase hex SHA-256 (mode hash, no key) or HMAC-SHA256 (key configured) of the UTF-8 bytes of the original value.
       */
      hash: string;
      /**
       * Size in bytes of the original value (UTF-8).
       */
      bytes: number;
      /**
       * The value with secrets redacted and e-mail addresses masked; present only in payload mode `full`.
       */
      content?: string;
      /**
       * The platform itself truncated the value before logging it.
       */
      truncated?: boolean;
    };
    /**
     * Digest of one payload field. The content itself appears only under payload mode `full`, already redacted.
     */
    system_instructions?: {
      /**
       * Lowercase hex SHA-256 (mode hash, no key) or HMAC-SHA256 (key configured) of the UTF-8 bytes of the original value.
       */
      hash: string;
      /**
       * Size in bytes of the original value (UTF-8).
       */
      bytes: number;
      /**
       * The value with secrets redacted and e-mail addresses masked; present only in payload mode `full`.
       */
      content?: string;
      /**
       * The platform itself truncated the value before logging it.
       */
      truncated?: boolean;
    };
    /**
     * Digest of one payload field. The content itself appears only under payload mode `full`, already redacted.
     */
    request_body?: {
      /**
       * Lowercase hex SHA-256 (mode hash, no key) or HMAC-SHA256 (key configured) of the UTF-8 bytes of the original value.
       */
      hash: string;
      /**
       * Size in bytes of the original value (UTF-8).
       */
      bytes: number;
      /**
       * The value with secrets redacted and e-mail addresses masked; present only in payload mode `full`.
       */
      content?: string;
      /**
       * The platform itself truncated the value before logging it.
       */
      truncated?: boolean;
    };
    /**
     * Digest of one payload field. The content itself appears only under payload mode `full`, already redacted.
     */
    response_body?: {
      /**
       * Lowercase hex SHA-256 (mode hash, no key) or HMAC-SHA256 (key configured) of the UTF-8 bytes of the original value.
       */
      hash: string;
      /**
       * Size in bytes of the original value (UTF-8).
       */
      bytes: number;
      /**
       * The value with secrets redacted and e-mail addresses masked; present only in payload mode `full`.
       */
      content?: string;
      /**
       * The platform itself truncated the value before logging it.
       */
      truncated?: boolean;
    };
  };
  /**
   * What the policy removed.
   */
  redaction?: {
    applied: boolean;
    /**
     * Number of secrets and e-mail addresses replaced.
     */
    count?: number;
    /**
     * Kinds of secrets found, e.g. openai_api_key, aws_access_key_id, jwt, email.
     */
    kinds?: string[];
    /**
     * Canonical field paths whose value was altered by redaction.
     */
    fields?: string[];
  };
  /**
   * Where the event came from.
   */
  origin: {
    input: 'file' | 'kafka' | 'webhook' | 'otlp' | 'stdin';
    /**
     * Configured source name.
     */
    source: string;
    /**
     * Mapping / format name that produced the event.
     */
    format: string;
    /**
     * Platform that produced the original log.
     */
    product?: {
      name?: string;
      vendor?: string;
      version?: string;
    };
    /**
     * Where in the input.
     */
    position?: {
      file?: {
        path?: string;
        /**
         * Byte offset of the line.
         */
        offset?: number;
        /**
         * 1-based line number when known.
         */
        line?: number;
      };
      kafka?: {
        topic?: string;
        partition?: number;
        /**
         * Decimal string (int64).
         */
        offset?: string;
      };
      http?: {
        path?: string;
        delivery_id?: string;
      };
    };
    /**
     * Index of this event within its raw record.
     */
    index: number;
    raw_sha256: string;
    raw_bytes?: number;
    original_event_id?: string;
    /**
     * The time as written by the platform.
     */
    original_time?: string;
    /**
     * Host agent-audit runs on.
     */
    host?: string;
  };
  /**
   * Tamper-evident hash chain, set at spool append.
   */
  chain?: {
    /**
     * Chain id (one per spool).
     */
    id: string;
    /**
     * Sequence number in the chain.
     */
    seq: number;
    prev_hash: string;
    /**
     * sha256(prev_hash || JCS(event without chain.hash and chain.signature))
     */
    hash: string;
    /**
     * Signed checkpoint (spool.checkpoints): Ed25519 over "agent-audit checkpoint v1", chain id, seq, hash and interval, on every Nth event. Not covered by the hash.
     */
    signature?: {
      /**
       * First 16 hex characters of the SHA-256 of the public key (SPKI DER).
       */
      key_id: string;
      /**
       * Checkpoint interval: the next checkpoint is at seq + every.
       */
      every: number;
      /**
       * Ed25519 signature, base64.
       */
      value: string;
    };
  };
  /**
   * Extra key/value context (string values).
   */
  labels?: {
    [k: string]: string;
  };
}
