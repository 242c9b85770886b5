import t from 'tap';
import { PlannedState } from '../../lib/module/resources.ts';
import type { ApplyContext, HostView } from '../../lib/module/types.ts';
import type { ShellScript } from '../../lib/shell/quote.ts';
import { applyFirewalld, applyFirewalldBatch } from '../../modules/firewalld/apply.ts';
import { parseFirewallProbe } from '../../modules/firewalld/observe.ts';
import { resolvePort, resolveService, resolveZone, type Wanted } from '../../modules/firewalld/params.ts';
import { planFirewalld } from '../../modules/firewalld/plan.ts';

// What apply sends to the host, recorded by a stand-in context; the commands
// themselves run against real firewalld in test/firewalld.test.ts.

const zones = (ports: string) => `public (default, active)\n  target: default\n  services: ssh\n  ports: ${ports}\n  masquerade: no\n`;
const observed = (runtimePorts: string, permanentPorts: string, mode = 'online') =>
  parseFirewallProbe({
    code: 0,
    stderr: '',
    stdout: `@mode ${mode}\n${mode === 'online' ? `@runtime\n${zones(runtimePorts)}` : ''}@permanent\n${zones(permanentPorts)}@services\nssh.xml\nhttp.xml\nhttps.xml\n@builtin-zones\npublic.xml\n`,
  });
const host = { name: 'h', groups: [], vars: {}, facts: {} } as unknown as HostView;
const plan = (w: Wanted, o = observed('80/tcp', '80/tcp')) => planFirewalld(w, o, { host, checkMode: false, planned: new PlannedState() });

function recorder(output = { stdout: 'success\n', stderr: '' }) {
  const log: string[] = [];
  const context: ApplyContext = {
    host,
    taskName: 'task',
    run: async (script: ShellScript) => {
      log.push(script.text);
      return { code: 0, ...output };
    },
    writeFile: async () => undefined,
    defer: (id) => void log.push(`defer ${id}`),
    runDeferred: async (id) => void log.push(`run deferred ${id}`),
  };
  return { log, context };
}

t.test('firewalld apply: a task\'s ports go out in one call per side, adds and removes apart', async (t) => {
  const { log, context } = recorder();
  await applyFirewalld([...plan(resolvePort({ ports: ['443/tcp', '8443/tcp'] })), ...plan(resolvePort({ port: 80, state: 'absent' }))], context);
  // The two sides go out together (one round trip); within a side, the order is kept.
  t.same(
    log.filter((l) => l.includes('--permanent')),
    ['firewall-cmd --permanent --zone=public --remove-port=80/tcp', 'firewall-cmd --permanent --zone=public --add-port=443/tcp --add-port=8443/tcp'],
  );
  t.same(
    log.filter((l) => !l.includes('--permanent')),
    ['firewall-cmd --zone=public --remove-port=80/tcp', 'firewall-cmd --zone=public --add-port=443/tcp --add-port=8443/tcp'],
  );
});

t.test('firewalld apply: an exact list removes the others and adds the missing in one call per side and direction, removals first', async (t) => {
  const { log, context } = recorder();
  await applyFirewalld(plan(resolvePort({ ports: ['443/tcp', '8443/tcp'], exact: true }), observed('80/tcp 8080/tcp', '80/tcp')), context);
  // Each side in its order; the two sides are independent of each other.
  t.same(
    log.filter((l) => l.includes('--permanent')),
    ['firewall-cmd --permanent --zone=public --remove-port=80/tcp', 'firewall-cmd --permanent --zone=public --add-port=443/tcp --add-port=8443/tcp'],
  );
  t.same(
    log.filter((l) => !l.includes('--permanent')),
    ['firewall-cmd --zone=public --remove-port=80/tcp --remove-port=8080/tcp', 'firewall-cmd --zone=public --add-port=443/tcp --add-port=8443/tcp'],
  );
});

t.test('firewalld apply: a disagreement is fixed on the side that differs only', async (t) => {
  const { log, context } = recorder();
  await applyFirewalld(plan(resolvePort({ port: 80 }), observed('', '80/tcp')), context);
  t.same(log, ['firewall-cmd --zone=public --add-port=80/tcp']);
});

t.test('firewalld apply: offline, firewall-offline-cmd changes the permanent configuration alone', async (t) => {
  const { log, context } = recorder();
  await applyFirewalld(plan(resolveService({ services: ['http', 'https'] }), observed('', '', 'offline')), context);
  t.same(log, ['firewall-offline-cmd --zone=public --add-service=http --add-service=https']);
});

t.test('firewalld apply: the reload is deferred before any change (so the journal owes it), a new zone is created permanently, bound; a default switch runs the reload first', async (t) => {
  const { log, context } = recorder();
  await applyFirewalld(plan(resolveZone({ name: 'web', target: 'DROP', sources: ['10.0.0.0/8'], default: true })), context);
  t.same(log, [
    'defer firewall-cmd --reload',
    'firewall-cmd --permanent --new-zone=web',
    'firewall-cmd --permanent --zone=web --set-target=DROP',
    'firewall-cmd --permanent --zone=web --change-source=10.0.0.0/8',
    'run deferred firewall-cmd --reload',
    'firewall-cmd --set-default-zone=web',
  ]);
});

t.test('firewalld apply: consecutive tasks share the call for the same zone and option', async (t) => {
  const { log, context } = recorder();
  const a = resolvePort({ port: 443 });
  const b = resolvePort({ port: 8443 });
  await applyFirewalldBatch([{ params: a, changes: plan(a) }, { params: b, changes: plan(b) }], context);
  t.same(log, ['firewall-cmd --permanent --zone=public --add-port=443/tcp --add-port=8443/tcp', 'firewall-cmd --zone=public --add-port=443/tcp --add-port=8443/tcp']);
});

t.test('firewalld apply: tasks in a row that want opposite states of one value are refused', async (t) => {
  const { context } = recorder();
  const a = resolvePort({ port: 443 });
  const b = resolvePort({ port: 443, state: 'absent' });
  await t.rejects(applyFirewalldBatch([{ params: a, changes: plan(a) }, { params: b, changes: [] }], context), /contradict each other on \(default zone\) port 443\/tcp/);
});

t.test('firewalld apply: a warning about a value firewall-cmd skipped fails the task; already-enabled does not', async (t) => {
  const skipped = recorder({ stdout: 'success\n', stderr: 'Warning: INVALID_PORT: 99999/tcp\n' });
  await t.rejects(applyFirewalld(plan(resolvePort({ port: 443 })), skipped.context), /INVALID_PORT[\s\S]*did not apply every value/);
  const already = recorder({ stdout: 'success\n', stderr: 'Warning: ALREADY_ENABLED: 443:tcp\n' });
  await applyFirewalld(plan(resolvePort({ port: 443 })), already.context);
  t.equal(already.log.length, 2);
});

t.test('firewalld apply: a value starting with a dash stays joined to its option by =, so firewall-cmd never reads it as an option', async (t) => {
  // firewall-cmd (argparse) takes `--zone=-x` as the zone '-x'; on its own, '-x' would be an option (issue 17, item 6).
  const { log, context } = recorder();
  await applyFirewalld(plan(resolveZone({ name: '-x', interfaces: ['--help'], sources: ['ipset:-v'] })), context);
  t.same(log, [
    'defer firewall-cmd --reload',
    'firewall-cmd --permanent --new-zone=-x',
    'firewall-cmd --permanent --zone=-x --change-interface=--help',
    'firewall-cmd --permanent --zone=-x --change-source=ipset:-v',
  ]);
});
