// Writes deploy/elasticsearch/ (component templates + index template for the ECS rendering) from
// the compiled mappings/targets/ecs.yaml and the ECS 9.4.0 reference (test/fixtures/reference/).
// `--check` exits 1 when the committed files are stale (test/formats/es-template.test.ts runs it).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { compiledTarget } from '../src/formats/index.ts';
import { ecsField } from './lib/ecs-flat.ts';
import { buildEsTemplates, INDEX_TEMPLATE } from './lib/es-templates.ts';

const dir = new URL('../deploy/elasticsearch/', import.meta.url);
const t = buildEsTemplates(compiledTarget('ecs').plan, ecsField);
const files: [URL, unknown][] = [
  ...Object.entries(t.components).map(([name, body]): [URL, unknown] => [new URL(`component_templates/${name}.json`, dir), body]),
  [new URL(`index_templates/${INDEX_TEMPLATE}.json`, dir), t.indexTemplate],
];
const check = process.argv.includes('--check');
let stale = 0;
for (const [url, body] of files) {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  let current = '';
  try {
    current = readFileSync(url, 'utf8');
  } catch {
    // missing: stale
  }
  if (current === text) continue;
  stale++;
  if (check) {
    process.stderr.write(`${url.pathname} is stale: run node scripts/gen-es-templates.ts\n`);
  } else {
    mkdirSync(new URL('.', url), { recursive: true });
    writeFileSync(url, text);
    process.stdout.write(`wrote ${url.pathname}\n`);
  }
}
process.exitCode = check && stale > 0 ? 1 : 0;
