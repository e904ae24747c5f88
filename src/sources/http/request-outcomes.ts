/**
 * Answers given, by outcome (accepted, duplicate, partial, or the reason of a refusal such as
 * bad_signature, body_too_large, spool_full): the source's `requests` figure, exported by the
 * daemon as agent_audit_source_http_requests_total{source,outcome}.
 */
export class RequestOutcomes {
  private readonly counts = new Map<string, number>();

  count(outcome: string): void {
    this.counts.set(outcome, (this.counts.get(outcome) ?? 0) + 1);
  }

  get(outcome: string): number {
    return this.counts.get(outcome) ?? 0;
  }

  snapshot(): Readonly<Record<string, number>> {
    return Object.fromEntries(this.counts);
  }
}
