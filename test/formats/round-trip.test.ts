// The renderings are lossless: decode(encode(e)) is exactly e, chain link included, for every
// fixture event and the hand-made edge cases, in ECS and in OCSF. So no canonical field is ever
// dropped, and `agent-audit verify` can re-check the hash chain on an ECS or OCSF export.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditEvent } from '../../src/core/audit-event.ts';
import { AgentAuditError } from '../../src/core/errors.ts';
import { canonicalLeaves } from '../../src/formats/canonical-leaves.ts';
import { compiledTarget, createDecoder, createEncoder, decoderFor } from '../../src/formats/index.ts';
import { parseTargetPath, type TargetPath } from '../../src/formats/target-path.ts';
import { chainHash } from '../../src/queue/chain.ts';
import { edgeEvents, fixtureEvents, leafPaths } from './fixture-events.ts';

const all = [...fixtureEvents(), ...edgeEvents()];
const MAPS = new Set(canonicalLeaves().filter((l) => l.kind === 'string_map').map((l) => l.path));
const canonicalLeafValues = (e: AuditEvent) => leafPaths(e, (p) => MAPS.has(p));

function at(doc: unknown, p: TargetPath): unknown {
  let x = doc;
  for (const s of p.segments) x = x === null || typeof x !== 'object' ? undefined : (x as Record<string | number, unknown>)[s];
  return x;
}

for (const target of ['ecs', 'ocsf'] as const) {
  const encoder = createEncoder(target);
  const decoder = createDecoder(target);
  const { plan } = compiledTarget(target);
  const classOf = (doc: Record<string, unknown>) => (plan.classes.length === 1 ? plan.classes[0]! : plan.classes.find((c) => c.spec!.uid === doc.class_uid)!);

  test(`${target}: decode(encode(e)) is e, chain link included, for every fixture and edge event`, () => {
    assert.ok(all.length > 750);
    for (const f of all) {
      // As it travels: serialized by a sink, parsed by whoever reads the export.
      const doc = JSON.parse(JSON.stringify(encoder.encode(f.event))) as Record<string, unknown>;
      const back = decoder.decode(doc);
      assert.deepStrictEqual(back, f.event, f.where);
      assert.equal(chainHash(back), f.event.chain!.hash, `${f.where}: chain hash recomputed from the ${target} rendering`);
    }
  });

  test(`${target}: every non-empty canonical field is in the rendering, at its home or under ${plan.file.custom_namespace}`, () => {
    for (const f of all) {
      const doc = encoder.encode(f.event);
      const c = classOf(doc);
      for (const [path, value] of canonicalLeafValues(f.event)) {
        if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) continue;
        const lp = c.leaves.find((l) => l.leaf.path === path);
        assert.ok(lp, `${f.where}: ${path} is not a canonical leaf`);
        const fallback = at(doc, lp.fallback);
        const home = lp.home !== undefined ? at(doc, lp.home.to) : undefined;
        assert.ok(fallback !== undefined || home !== undefined, `${f.where}: ${path} = ${JSON.stringify(value)} is in neither ${lp.home?.to.text ?? '(no home)'} nor ${lp.fallback.text} of the ${target} rendering (class ${c.name || 'document'})`);
        if (fallback !== undefined) assert.deepStrictEqual(fallback, value, `${f.where}: ${lp.fallback.text}`);
      }
    }
  });

  test(`${target}: the round trip exercises every canonical field`, () => {
    const seen = new Set<string>();
    for (const f of all) for (const [p, v] of canonicalLeafValues(f.event)) if (v !== undefined) seen.add(p);
    assert.deepEqual(canonicalLeaves().map((l) => l.path).filter((p) => !seen.has(p)), []);
  });

  test(`${target}: a value changed in the rendering no longer matches the chain`, () => {
    const f = all.find((x) => x.event.user?.id !== undefined && x.event.event.action === 'llm.call')!;
    const doc = JSON.parse(JSON.stringify(encoder.encode(f.event))) as Record<string, unknown>;
    const userPath = classOf(doc).leaves.find((l) => l.leaf.path === 'user.id')!.home!.to;
    let o = doc as Record<string | number, unknown>;
    for (const s of userPath.segments.slice(0, -1)) o = o[s] as Record<string | number, unknown>;
    o[userPath.segments[userPath.segments.length - 1]!] = 'mallory';
    const back = decoder.decode(doc);
    assert.equal(back.user?.id, 'mallory');
    assert.notEqual(chainHash(back), f.event.chain!.hash);
  });

  test(`${target}: decode rejects a document of another version, another class, or not a document`, () => {
    const doc = JSON.parse(JSON.stringify(encoder.encode(all[0]!.event))) as Record<string, unknown>;
    const versionPath = parseTargetPath(plan.file.version_field);
    const other = structuredClone(doc);
    (at(other, { text: '', segments: versionPath.segments.slice(0, -1) }) as Record<string, unknown>)[versionPath.segments.at(-1) as string] = '0.9.0';
    assert.throws(() => decoder.decode(other), (e: unknown) => e instanceof AgentAuditError && e.code === 'decode_invalid' && /0\.9\.0/.test(e.message));
    assert.throws(() => decoder.decode([] as unknown as Record<string, unknown>), (e: unknown) => e instanceof AgentAuditError && e.code === 'decode_invalid');
    if (target === 'ocsf') {
      assert.throws(() => decoder.decode({ ...doc, class_uid: 4001 }), (e: unknown) => e instanceof AgentAuditError && /class_uid/.test(e.message));
      const sev = structuredClone(doc);
      sev.severity_id = 6;
      assert.throws(() => decoder.decode(sev), (e: unknown) => e instanceof AgentAuditError && /severity_id/.test(e.message));
    }
  });
}

test('decoderFor picks the decoder of an export line by its version field', () => {
  const e = all[0]!.event;
  for (const target of ['ecs', 'ocsf', 'canonical'] as const) {
    const doc = JSON.parse(JSON.stringify(createEncoder(target).encode(e))) as Record<string, unknown>;
    const d = decoderFor(doc);
    assert.equal(d.name, target);
    assert.deepStrictEqual(d.decode(doc), e);
  }
  assert.throws(() => decoderFor({ ecs: { version: '8.0.0' } }), (x: unknown) => x instanceof AgentAuditError && x.code === 'decode_unknown_encoding');
});
