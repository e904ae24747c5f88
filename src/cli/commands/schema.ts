// agent-audit schema: the field dictionary, canonical field → ECS field → OCSF attribute, from the
// compiled mapping files (so it cannot drift from what the encoders do).
// Exit: 0 printed, 1 a mapping file is broken, 2 usage error.

import { parseArgs } from 'node:util';
import { AgentAuditError } from '../../core/errors.ts';
import { fieldDictionary, type DictionaryEntry, type FieldDictionary } from '../../formats/field-dictionary.ts';
import { compiledTarget } from '../../formats/index.ts';

const HELP = `Usage: agent-audit schema [--to ecs|ocsf] [--version V] [--format table|markdown|json] [--field PREFIX]

Print the field dictionary: for each field of the canonical audit event, where it is in the
ECS and in the OCSF rendering. Fields a target has no place for are kept under its custom
namespace (ECS ai_audit.<field>, OCSF unmapped.ai_audit.<field>), so nothing is dropped, and
every rendering converts back to the exact canonical event (agent-audit verify relies on it).

Options:
  --to ecs|ocsf        one target (default: both side by side)
  --version V          target version (default: the version of mappings/targets/<target>.yaml)
  --format FORMAT      table (default, for a terminal), markdown (for an evidence packet), json
  --field PREFIX       only fields starting with PREFIX, e.g. gen_ai or user.
  -h, --help           show this help

Marks:  (custom)  the target has no field for it (in this class): kept in the custom namespace
        *  some values also go to the custom namespace (a value the target field cannot hold
           exactly, or a condition the class imposes); the decoder reads them from there
        +  copies written for the target's consumers (never read back)
`;

class UsageError extends Error {}

interface Column {
  readonly title: string;
  readonly cell: (e: DictionaryEntry) => string[];
}

const CLASS_CAPTIONS = (d: FieldDictionary): Map<string, string> => new Map(d.routes.map((r) => [r.class, r.caption]));

/** One field's placement(s) as lines: the most common first, then "In <classes>: …" for the others. */
function placementLines(d: FieldDictionary, e: DictionaryEntry): string[] {
  const captions = CLASS_CAPTIONS(d);
  const describe = (p: DictionaryEntry['placements'][number]['placement']): string => {
    let s = p.path;
    if (p.note !== undefined) s += ` (${p.note})`;
    if (p.partial) s += ' *';
    if (p.fallback) s += '  (custom)';
    for (const c of p.copies) s += ` + ${c}`;
    return s;
  };
  if (e.placements.length === 1) return [describe(e.placements[0]!.placement)];
  return e.placements.map((g, i) => (i === 0 ? describe(g.placement) : `in ${g.classes.map((c) => captions.get(c) ?? c).join(', ')}: ${describe(g.placement)}`));
}

function table(columns: readonly Column[], rows: readonly DictionaryEntry[]): string {
  const cells = rows.map((r) => columns.map((c) => c.cell(r)));
  const widths = columns.map((c, i) => Math.min(Math.max(c.title.length, ...cells.map((r) => Math.max(...r[i]!.map((l) => l.length)))), i === columns.length - 1 ? Infinity : 60));
  const line = (parts: string[]) => parts.map((p, i) => (i === parts.length - 1 ? p : p.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = [line(columns.map((c) => c.title)), line(widths.map((w) => '-'.repeat(Math.min(w, 60))))];
  for (const r of cells) {
    const height = Math.max(...r.map((c) => c.length));
    for (let k = 0; k < height; k++) out.push(line(r.map((c) => c[k] ?? '')));
  }
  return out.join('\n');
}

function markdown(columns: readonly Column[], rows: readonly DictionaryEntry[]): string {
  const esc = (s: string) => s.replaceAll('|', '\\|');
  const out = [`| ${columns.map((c) => c.title).join(' | ')} |`, `| ${columns.map(() => '---').join(' | ')} |`];
  for (const r of rows) out.push(`| ${columns.map((c) => c.cell(r).map((l) => esc(l)).join('<br>')).join(' | ')} |`);
  return out.join('\n');
}

function classesText(d: FieldDictionary, md: boolean): string {
  if (d.routes.length === 0) return '';
  const head = `${d.target.toUpperCase()} ${d.version} classes (first match wins; type_uid = class_uid * 100 + activity_id):`;
  const rows = d.routes.map((r) => (md ? `| ${r.when} | ${r.caption} (${r.uid}) | ${r.activity} |` : `  ${r.when}\n      → ${r.caption} (${r.uid}), activity ${r.activity}`));
  return md ? `${head}\n\n| when | class | activity |\n| --- | --- | --- |\n${rows.join('\n')}\n\n` : `${head}\n${rows.join('\n')}\n\n`;
}

export async function main(argv: string[]): Promise<number> {
  let opts: { to?: string; version?: string; format: string; field?: string; help: boolean };
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { to: { type: 'string' }, version: { type: 'string' }, format: { type: 'string' }, field: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (values.to !== undefined && values.to !== 'ecs' && values.to !== 'ocsf') throw new UsageError(`--to must be ecs or ocsf (got '${values.to}')`);
    if (values.version !== undefined && values.to === undefined) throw new UsageError('--version needs --to (the versions of ECS and OCSF differ)');
    const format = values.format ?? 'table';
    if (format !== 'table' && format !== 'markdown' && format !== 'json') throw new UsageError(`--format must be table, markdown or json (got '${format}')`);
    opts = { ...(values.to !== undefined ? { to: values.to } : {}), ...(values.version !== undefined ? { version: values.version } : {}), format, ...(values.field !== undefined ? { field: values.field } : {}), help: values.help === true };
  } catch (e) {
    process.stderr.write(`agent-audit schema: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(HELP);
    return 0;
  }

  let dictionaries: FieldDictionary[];
  try {
    const targets = opts.to !== undefined ? [opts.to as 'ecs' | 'ocsf'] : (['ecs', 'ocsf'] as const);
    dictionaries = targets.map((t) => fieldDictionary(compiledTarget(t, opts.version !== undefined ? { version: opts.version } : {}).plan));
  } catch (e) {
    process.stderr.write(`agent-audit schema: ${(e as Error).message}\n`);
    return e instanceof AgentAuditError && e.code === 'encoding_version' ? 2 : 1;
  }
  const select = (d: FieldDictionary) => d.entries.filter((e) => opts.field === undefined || e.field.startsWith(opts.field));
  const rows = select(dictionaries[0]!);
  if (rows.length === 0) {
    process.stderr.write(`agent-audit schema: no canonical field starts with '${opts.field}'\n`);
    return 2;
  }

  if (opts.format === 'json') {
    const out = dictionaries.map((d) => ({ ...d, entries: select(d) }));
    process.stdout.write(`${JSON.stringify(opts.to !== undefined ? out[0] : out, null, 2)}\n`);
    return 0;
  }
  const md = opts.format === 'markdown';
  const columns: Column[] = [
    { title: 'canonical field', cell: (e) => [e.field] },
    { title: 'type', cell: (e) => [e.kind.replace('_', ' ')] },
    ...dictionaries.map((d) => {
      const byField = new Map(d.entries.map((e) => [e.field, e]));
      return { title: `${d.target.toUpperCase()} ${d.version}`, cell: (e: DictionaryEntry) => placementLines(d, byField.get(e.field)!) };
    }),
  ];
  const title = `agent-audit field dictionary: canonical audit event 1.0 → ${dictionaries.map((d) => `${d.target.toUpperCase()} ${d.version}`).join(', ')}`;
  const namespaces = dictionaries.map((d) => `${d.target.toUpperCase()}: ${d.customNamespace}.<canonical field>`).join('; ');
  const legend = `Fields a target has no field for are kept under its custom namespace (${namespaces}), marked (custom).\n* some values also go there; + copies for the target's consumers. Every rendering converts back to the exact canonical event.`;
  const body = md ? markdown(columns, rows) : table(columns, rows);
  const classes = opts.field === undefined ? dictionaries.map((d) => classesText(d, md)).join('') : '';
  process.stdout.write(md ? `# ${title}\n\n${legend.replace('\n', '\n\n')}\n\n${classes}${body}\n` : `${title}\n${legend}\n\n${classes}${body}\n`);
  return 0;
}
