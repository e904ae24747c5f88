import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../../config/load.ts';
import type { AgentAuditConfig } from '../../config/types.ts';
import { silentLogger } from '../../core/logger.ts';
import { errorText } from '../../daemon/daemon.ts';
import { InlineNormalizeStage } from '../../daemon/normalize-stage.ts';
import { sinkFactory, sourceFactory } from '../../daemon/registry.ts';
import { sinkEncoder } from '../../formats/index.ts';

const HELP = `Usage: agent-audit check-config FILE [--connect]

Validates a configuration file: schema (every error with file, line and path), routes,
formats and redaction patterns. Exit status 0 when valid, 1 when not.

  --connect   also start every sink once: reachability, TLS and credentials (exit 1
              when any sink fails, with the reason)
`;

export async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, allowPositionals: true, options: { connect: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    process.stderr.write(`agent-audit check-config: ${errorText(err)}\n\n${HELP}`);
    return 2;
  }
  if (args.values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const file = args.positionals[0];
  if (file === undefined) {
    process.stderr.write(`agent-audit check-config: which file?\n\n${HELP}`);
    return 2;
  }
  let config: AgentAuditConfig;
  try {
    config = loadConfigFile(file);
  } catch (err) {
    process.stderr.write(`${errorText(err)}\n`);
    return 1;
  }
  // What the daemon does at start besides the schema: build each source's normalizer and load
  // each component and encoding, so check-config passing means `run` starts.
  const problems: string[] = [];
  const stage = new InlineNormalizeStage(config.mappingDirs);
  for (const [name, block] of Object.entries(config.sources)) {
    try {
      stage.configure(name, block);
      await sourceFactory(block.type);
    } catch (err) {
      problems.push(`${file}: /sources/${name}: ${errorText(err)}`);
    }
  }
  for (const [name, block] of Object.entries(config.sinks)) {
    try {
      await sinkFactory(block.type);
      sinkEncoder(block);
    } catch (err) {
      problems.push(`${file}: /sinks/${name}: ${errorText(err)}`);
    }
  }
  if (problems.length > 0) {
    process.stderr.write(`invalid configuration in ${file}:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
    return 1;
  }
  const out: string[] = [`${file}: valid`];
  for (const [name, s] of Object.entries(config.sources)) out.push(`  source ${name}: ${s.type}, format ${s.format}, payload ${s.payload_mode}`);
  for (const [name, s] of Object.entries(config.sinks)) out.push(`  sink ${name}: ${s.type}, encoding ${s.encoding} ${sinkEncoder(s).version}`);
  if (config.routes.length === 0) out.push('  routes: every source feeds every sink');
  config.routes.forEach((r, i) => out.push(`  route ${i}: ${r.from ? r.from.join(', ') : 'all sources'} -> ${r.to.join(', ')}${r.when ? ' (with a condition)' : ''}`));
  if (config.secretPaths.size > 0) out.push(`  secrets from references (never shown): ${[...config.secretPaths].join(', ')}`);
  process.stdout.write(`${out.join('\n')}\n`);
  if (!args.values.connect) return 0;

  let failed = 0;
  const scratch = mkdtempSync(join(tmpdir(), 'agent-audit-check-'));
  try {
    for (const [name, block] of Object.entries(config.sinks)) {
      try {
        const factory = await sinkFactory(block.type);
        const sink = factory(name, block, { logger: silentLogger, stateDir: scratch, encoder: sinkEncoder(block) });
        await sink.start(silentLogger);
        await sink.close();
        const verdict = block.type === 'file' ? 'output file writable' : block.type === 'stdout' ? 'ok' : 'reachable, credentials accepted';
        process.stdout.write(`  sink ${name}: ${verdict}\n`);
      } catch (err) {
        failed++;
        process.stdout.write(`  sink ${name}: FAILED: ${errorText(err)}\n`);
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return failed === 0 ? 0 : 1;
}
