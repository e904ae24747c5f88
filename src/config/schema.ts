import { existsSync, readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

/**
 * Assembles the full config schema: schemas/config.schema.json for the top level, plus one
 * fragment per component type from schemas/components/ (each owned by its component, as the
 * OpenTelemetry Collector lets each component validate its own config). Settings every source
 * or sink has (`format`, `payload_mode`, `encoding`, …) are added to each fragment here, so a
 * fragment stays about its component.
 */

const schemasDir = new URL('../../schemas/', import.meta.url);

export const SOURCE_FRAGMENTS: Readonly<Record<string, string>> = {
  file: 'file_source',
  kafka: 'kafka_source',
  webhook: 'webhook_source',
  otlp: 'otlp_source',
};

export const SINK_FRAGMENTS: Readonly<Record<string, string>> = {
  splunk_hec: 'splunk_hec',
  elasticsearch: 'elasticsearch',
  cloudwatch_logs: 'cloudwatch_logs',
  file: 'file_sink',
  stdout: 'stdout_sink',
};

type JsonObject = Record<string, unknown>;

function readJson(url: URL): JsonObject {
  return JSON.parse(readFileSync(url, 'utf8')) as JsonObject;
}

function fragmentId(name: string): string {
  return `https://agent-audit.dev/schemas/components/${name}.json`;
}

/** A component fragment with the common settings merged in; permissive when the file is absent. */
function loadFragment(name: string, common: JsonObject | undefined): JsonObject {
  const url = new URL(`components/${name}.schema.json`, schemasDir);
  const fragment: JsonObject = existsSync(url) ? readJson(url) : { type: 'object' };
  const properties = { ...((fragment.properties as JsonObject | undefined) ?? {}) };
  const commonProps = (common?.properties as JsonObject | undefined) ?? {};
  for (const [key, schema] of Object.entries(commonProps)) {
    if (!(key in properties)) properties[key] = schema;
  }
  const out: JsonObject = { ...fragment, $id: fragmentId(name), properties };
  delete out.$schema;
  return out;
}

export interface ConfigSchema {
  readonly schema: JsonObject;
  readonly fragments: readonly JsonObject[];
}

export function buildConfigSchema(): ConfigSchema {
  const root = readJson(new URL('config.schema.json', schemasDir));
  const defs = root.$defs as JsonObject;
  const fragments: JsonObject[] = [];
  const branches = (table: Readonly<Record<string, string>>, common: JsonObject) =>
    Object.entries(table).map(([type, name]) => {
      fragments.push(loadFragment(name, common));
      return { if: { properties: { type: { const: type } }, required: ['type'] }, then: { $ref: fragmentId(name) } };
    });
  const source = { ...(defs.source as JsonObject), allOf: branches(SOURCE_FRAGMENTS, defs.sourceCommon as JsonObject) };
  const sink = { ...(defs.sink as JsonObject), allOf: branches(SINK_FRAGMENTS, defs.sinkCommon as JsonObject) };
  fragments.push(loadFragment('spool', undefined));
  const properties = { ...(root.properties as JsonObject), spool: { $ref: fragmentId('spool') } };
  const schema: JsonObject = { ...root, properties, $defs: { ...defs, source, sink } };
  return { schema, fragments };
}

let compiled: ValidateFunction | undefined;

/** Compiled once per process. Applies schema defaults to the object it validates. */
export function configValidator(): ValidateFunction {
  if (compiled) return compiled;
  const { schema, fragments } = buildConfigSchema();
  const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: false, useDefaults: true, allowUnionTypes: true });
  const addFormats = addFormatsModule as unknown as (a: Ajv2020) => void;
  addFormats(ajv);
  for (const f of fragments) ajv.addSchema(f);
  compiled = ajv.compile(schema);
  return compiled;
}
