import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../../config/load.ts';
import type { AgentAuditConfig } from '../../config/types.ts';
import { AgentAuditError, ShutdownError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { Daemon, errorText, type RunSummary, type StopReport } from '../../daemon/daemon.ts';
import { createLogger } from '../../daemon/logger.ts';
import { routeProcessWarnings } from '../../daemon/process-warnings.ts';

/** The embedded default: the bundled sample logs, rendered as OCSF and ECS into ./out/. */
export const DEFAULT_CONFIG = fileURLToPath(new URL('../../../examples/agent-audit.yaml', import.meta.url));

const HELP = `Usage: agent-audit run [--config FILE] [--once] [--log-level LEVEL]

Runs the daemon: sources → normalize → spool → sinks.

  --config FILE      configuration (default: $AGENT_AUDIT_CONFIG, else the bundled example
                     ${DEFAULT_CONFIG})
  --once             read what the file sources hold now, wait until every sink confirmed it,
                     print a summary and exit
  --log-level LEVEL  override log_level (fatal, error, warn, info, debug, trace)

Signals: SIGTERM/SIGINT drain gracefully (a second one exits at once; the spool keeps
everything), SIGHUP reloads the configuration.
`;

export async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: { config: { type: 'string', short: 'c' }, once: { type: 'boolean' }, 'log-level': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    process.stderr.write(`agent-audit run: ${errorText(err)}\n\n${HELP}`);
    return 2;
  }
  if (args.values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const file = args.values.config ?? process.env.AGENT_AUDIT_CONFIG ?? DEFAULT_CONFIG;
  const load = (): AgentAuditConfig => loadConfigFile(file);
  let config: AgentAuditConfig;
  try {
    config = load();
  } catch (err) {
    process.stderr.write(`agent-audit run: ${errorText(err)}\n`);
    return 1;
  }
  const level = args.values['log-level'] ?? config.logLevel;
  const logger = createLogger(level);
  routeProcessWarnings(logger);
  const daemon = new Daemon({ config, logger, loadConfig: load });

  let signals = 0;
  const onStop = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now (undelivered events stay in the spool)');
      process.exit(1);
    }
    logger.info({ signal }, 'signal received: draining');
    daemon.stop().then(
      (report) => process.exit(report.complete ? 0 : 1),
      (err: unknown) => {
        logger.error({ err: errorText(err) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  process.on('SIGHUP', () => {
    logger.info({ signal: 'SIGHUP' }, 'reloading configuration');
    daemon.reload().catch((err: unknown) => logger.error({ err: errorText(err) }, 'configuration reload failed'));
  });

  try {
    await daemon.start();
  } catch (err) {
    // A signal during start: the signal's stop (which start gave way to) exits the process.
    if (err instanceof ShutdownError) return new Promise<never>(() => {});
    logger.error({ err: errorText(err), code: err instanceof AgentAuditError ? err.code : undefined }, 'agent-audit could not start');
    process.stderr.write(`agent-audit run: ${errorText(err)}\n`);
    exitOnceStopped(await daemon.stop(1_000).catch(() => undefined), 1, logger);
    return 1;
  }
  if (!args.values.once) {
    // Runs until a signal; the handlers above exit the process.
    await new Promise<never>(() => {});
  }
  let summary: RunSummary;
  try {
    summary = await daemon.drain();
  } catch (err) {
    process.stderr.write(`agent-audit run --once: ${errorText(err)}\n`);
    exitOnceStopped(await daemon.stop(1_000).catch(() => undefined), 1, logger);
    return 1;
  }
  const stopped = await daemon.stop();
  const toStderr = Object.values(config.sinks).some((s) => s.type === 'stdout');
  (toStderr ? process.stderr : process.stdout).write(formatSummary(summary, config));
  const code = stopped.complete ? 0 : 1;
  exitOnceStopped(stopped, code, logger);
  return code;
}

/** How long a stopped `run` may take to leave by itself before it is made to. */
const EXIT_GRACE_MS = 5_000;

/**
 * After a stop the process should end by itself: nothing is left running. A stop that gave up
 * on a step left that work running, so the process exits now; otherwise a handle something
 * leaked would keep it alive for ever, so it gets EXIT_GRACE_MS and is then named in the log
 * (the bug to fix) and the process exits anyway.
 */
function exitOnceStopped(report: StopReport | undefined, code: number, logger: Logger): void {
  if (report === undefined || !report.complete) {
    process.exitCode = code;
    setImmediate(() => process.exit(code));
    return;
  }
  setTimeout(() => {
    logger.error({ resources: process.getActiveResourcesInfo() }, 'agent-audit stopped but the process did not exit by itself; exiting');
    process.exit(code);
  }, EXIT_GRACE_MS).unref();
}

export function formatSummary(s: RunSummary, config: AgentAuditConfig): string {
  const lines = [`agent-audit run --once: ${s.events} events, ${s.deadLetters} dead letters`, ''];
  lines.push('  source                 records        bytes');
  for (const x of s.sources) lines.push(`  ${x.name.padEnd(20)} ${String(x.records).padStart(9)} ${String(x.bytes).padStart(12)}`);
  lines.push('', '  sink                   type              encoding   delivered  rejected  retries  target');
  for (const x of s.sinks) {
    const block = config.sinks[x.name]!;
    const target = String(block.path ?? block.endpoint ?? block.url ?? block.log_group ?? '');
    lines.push(`  ${x.name.padEnd(20)} ${x.type.padEnd(17)} ${x.encoding.padEnd(9)} ${String(x.delivered).padStart(10)} ${String(x.rejected).padStart(9)} ${String(x.retries).padStart(8)}  ${target}`);
  }
  if (s.deadLetters > 0) lines.push('', `  dead letters are kept under ${config.dataDir}/dlq: agent-audit dlq list --config ${config.file ?? 'FILE'}`);
  return `${lines.join('\n')}\n`;
}
