// The secrets and personal data the policy removes from every string, as data: one row per
// kind, most specific first (at the same position the first row wins, so `sk-ant-…` is an
// Anthropic key before it is an OpenAI-style `sk-…` key). Rows are combined into one regular
// expression (redactor.ts), so each string is scanned once, not once per kind.
//
// Rules for a row: no capturing groups (use `(?:…)`; the redactor numbers the rows by their
// own group), and no flags — case-insensitive parts are spelled with `ci()`, because the
// combined expression cannot mix flags (inline `(?i:…)` needs V8 12.5+, Node 22 has 12.4).
// Every row has a trigger (see SecretPattern.trigger); test/normalize/policy.test.ts proves on
// the canary corpus and on random strings that a row never matches where its trigger does not.
// The match is what gets replaced: context that must stay (a header name, `password=`) goes
// in a lookbehind.

export type SecretKind =
  | 'private_key'
  | 'certificate'
  | 'anthropic_api_key'
  | 'openai_api_key'
  | 'github_token'
  | 'gitlab_token'
  | 'slack_token'
  | 'slack_webhook'
  | 'aws_access_key_id'
  | 'aws_secret_access_key'
  | 'google_api_key'
  | 'huggingface_token'
  | 'jwt'
  | 'npm_token'
  | 'stripe_key'
  | 'webhook_secret'
  | 'linear_api_key'
  | 'kong_key'
  | 'url_password'
  | 'authorization'
  | 'bearer_token'
  | 'credential_assignment'
  | 'credential_param'
  | 'iban'
  | 'us_ssn'
  | 'phone'
  | 'email';

export interface SecretPattern {
  readonly kind: SecretKind;
  readonly source: string;
  /**
   * A cheap expression that matches wherever `source` can (a necessary condition: literal
   * prefixes, the `=`/`:` of an assignment). The union of all triggers is tested first, and the
   * full expression runs only on the few strings it matches: most strings in an event are ids,
   * names and times, and a failed literal scan costs a fraction of the full alternation.
   */
  readonly trigger: string;
  /** Personal data rather than a credential: e-mail is kept in identity fields (user.email). */
  readonly pii?: boolean;
}

/** Case-insensitive spelling of a literal word without the `i` flag: ci('Bearer') → [Bb][Ee]… */
export function ci(word: string): string {
  return [...word].map((c) => (/[a-z]/i.test(c) ? `[${c.toUpperCase()}${c.toLowerCase()}]` : c.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&'))).join('');
}

const alt = (...words: string[]): string => `(?:${words.map(ci).join('|')})`;

// Names whose value is a credential, in `name=value`, `name: value` and `"name": "value"` forms.
const CREDENTIAL_NAMES = alt(
  'password', 'passwd', 'pwd', 'pgpassword', 'mysql_pwd', 'secret', 'client_secret', 'secret_key',
  'api_key', 'api-key', 'apikey', 'x-api-key', 'access_token', 'auth_token', 'refresh_token', 'id_token',
  'session_token', 'private_key', 'access_key_secret', 'aws_secret_access_key', 'x-amz-security-token',
);
// Query parameters that carry credentials (`?api_key=…`, `&token=…`, presigned `X-Amz-Signature=…`).
const CREDENTIAL_PARAMS = alt(
  'api_key', 'apikey', 'key', 'token', 'access_token', 'refresh_token', 'id_token', 'auth', 'password',
  'passwd', 'secret', 'client_secret', 'sig', 'signature', 'x-amz-signature', 'x-amz-credential',
  'x-amz-security-token', 'code',
);
// A value up to a delimiter of the surrounding syntax (JSON, query string, connection string, shell).
const VALUE = `[^\\s"'&;,<>{}\\\\]{3,}`;
// Trigger of the rows that need a `name: value` / `name=value` context: every credential name
// ends in a letter, optionally quoted, so a colon after a digit (times, ports) is no trigger.
const ASSIGNMENT = `=|[A-Za-z"']\\s*:`;
const PEM_BODY = `(?:[A-Za-z0-9+/=\\s]|\\\\[nr])*`;
const pem = (label: string): string =>
  `-----BEGIN ${label}-----(?:[\\s\\S]*?-----END ${label}-----|${PEM_BODY})`;

export const SECRET_PATTERNS: readonly SecretPattern[] = [
  { kind: 'private_key', trigger: '-----BEGIN ', source: pem('(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?') },
  { kind: 'certificate', trigger: '-----BEGIN ', source: pem('(?:TRUSTED |X509 )?CERTIFICATE') },
  { kind: 'anthropic_api_key', trigger: 'sk-ant-', source: '\\bsk-ant-[A-Za-z0-9_-]{20,}' },
  { kind: 'openai_api_key', trigger: 'sk-', source: '\\bsk-(?:proj-|admin-|svcacct-|None-)?[A-Za-z0-9_-]{20,}' },
  { kind: 'github_token', trigger: 'gh[pousr]_|github_pat_', source: '\\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})' },
  { kind: 'gitlab_token', trigger: 'glpat-', source: '\\bglpat-[A-Za-z0-9_-]{20,}' },
  { kind: 'slack_token', trigger: 'xox[abposr]-', source: '\\bxox[abposr]-[A-Za-z0-9-]{10,}' },
  { kind: 'slack_webhook', trigger: 'hooks\\.slack\\.com/', source: 'hooks\\.slack\\.com/services/[A-Za-z0-9/]{20,}' },
  { kind: 'aws_access_key_id', trigger: 'A(?:KI|SI|BI|CC)A', source: '\\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\\b' },
  {
    kind: 'aws_secret_access_key',
    trigger: ASSIGNMENT,
    source: `(?<=${alt('aws_secret_access_key', 'aws-secret-access-key', 'secretaccesskey', 'secret_access_key')}["']?\\s*[:=]\\s*["']?)[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])`,
  },
  { kind: 'google_api_key', trigger: 'AIza', source: '\\bAIza[0-9A-Za-z_-]{35}' },
  { kind: 'huggingface_token', trigger: 'hf_', source: '\\bhf_[A-Za-z0-9]{30,}' },
  { kind: 'jwt', trigger: 'eyJ', source: '\\beyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]*' },
  { kind: 'npm_token', trigger: 'npm_', source: '\\bnpm_[A-Za-z0-9]{30,}' },
  { kind: 'stripe_key', trigger: '[rs]k_(?:live|test)_', source: '\\b[rs]k_(?:live|test)_[A-Za-z0-9]{10,}' },
  { kind: 'webhook_secret', trigger: 'whsec_', source: '\\bwhsec_[A-Za-z0-9+/=]{20,}' },
  { kind: 'linear_api_key', trigger: 'lin_api_', source: '\\blin_api_[A-Za-z0-9]{20,}' },
  { kind: 'kong_key', trigger: 'kong_', source: '\\bkong_[A-Za-z0-9]{20,}' },
  // scheme://user:PASSWORD@host — database URLs, proxies, git remotes.
  { kind: 'url_password', trigger: '@', source: '(?<=\\b[A-Za-z][A-Za-z0-9+.-]*://[^\\s:@/"]*:)[^\\s@/"]+(?=@)' },
  // Authorization: Basic/Digest/Token … (Bearer is its own row, it appears outside headers too).
  { kind: 'authorization', trigger: ASSIGNMENT, source: `(?<=${alt('authorization', 'proxy-authorization')}["']?\\s*[:=]\\s*["']?${alt('basic', 'digest', 'token', 'apikey')}\\s+)[A-Za-z0-9._~+/=-]{6,}` },
  { kind: 'bearer_token', trigger: ci('bearer'), source: `(?<=\\b${ci('bearer')}\\s+)[A-Za-z0-9._~+/-]{16,}=*` },
  { kind: 'credential_assignment', trigger: ASSIGNMENT, source: `(?<=(?:^|[^A-Za-z0-9_-])${CREDENTIAL_NAMES}["']?\\s*[:=]\\s*["']?)${VALUE}` },
  { kind: 'credential_param', trigger: '[?&][^=&\\s]+=', source: `(?<=[?&]${CREDENTIAL_PARAMS}=)[^&\\s"'#\\\\]+` },
  { kind: 'iban', trigger: '[A-Z]{2}\\d{2}', source: '\\b[A-Z]{2}\\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?\\b', pii: true },
  { kind: 'us_ssn', trigger: '\\d{3}-\\d{2}-\\d{4}', source: '\\b\\d{3}-\\d{2}-\\d{4}\\b', pii: true },
  { kind: 'phone', trigger: '\\+\\d{10}', source: '\\+\\d{10,15}\\b', pii: true },
  { kind: 'email', trigger: '@', source: '[A-Za-z0-9._%+\\-\\u00C0-\\u024F]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}', pii: true },
];
