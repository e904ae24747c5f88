import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseConfig } from '../../src/config/load.ts';

const root = new URL('../../', import.meta.url).pathname;
const k8sDir = join(root, 'deploy/kubernetes');

type Obj = Record<string, unknown>;
const get = (o: unknown, ...path: (string | number)[]): unknown => path.reduce<unknown>((v, k) => (v === null || v === undefined ? undefined : (v as Obj)[k as string]), o);

function manifests(): Obj[] {
  const out: Obj[] = [];
  for (const f of ['namespace.yaml', 'secret.yaml', 'configmap.yaml', 'daemonset.yaml', 'statefulset.yaml']) {
    for (const doc of parseAllDocuments(readFileSync(join(k8sDir, f), 'utf8'))) {
      assert.equal(doc.errors.length, 0, `${f}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const v = doc.toJS() as Obj | null;
      if (v) out.push({ ...v, __file: f });
    }
  }
  return out;
}

const all = manifests();
const minimalConfig = 'sources:\n  a: { type: file, include: ["/x/*.log"] }\nsinks:\n  o: { type: stdout }\n';
const byKind = (kind: string) => all.filter((m) => m.kind === kind);
const workloads = [...byKind('DaemonSet'), ...byKind('StatefulSet')];

test('every Kubernetes object kind an operator needs is there', () => {
  for (const kind of ['Namespace', 'Secret', 'ConfigMap', 'DaemonSet', 'StatefulSet', 'Service', 'PodDisruptionBudget']) {
    assert.ok(byKind(kind).length > 0, `missing ${kind}`);
  }
  for (const m of all) assert.equal(get(m, 'metadata', 'namespace') ?? 'agent-audit', 'agent-audit', `${String(m.kind)} in the wrong namespace`);
});

test('workloads: probes on the health endpoints, ports, resources, non-root, read-only root, scrape annotations', () => {
  assert.equal(workloads.length, 2);
  for (const w of workloads) {
    const name = String(get(w, 'metadata', 'name'));
    const pod = get(w, 'spec', 'template', 'spec') as Obj;
    const c = (pod.containers as Obj[])[0]!;
    const port = (c.ports as Obj[]).find((p) => p.name === 'http');
    assert.ok(port, `${name}: no port named http`);
    assert.equal(get(c, 'livenessProbe', 'httpGet', 'path'), '/healthz', name);
    assert.equal(get(c, 'readinessProbe', 'httpGet', 'path'), '/readyz', name);
    assert.equal(get(c, 'livenessProbe', 'httpGet', 'port'), 'http', name);
    assert.ok(get(c, 'resources', 'requests', 'memory') && get(c, 'resources', 'limits', 'memory'), `${name}: memory request and limit`);
    assert.ok(get(c, 'resources', 'requests', 'cpu') && get(c, 'resources', 'limits', 'cpu'), `${name}: cpu request and limit`);
    assert.equal(get(c, 'securityContext', 'readOnlyRootFilesystem'), true, name);
    assert.equal(get(c, 'securityContext', 'allowPrivilegeEscalation'), false, name);
    assert.deepEqual(get(c, 'securityContext', 'capabilities', 'drop'), ['ALL'], name);
    assert.equal(get(pod, 'securityContext', 'runAsNonRoot'), true, name);
    // Kubernetes must wait for the graceful drain before SIGKILL.
    assert.ok(Number(pod.terminationGracePeriodSeconds) * 1000 > parseConfig(minimalConfig, '/c.yaml').shutdownTimeoutMs, `${name}: terminationGracePeriodSeconds covers shutdown_timeout`);
    const ann = get(w, 'spec', 'template', 'metadata', 'annotations') as Obj;
    assert.equal(ann['prometheus.io/scrape'], 'true');
    assert.equal(ann['prometheus.io/path'], '/metrics');
    assert.equal(Number(ann['prometheus.io/port']), port.containerPort, `${name}: scrape port is the container port`);

    // The config the container runs is the ConfigMap mounted where args point, and the server
    // listens on the container port.
    const args = c.args as string[];
    const configPath = args[args.indexOf('--config') + 1]!;
    const mounts = c.volumeMounts as Obj[];
    const configMount = mounts.find((m) => configPath.startsWith(`${String(m.mountPath)}/`))!;
    assert.ok(configMount, `${name}: --config ${configPath} is not on a mounted volume`);
    const volumes = pod.volumes as Obj[];
    const cmName = String(get(volumes.find((v) => v.name === configMount.name), 'configMap', 'name'));
    const cm = byKind('ConfigMap').find((m) => get(m, 'metadata', 'name') === cmName);
    assert.ok(cm, `${name}: ConfigMap ${cmName} not defined`);
    const text = String(get(cm, 'data', configPath.slice(String(configMount.mountPath).length + 1)));
    const secretKeys = Object.keys(get(byKind('Secret')[0], 'stringData') as Obj);
    const secretMount = String(mounts.find((m) => m.name === 'secrets')!.mountPath);
    const config = parseConfig(text, configPath, {
      env: {
        env: {},
        readFile: (p: string) => {
          assert.ok(p.startsWith(`${secretMount}/`) && secretKeys.includes(p.slice(secretMount.length + 1)), `${name}: config reads ${p}, which the Secret does not provide`);
          return 'a-placeholder-secret-of-sufficient-length';
        },
      },
    });
    assert.equal(config.server.port, port.containerPort, `${name}: server.address port is the container port`);
    assert.ok(Number(pod.terminationGracePeriodSeconds) * 1000 > config.shutdownTimeoutMs, `${name}: grace period covers this config's shutdown_timeout`);
    assert.equal(config.server.host, '0.0.0.0', `${name}: listen on all interfaces in a pod`);
    const spoolMount = mounts.find((m) => m.mountPath === config.dataDir);
    assert.ok(spoolMount, `${name}: data_dir ${config.dataDir} is not a mounted volume (the spool would not survive a restart)`);
    assert.notEqual(spoolMount.readOnly, true);
    // Tailed files must be on read-only mounts.
    for (const source of Object.values(config.sources).filter((s) => s.type === 'file')) {
      for (const glob of source.include as string[]) {
        const m = mounts.find((x) => glob.startsWith(`${String(x.mountPath)}/`));
        assert.ok(m, `${name}: ${glob} is not under a mounted host path`);
        assert.equal(m.readOnly, true, `${name}: ${glob} must be mounted read-only`);
      }
    }
  }
});

test('the DaemonSet keeps its spool on the node, the StatefulSet on a persistent volume; PDB and Service select the pods', () => {
  const ds = byKind('DaemonSet')[0]!;
  const dsVolumes = get(ds, 'spec', 'template', 'spec', 'volumes') as Obj[];
  assert.ok(get(dsVolumes.find((v) => v.name === 'spool'), 'hostPath', 'path'));
  const sts = byKind('StatefulSet')[0]!;
  const claims = get(sts, 'spec', 'volumeClaimTemplates') as Obj[];
  assert.ok(claims.some((c) => get(c, 'metadata', 'name') === 'spool'));
  const labels = get(sts, 'spec', 'template', 'metadata', 'labels') as Obj;
  for (const kind of ['Service', 'PodDisruptionBudget']) {
    const o = byKind(kind)[0]!;
    const sel = (get(o, 'spec', 'selector', 'matchLabels') ?? get(o, 'spec', 'selector')) as Obj;
    for (const [k, v] of Object.entries(sel)) assert.equal(labels[k], v, `${kind} selector ${k}`);
  }
  const svcPort = (get(byKind('Service')[0], 'spec', 'ports') as Obj[])[0]!;
  assert.equal(svcPort.targetPort, 'http');
});

test('systemd unit: dedicated user, state directory, restart, hardening', () => {
  const unit = readFileSync(join(root, 'deploy/systemd/agent-audit.service'), 'utf8');
  const settings = new Map<string, string[]>();
  for (const line of unit.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) settings.set(m[1]!, [...(settings.get(m[1]!) ?? []), m[2]!]);
  }
  const one = (k: string) => settings.get(k)?.at(-1);
  assert.equal(one('User'), 'agent-audit');
  assert.equal(one('StateDirectory'), 'agent-audit');
  assert.equal(one('Restart'), 'on-failure');
  for (const k of ['NoNewPrivileges', 'ProtectHome', 'PrivateTmp']) assert.equal(one(k), 'yes', k);
  assert.equal(one('ProtectSystem'), 'strict');
  assert.equal(one('CapabilityBoundingSet'), '');
  assert.equal(one('ReadWritePaths'), '/var/lib/agent-audit');
  assert.match(one('ExecReload') ?? '', /kill -HUP \$MAINPID/);
  assert.match(one('ExecStart') ?? '', / run --config /);
  assert.equal(one('KillSignal') ?? 'SIGTERM', 'SIGTERM');
  // systemd must wait for the graceful drain (shutdown_timeout, 30 s by default) before SIGKILL.
  const stopSec = Number(/^(\d+)s?$/.exec(one('TimeoutStopSec') ?? '')?.[1]);
  assert.ok(stopSec * 1000 > parseConfig(minimalConfig, '/etc/agent-audit/agent-audit.yaml').shutdownTimeoutMs, 'TimeoutStopSec covers the default shutdown_timeout');
  // The agents' logs readable, never writable; the state directory the only writable path.
  assert.ok((settings.get('ReadOnlyPaths') ?? []).some((p) => p.split(/\s+/).includes('/var/log')));
  assert.equal(settings.get('ReadWritePaths')?.length, 1);
  assert.match(one('SystemCallFilter') ?? '', /^~/);
});

test('systemd: the dedicated user is declared for systemd-sysusers (checked by it where available)', (t) => {
  const file = join(root, 'deploy/systemd/agent-audit.sysusers');
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const user = lines.map((l) => l.split(/\s+/)).find((f) => f[0] === 'u');
  assert.ok(user, 'a u line');
  assert.equal(user[1], 'agent-audit');
  assert.equal(lines.find((l) => l.startsWith('u '))!.split(/\s+/).at(-1), '/usr/sbin/nologin');
  const probe = spawnSync('systemd-sysusers', ['--version']);
  if (probe.error) {
    t.skip('systemd-sysusers is not installed here');
    return;
  }
  const sysroot = mkdtempSync(join(tmpdir(), 'agent-audit-sysroot-'));
  mkdirSync(join(sysroot, 'etc'));
  const r = spawnSync('systemd-sysusers', ['--dry-run', `--root=${sysroot}`, file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout + r.stderr, /Creating user 'agent-audit'/);
});

test('systemd unit passes systemd-analyze verify (where systemd is available)', (t) => {
  const probe = spawnSync('systemd-analyze', ['--version']);
  if (probe.error) {
    t.skip('systemd-analyze is not installed here');
    return;
  }
  // verify checks that ExecStart is executable: point it at a stand-in so the check is about
  // the unit file, not about whether agent-audit is installed on this machine.
  const dir = mkdtempSync(join(tmpdir(), 'agent-audit-unit-'));
  const bin = join(dir, 'agent-audit');
  writeFileSync(bin, '#!/bin/sh\nexit 0\n');
  chmodSync(bin, 0o755);
  const unit = readFileSync(join(root, 'deploy/systemd/agent-audit.service'), 'utf8').replace('/usr/bin/agent-audit', bin);
  const file = join(dir, 'agent-audit.service');
  writeFileSync(file, unit);
  const r = spawnSync('systemd-analyze', ['verify', '--man=no', file], { encoding: 'utf8' });
  const problems = `${r.stdout}${r.stderr}`
    .split('\n')
    .filter((l) => l.trim() !== '' && l.includes('agent-audit.service'));
  assert.deepEqual(problems, [], problems.join('\n'));
});

test('container build: multi-stage, Node 24, non-root, runs the daemon', () => {
  const df = readFileSync(join(root, 'deploy/container/Dockerfile'), 'utf8');
  const froms = df.split('\n').filter((l) => l.startsWith('FROM '));
  assert.ok(froms.length >= 2, 'multi-stage');
  for (const f of froms) assert.match(f, /node:24/);
  const user = df.split('\n').filter((l) => l.startsWith('USER ')).at(-1);
  assert.ok(user && !/\b(root|0)\b/.test(user.replace(/^USER /, '').split(':')[0]!), 'runs as a non-root user');
  assert.match(df, /ENTRYPOINT \["node", "\/opt\/agent-audit\/bin\/agent-audit.js"\]/);
  assert.ok(existsSync(join(root, 'bin/agent-audit.js')));
  for (const m of df.matchAll(/^COPY (?!--from)(\S+)/gm)) assert.ok(existsSync(join(root, m[1]!)), `COPY ${m[1]} names a missing path`);
  // Read-only root filesystem: the only writable place is the data volume the config points at.
  assert.match(df, /^VOLUME \["\/var\/lib\/agent-audit"\]$/m);
  assert.match(df, /^CMD \["run", "--config", "\/etc\/agent-audit\/agent-audit.yaml"\]$/m);
  for (const w of workloads) assert.equal(get(w, 'spec', 'template', 'spec', 'containers', 0, 'args', 2), '/etc/agent-audit/agent-audit.yaml');
  assert.ok(froms[0]!.includes(' AS '), 'a named build stage');
  assert.match(df, /npm prune --omit=dev/, 'no dev dependencies in the image');
});
