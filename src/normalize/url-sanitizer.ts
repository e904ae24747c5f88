// Endpoints are kept as scheme://host[:port]/path: the query string and fragment routinely carry
// credentials and personal data (`?api_key=…`, OAuth codes, presigned-URL signatures), and the
// userinfo part carries passwords. Applied to the canonical URL fields before redaction runs.

/** Canonical fields that hold a URL. */
export const URL_FIELDS: ReadonlySet<string> = new Set(['url.full', 'mcp.server.url', 'mcp.resource.uri']);

export function sanitizeUrl(value: string): string {
  const cut = value.search(/[?#]/);
  const base = cut >= 0 ? value.slice(0, cut) : value;
  return base.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}
