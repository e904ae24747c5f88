// Placeholder until the command is implemented; replaced by its owner.
export async function main(_argv: string[]): Promise<number> {
  process.stderr.write('agent-audit status: not implemented yet\n');
  return 1;
}
