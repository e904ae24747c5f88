// agent-audit command line. Each command lives in its own module under src/cli/commands/ and
// exports `main(argv: string[]): Promise<number>` (the exit status); modules load lazily so
// `agent-audit normalize` does not pay for Kafka or the AWS SDK.
// Exit status convention: 0 done, 1 failure (I/O, invalid config, broken chain), 2 usage error.

type CommandModule = { main(argv: string[]): Promise<number> };

const commands: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  run: { summary: 'run the daemon: sources → normalize → spool → sinks', load: () => import('./commands/run.ts') },
  normalize: { summary: 'normalize raw log files (or stdin) to canonical, ECS or OCSF JSON lines', load: () => import('./commands/normalize.ts') },
  'check-config': { summary: 'validate a config file (and with --connect, reach every sink)', load: () => import('./commands/check-config.ts') },
  dlq: { summary: 'list, show, replay or purge dead letters', load: () => import('./commands/dlq.ts') },
  verify: { summary: 'verify the hash chain of an exported event stream', load: () => import('./commands/verify.ts') },
  schema: { summary: 'print the field dictionary: canonical field → ECS field → OCSF attribute', load: () => import('./commands/schema.ts') },
  status: { summary: "print a running daemon's rates, lag, spool use and dead letters", load: () => import('./commands/status.ts') },
};

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: agent-audit <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun 'agent-audit <command> --help' for a command's options.\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    const { VERSION } = await import('../core/version.ts');
    process.stdout.write(`agent-audit ${VERSION}\n`);
    return 0;
  }
  const command = commands[name];
  if (command === undefined) {
    process.stderr.write(`agent-audit: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const module = await command.load();
  return module.main(rest);
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`agent-audit: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
