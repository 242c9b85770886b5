import t from 'tap';
import { selinux } from '../modules/selinux/index.ts';
import { hosts } from './hosts/index.ts';
import { errors, runTasks, statuses, tasksOf } from './support/run-tasks.ts';

// Every SELinux test shares one VM (el9-selinux: qemu TCG, permissive). It is
// slow (semanage's Python start-up alone takes 30-80 s there), so the tests
// run in order, each building on the state the one before left. Other test
// files may share the VM within a run: paths and ports are unique to this
// process, and the two booleans are reset first.

const [vm] = await hosts.up(1, 'el9-selinux');
t.teardown(() => hosts.down());
const host = vm!.inventoryEntry();

async function sh(command: string): Promise<string> {
  const r = await vm!.exec(command, { timeoutMs: 600_000 });
  if (r.code !== 0) throw new Error(`${command}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const id = process.pid % 1000;
const dir = `/srv/hfweb${id}`;
const port = 20000 + id * 20;
await sh(`setsebool -P httpd_can_network_connect=0 container_manage_cgroup=0`);
await sh(`mkdir -p ${dir}/sub && echo hi > ${dir}/index.html && echo hi > ${dir}/sub/page.html`);

const site = [
  selinux.boolean({ values: { httpd_can_network_connect: true, container_manage_cgroup: true } }),
  selinux.fileContext({ target: `${dir}(/.*)?`, type: 'httpd_sys_content_t' }),
  selinux.port({ ports: [`${port}/tcp`, `${port + 10}-${port + 19}/tcp`], type: 'http_port_t' }),
];

t.test('a first run sets booleans, a file context with a relabel, and port types; a second run changes nothing', async (t) => {
  t.notMatch(await sh(`ls -Z ${dir}/index.html`), /httpd_sys_content_t/, 'not labelled yet');
  const first = await runTasks(host, site, 'apply');
  t.same(statuses(first), ['changed', 'changed', 'changed'], errors(first));
  t.comment(`first run: ${tasksOf(first).map((x) => `${x.name} ${secs(x.durationMs)}`).join('; ')}`);

  t.match(await sh('getsebool httpd_can_network_connect container_manage_cgroup'), /httpd_can_network_connect --> on\ncontainer_manage_cgroup --> on/);
  t.match(await sh(`ls -Z ${dir}/index.html ${dir}/sub/page.html`), /httpd_sys_content_t.*index\.html\n.*httpd_sys_content_t.*page\.html/, 'restorecon relabelled what is there');

  const second = await runTasks(host, site, 'apply');
  t.same(statuses(second), ['ok', 'ok', 'ok'], errors(second));
  t.comment(`second run: ${secs(second.durationMs)}, ${second.hosts[0]?.roundTrips} round trips`);
});

t.test('the customizations are in the persistent store: semanage lists them when read again', async (t) => {
  // The harness has no reboot for the shared VM; a fresh read of the store is what a boot would load.
  const exported = await sh('semanage export');
  t.match(exported, /boolean -m -1 container_manage_cgroup/);
  t.match(exported, /boolean -m -1 httpd_can_network_connect/);
  t.ok(exported.includes(`fcontext -a -f a -t httpd_sys_content_t -r 's0' '${dir}(/.*)?'`), 'the file context');
  t.ok(exported.includes(`port -a -t http_port_t -r 's0' -p tcp ${port}\n`), 'the port');
  t.ok(exported.includes(`port -a -t http_port_t -r 's0' -p tcp ${port + 10}-${port + 19}\n`), 'the port range');
  t.match(await sh(`matchpathcon ${dir}/new.html`), /httpd_sys_content_t/, 'a file created later would be labelled from the mapping');
});

t.test('check mode after a manual setsebool reports exactly that drift and changes nothing', async (t) => {
  await sh('setsebool httpd_can_network_connect off');
  const check = await runTasks(host, site, 'check');
  t.same(statuses(check), ['changed', 'ok', 'ok'], errors(check));
  t.same(tasksOf(check)[0]?.changes.map((c) => c.summary), ['httpd_can_network_connect: runtime off → on (persistent already on)']);
  t.equal(check.exitCode, 2);
  t.match(await sh('getsebool httpd_can_network_connect'), /--> off/, 'check mode left the host as it was');

  const fix = await runTasks(host, site, 'apply');
  t.same(statuses(fix), ['changed', 'ok', 'ok'], errors(fix));
  t.match(await sh('getsebool httpd_can_network_connect'), /--> on/);
});

t.test('mode switches between permissive and enforcing at runtime and in the config, with no reboot', async (t) => {
  // While this VM enforces, Debian's policy refuses every new SSH session, so
  // a process started beforehand returns it to permissive after 40 s; the
  // kernel's audit record shows the switch to enforcing happened.
  t.equal((await sh('getenforce')).trim(), 'Permissive');
  await sh("nohup sh -c 'sleep 40; setenforce 0' >/dev/null 2>&1 &");
  const enforce = await runTasks(host, [selinux.mode({ mode: 'enforcing' })], 'apply');
  t.same(statuses(enforce), ['changed'], errors(enforce));
  t.same(tasksOf(enforce)[0]?.changes.map((c) => c.summary), ['/etc/selinux/config: SELINUX=permissive → enforcing', 'runtime: permissive → enforcing (setenforce 1)']);
  t.equal(tasksOf(enforce)[0]?.note, undefined, 'no reboot needed');
  for (let i = 0; i < 30 && (await vm!.exec('getenforce')).code !== 0; i++) await new Promise((r) => setTimeout(r, 5000));
  t.match(await sh('dmesg | grep -E "enforcing=1 old_enforcing=0"'), /enforcing=1 old_enforcing=0/, 'the kernel switched to enforcing');
  t.match(await sh('grep ^SELINUX /etc/selinux/config'), /^SELINUX=enforcing\nSELINUXTYPE=default\n$/);
  t.match(await sh('ls -Z /etc/selinux/config'), /selinux_config_t/, 'the rewritten config keeps its label');

  const check = await runTasks(host, [selinux.mode({ mode: 'enforcing' })], 'check');
  t.same(tasksOf(check)[0]?.changes.map((c) => c.summary), ['runtime: permissive → enforcing (setenforce 1)'], 'only the runtime differs now');

  const back = await runTasks(host, [selinux.mode({ mode: 'permissive' })], 'apply');
  t.same(tasksOf(back)[0]?.changes.map((c) => c.summary), ['/etc/selinux/config: SELINUX=enforcing → permissive']);
  const again = await runTasks(host, [selinux.mode({ mode: 'permissive' })], 'apply');
  t.same(statuses(again), ['ok'], errors(again));
  t.equal((await sh('getenforce')).trim(), 'Permissive');
});

t.test('mode: disabled is a config change that notes the reboot it needs', async (t) => {
  const check = await runTasks(host, [selinux.mode({ mode: 'disabled' })], 'check');
  t.same(statuses(check), ['changed']);
  t.match(tasksOf(check)[0]?.note, /^reboot needed/);
  t.match(tasksOf(check)[0]?.changes[0]?.summary, /SELINUX=permissive → disabled: reboot needed/);
  t.match(await sh('grep ^SELINUX= /etc/selinux/config'), /permissive/, 'check mode left the config alone');
});

t.test('twenty fileContext tasks in a row apply in one semanage import transaction', async (t) => {
  const tasks = Array.from({ length: 20 }, (_, i) => selinux.fileContext({ target: `${dir}-batch${i}(/.*)?`, type: 'public_content_t' }));
  const started = Date.now();
  const report = await runTasks(host, tasks, 'apply');
  const elapsed = Date.now() - started;
  t.same(statuses(report), Array(20).fill('changed'), errors(report));
  t.comment(`20 mappings through one semanage import: ${secs(elapsed)} for the whole run`);
  const again = await runTasks(host, tasks, 'apply');
  t.same(statuses(again), Array(20).fill('ok'), errors(again));
  t.comment(`the same 20 tasks again: ${secs(again.durationMs)}, ${again.hosts[0]?.roundTrips} round trips`);
});

t.test('invalid parameters fail before the host is touched, naming task, parameter and value', async (t) => {
  const report = await runTasks(
    host,
    [selinux.boolean({ values: { httpd_can_network_connect: false } }), selinux.port({ ports: ['http/tcp' as never], type: 'http_port_t' })],
    'apply',
  ).catch((e: Error) => e);
  t.match(String(report), /the playbook has 1 problem \(nothing was changed on any host\)/);
  t.match(String(report), /task 'selinux port http\/tcp → http_port_t' \(selinux.port\): parameter 'ports.0' = "http\/tcp"/);
  t.match(await sh('getsebool httpd_can_network_connect'), /--> on/, 'the valid task before it did not run either');
});
