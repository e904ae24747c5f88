#!/usr/bin/env node
// agent-audit runs its TypeScript sources directly: Node >= 22.18 strips types natively, so
// there is no build step to forget and schemas/ and mappings/ resolve relative to src/.
const { main } = await import(new URL('../src/cli/main.ts', import.meta.url).href);
const code = await main(process.argv.slice(2));
process.exitCode = code;
