import t from 'tap';
import { UsageError } from '../lib/errors.ts';
import { file } from '../modules/file/index.ts';
import { dropIn, service, timer, unit } from '../modules/systemd/index.ts';
import { hosts, type TestHost } from './hosts/index.ts';
import { errors, runTasks, statuses, tasksOf } from './support/run-tasks.ts';

let h: TestHost;

t.before(async () => {
  [h] = (await hosts.up(1, 'el9')) as [TestHost];
});
t.teardown(() => hosts.down());

const exec = async (cmd: string) => {
  const r = await h.exec(cmd);
  if (r.code !== 0) throw new Error(`${cmd}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
};
/** Output of a command whatever its exit code (systemctl is-active exits 3 for inactive). */
const out = async (cmd: string) => (await h.exec(cmd)).stdout.trim();

/** Bytes, times and manager state of everything the hello tasks touch. */
const helloState = () =>
  exec(
    'cd /etc/systemd/system && sha256sum hello.service hello.service.d/*.conf && stat -c "%n %Y.%y %a" hello.service hello.service.d/*.conf multi-user.target.wants/hello.service; systemctl is-active hello; systemctl is-enabled hello; systemctl show -p MainPID,NeedDaemonReload hello; true',
  );

/** Reloads PID 1 has finished so far (it logs one line per daemon-reload). */
const reloads = async () => Number(await out('journalctl _PID=1 -o cat --no-pager | grep -c "^Reloading finished"'));

const helloTasks = (execStart = '/usr/bin/sleep infinity') => [
  unit({
    name: 'hello.service',
    sections: {
      Unit: { Description: 'hostform test service', After: ['network.target'] },
      Service: { ExecStart: execStart, Restart: 'on-failure' },
      Install: { WantedBy: 'multi-user.target' },
    },
  }),
  dropIn({ unit: 'hello.service', name: 'limits', sections: { Service: { LimitNOFILE: 4096 } } }),
  service({ name: 'hello', state: 'started', enabled: true }),
];

t.test('systemd: a unit, its drop-in and a started, enabled service converge; a second run changes nothing', async (t) => {
  const first = await runTasks(h.inventoryEntry(), helloTasks(), 'apply');
  t.same(statuses(first), ['changed', 'changed', 'changed'], errors(first));
  t.equal(await out('systemctl is-active hello'), 'active');
  t.equal(await out('systemctl is-enabled hello'), 'enabled');
  t.equal(await out('systemctl show -P LimitNOFILE hello'), '4096', 'the drop-in is in effect');
  t.equal(await out('systemctl show -P NeedDaemonReload hello'), 'no', 'the manager was reloaded before the start');

  const second = await runTasks(h.inventoryEntry(), helloTasks(), 'apply');
  t.same(statuses(second), ['ok', 'ok', 'ok'], errors(second));
});

t.test('systemd: check after a manual stop reports exactly that and leaves the service stopped', async (t) => {
  await exec('systemctl stop hello');
  const before = await helloState();
  const report = await runTasks(h.inventoryEntry(), helloTasks(), 'check');
  t.same(statuses(report), ['ok', 'ok', 'changed'], errors(report));
  t.same(tasksOf(report)[2]?.changes, [{ summary: 'start hello.service (active: inactive (dead) → active)', diff: '- active inactive (dead)\n+ active active' }]);
  t.equal(report.exitCode, 2);
  t.equal(await helloState(), before, 'nothing changed on the host');
  t.equal(await out('systemctl is-active hello'), 'inactive');

  const fix = await runTasks(h.inventoryEntry(), helloTasks(), 'apply');
  t.same(statuses(fix), ['ok', 'ok', 'changed'], errors(fix));
  t.equal(await out('systemctl is-active hello'), 'active');
});

t.test('systemd: check after editing the unit file by hand shows the content diff and leaves the bytes', async (t) => {
  await exec('sed -i "s/^Restart=on-failure/Restart=always/" /etc/systemd/system/hello.service');
  const before = await helloState();
  const report = await runTasks(h.inventoryEntry(), helloTasks(), 'check');
  t.same(statuses(report), ['changed', 'ok', 'ok'], errors(report));
  const [change] = tasksOf(report)[0]?.changes ?? [];
  t.equal(change?.summary, 'update /etc/systemd/system/hello.service');
  t.match(change?.diff, /-Restart=always\n\+Restart=on-failure\n/);
  t.equal(await helloState(), before, 'the edited file is byte for byte as it was');

  const fix = await runTasks(h.inventoryEntry(), helloTasks(), 'apply');
  t.same(statuses(fix), ['changed', 'ok', 'ok', 'changed'], errors(fix));
  t.equal(await out('grep ^Restart= /etc/systemd/system/hello.service'), 'Restart=on-failure');
  t.same(
    tasksOf(fix).filter((r) => r.name.startsWith('deferred:')).map((r) => r.name),
    ['deferred: systemctl daemon-reload'],
    'the changed unit is followed by one reload at the end of the play',
  );
});

t.test('systemd: an invalid unit is refused by systemd-analyze verify, with its message, and the installed unit stays', async (t) => {
  const before = await helloState();
  const badPath = await runTasks(h.inventoryEntry(), helloTasks('/nonexistent/bin/hello'), 'apply');
  t.same(statuses(badPath), ['failed']);
  t.match(errors(badPath), /systemd-analyze verify refused hello.service; nothing was installed/);
  t.match(errors(badPath), /Command \/nonexistent\/bin\/hello is not executable: No such file or directory/);
  // The check ran in the write's own command: refused, the daemon-reload the write would have owed is not owed.
  t.notMatch(await h.sh('cat /var/lib/hostform/pending 2>/dev/null; true'), /daemon-reload/, 'no reload is owed on the host');

  const badSyntax = await runTasks(h.inventoryEntry(), [unit({ name: 'hello.service', content: '[Service\nExecStart=/usr/bin/true\n' })], 'apply');
  t.same(statuses(badSyntax), ['failed']);
  t.match(errors(badSyntax), /hello.service:1: Invalid section header '\[Service'/);
  t.notMatch(errors(badSyntax), /\/tmp\//, 'the message names the file, not the temporary copy');

  const badDropIn = await runTasks(h.inventoryEntry(), [dropIn({ unit: 'hello.service', name: 'pre', sections: { Service: { ExecStartPre: '/nonexistent/pre' } } })], 'apply');
  t.same(statuses(badDropIn), ['failed']);
  t.match(errors(badDropIn), /Command \/nonexistent\/pre is not executable/);

  t.equal(await helloState(), before, 'the installed unit, its drop-ins and the service are untouched');
});

t.test('systemd: several units in one play cause exactly one daemon-reload', async (t) => {
  const units = ['one', 'two', 'three'].map((n) =>
    unit({ name: `many-${n}.service`, sections: { Service: { Type: 'oneshot', ExecStart: '/usr/bin/true' } } }),
  );
  const before = await reloads();
  const report = await runTasks(h.inventoryEntry(), units, 'apply');
  t.same(statuses(report), ['changed', 'changed', 'changed', 'changed'], errors(report));
  t.same(
    tasksOf(report).map((r) => r.name),
    ['unit many-one.service', 'unit many-two.service', 'unit many-three.service', 'deferred: systemctl daemon-reload'],
  );
  t.equal((await reloads()) - before, 1, 'PID 1 logged one reload');

  const again = await runTasks(h.inventoryEntry(), units, 'apply');
  t.same(statuses(again), ['ok', 'ok', 'ok'], 'no reload when nothing changed');
});

t.test('systemd: the reload a new unit owes and its start go in one command; a start that fails still leaves the reload done, not owed', async (t) => {
  const tasks = [
    unit({ name: 'failing-start.service', sections: { Service: { Type: 'oneshot', ExecStart: '/bin/false' } } }),
    service({ name: 'failing-start', state: 'started' }),
  ];
  const before = await reloads();
  const report = await runTasks(h.inventoryEntry(), tasks, 'apply');
  t.same(statuses(report), ['changed', 'failed'], errors(report));
  t.match(errors(report), /task 'service failing-start[^']*' on \w+: command failed with exit code \d+\n\s+command: \{ systemctl start -- failing-start.service \|\|/, 'the start is named as what failed');
  t.match(errors(report), /last lines of the journal of failing-start.service/);
  t.notMatch(errors(report), /hostform: the deferred action ran/, 'the engine’s own line is not shown');
  t.equal((await reloads()) - before, 1, 'one reload, before the start');
  t.equal(await out('systemctl show -p NeedDaemonReload --value failing-start.service'), 'no');
  t.notMatch(await out('cat /var/lib/hostform/pending 2>/dev/null; true'), /daemon-reload/, 'and it is not owed');
  await out('rm -f /etc/systemd/system/failing-start.service && systemctl daemon-reload && systemctl reset-failed failing-start.service 2>/dev/null; true');
});

t.test('systemd: check mode plans a service whose unit an earlier task installs, instead of failing (ansible#72721)', async (t) => {
  const tasks = [
    unit({ name: 'planned.service', sections: { Service: { ExecStart: '/usr/bin/sleep infinity' }, Install: { WantedBy: 'multi-user.target' } } }),
    service({ name: 'planned', state: 'started', enabled: true }),
    file({ path: '/etc/systemd/system/byfile.service', content: '[Service]\nExecStart=/usr/bin/sleep infinity\n' }),
    service({ name: 'byfile', state: 'started' }),
  ];
  const report = await runTasks(h.inventoryEntry(), tasks, 'check');
  t.same(statuses(report), ['changed', 'changed', 'changed', 'changed'], errors(report));
  t.same(
    tasksOf(report)[1]?.changes.map((c) => c.summary),
    ['enable planned.service (enabled: no → yes)', 'start planned.service (active: inactive (dead) → active)'],
  );
  t.equal(await out('ls /etc/systemd/system/planned.service /etc/systemd/system/byfile.service 2>&1 | grep -c "No such file"'), '2', 'nothing was written');

  const applied = await runTasks(h.inventoryEntry(), tasks, 'apply');
  t.same(statuses(applied), ['changed', 'changed', 'changed', 'changed'], errors(applied));
  t.equal(await out('systemctl is-active planned byfile'), 'active\nactive');
});

t.test('systemd: a timer is enabled, started, fires its service and shows in list-timers', async (t) => {
  const tasks = [
    timer({
      name: 'tick',
      onActiveSec: '1s',
      onUnitActiveSec: '1h',
      accuracySec: '1s',
      service: { execStart: '/usr/bin/touch /var/tmp/ticked', environment: { GREETING: 'hello world' } },
    }),
  ];
  const first = await runTasks(h.inventoryEntry(), tasks, 'apply');
  t.same(statuses(first), ['changed'], errors(first));
  t.same(
    tasksOf(first)[0]?.changes.map((c) => c.summary),
    ['install /etc/systemd/system/tick.timer', 'install /etc/systemd/system/tick.service', 'enable tick.timer (enabled: no → yes)', 'start tick.timer (active: inactive (dead) → active)'],
  );
  t.equal(await out('systemctl is-enabled tick.timer; systemctl is-active tick.timer'), 'enabled\nactive');
  t.match(await out('systemctl list-timers --all --no-pager tick.timer'), /tick\.timer\s+tick\.service/);
  let fired = false;
  for (let i = 0; i < 40 && !fired; i++) {
    fired = (await h.exec('test -e /var/tmp/ticked')).code === 0;
    if (!fired) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  t.ok(fired, 'the timer ran its service (OnActiveSec=1s)');
  t.equal(await out('systemctl show -P Environment tick.service'), '"GREETING=hello world"');

  t.same(statuses(await runTasks(h.inventoryEntry(), tasks, 'apply')), ['ok'], 'second run changes nothing');

  await exec('systemctl stop tick.timer');
  const drift = await runTasks(h.inventoryEntry(), tasks, 'check');
  t.same(tasksOf(drift)[0]?.changes.map((c) => c.summary), ['start tick.timer (active: inactive (dead) → active)']);
  t.equal(await out('systemctl is-active tick.timer'), 'inactive', 'check left it stopped');
});

t.test('systemd: restarted in a handler restarts the service when its unit changed', async (t) => {
  const pid = await out('systemctl show -P MainPID hello');
  const tasks = [dropIn({ unit: 'hello.service', name: 'nice', sections: { Service: { Nice: 5 } } }, { notify: 'restart hello' })];
  const report = await runTasks(h.inventoryEntry(), tasks, 'apply', { handlers: [{ ...service({ name: 'hello', state: 'restarted' }), name: 'restart hello' }] });
  t.same(
    tasksOf(report).map((r) => `${r.name}: ${r.status}`),
    ['drop-in hello.service.d/nice.conf: changed', 'deferred: systemctl daemon-reload: changed', 'restart hello: changed'],
    errors(report),
  );
  t.not(await out('systemctl show -P MainPID hello'), pid, 'a new process');
  t.equal(await out('systemctl show -P Nice hello'), '5', 'started with the new drop-in: the reload ran before the restart');
});

t.test('systemd: masking a vendor unit stops it and links it to /dev/null; unmasking undoes it', async (t) => {
  await exec('printf "[Service]\\nExecStart=/usr/bin/sleep infinity\\n" >/usr/lib/systemd/system/vendor.service && systemctl daemon-reload && systemctl start vendor');
  const mask = [service({ name: 'vendor', state: 'stopped', masked: true })];
  const first = await runTasks(h.inventoryEntry(), mask, 'apply');
  t.same(statuses(first), ['changed'], errors(first));
  t.equal(await out('systemctl is-enabled vendor; systemctl is-active vendor'), 'masked\ninactive');
  t.same(statuses(await runTasks(h.inventoryEntry(), mask, 'apply')), ['ok']);
  const unmask = await runTasks(h.inventoryEntry(), [service({ name: 'vendor', masked: false, state: 'started' })], 'apply');
  t.same(statuses(unmask), ['changed'], errors(unmask));
  t.equal(await out('systemctl is-active vendor'), 'active');
});

t.test('systemd: a user unit runs under the user’s own manager', async (t) => {
  await exec('loginctl enable-linger admin && for i in $(seq 50); do [ -S /run/user/1000/systemd/private ] && break; sleep 0.1; done');
  const scope = { user: 'admin' };
  const tasks = [
    unit({ name: 'mine.service', scope, sections: { Service: { ExecStart: '/usr/bin/sleep infinity' }, Install: { WantedBy: 'default.target' } } }),
    service({ name: 'mine', scope, state: 'started', enabled: true }),
  ];
  const first = await runTasks(h.inventoryEntry(), tasks, 'apply');
  t.same(statuses(first), ['changed', 'changed'], errors(first));
  t.equal(await out('stat -c %U /home/admin/.config/systemd/user/mine.service'), 'admin');
  const asAdmin = 'runuser -u admin -- env XDG_RUNTIME_DIR=/run/user/1000 systemctl --user';
  t.equal(await out(`${asAdmin} is-active mine; ${asAdmin} is-enabled mine`), 'active\nenabled');
  t.equal(await out('ps -o user= -C sleep | sort -u | grep admin'), 'admin');
  t.same(statuses(await runTasks(h.inventoryEntry(), tasks, 'apply')), ['ok', 'ok']);
});

t.test('systemd: invalid parameters fail before any host is touched, naming task, parameter and value', async (t) => {
  const before = await helloState();
  const bad = [service({ name: 'hello', state: 'running' as 'started' }), unit({ name: 'hello', content: 'x' })];
  const error = await runTasks(h.inventoryEntry(), bad, 'apply').catch((e: Error) => e);
  t.type(error, UsageError);
  t.match(String(error), /task 'service hello \(running\)' \(systemd.service\): parameter 'state' = "running": must be one of "started", "stopped", "restarted", "reloaded"/);
  t.match(String(error), /task 'unit hello' \(systemd.unit\): parameter 'name' = "hello": must be a unit name with its type/);
  t.equal(await helloState(), before);
});
