/** What differs between the OTLP signals the source receives; everything else is shared. */
export interface Signal {
  readonly name: 'logs' | 'traces';
  readonly requestType: string;
  readonly responseType: string;
  /** OTLP/JSON keys of the three levels: resource → scope → item. */
  readonly resourceKey: string;
  readonly scopeKey: string;
  readonly itemKey: string;
  /** Field of the partial-success message that holds the number of rejected items. */
  readonly partialType: string;
  readonly rejectedField: string;
  readonly itemNoun: string;
}

export const LOGS: Signal = {
  name: 'logs',
  requestType: 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest',
  responseType: 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse',
  resourceKey: 'resourceLogs',
  scopeKey: 'scopeLogs',
  itemKey: 'logRecords',
  partialType: 'ExportLogsPartialSuccess',
  rejectedField: 'rejectedLogRecords',
  itemNoun: 'log records',
};

export const TRACES: Signal = {
  name: 'traces',
  requestType: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest',
  responseType: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse',
  resourceKey: 'resourceSpans',
  scopeKey: 'scopeSpans',
  itemKey: 'spans',
  partialType: 'ExportTracePartialSuccess',
  rejectedField: 'rejectedSpans',
  itemNoun: 'spans',
};

export const SIGNALS: readonly Signal[] = [LOGS, TRACES];
