#!/usr/bin/env node
// Runs the compiled CLI when the project was built (npm run build), else the TypeScript
// sources directly (Node >= 22.18 strips types natively).
import { existsSync } from 'node:fs';

const built = new URL('../dist/src/cli/main.js', import.meta.url);
const entry = existsSync(built) ? built : new URL('../src/cli/main.ts', import.meta.url);
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
