import t from 'tap';
import type { ExecResult } from '../../lib/connection/types.ts';
import { effect, PathResource, PlannedState, resourceKey } from '../../lib/module/resources.ts';
import { UserResource } from '../../modules/users/resources.ts';
import { RemoteCommandError } from '../../lib/errors.ts';
import type { ApplyContext, HostView, PlanContext } from '../../lib/module/types.ts';
import { assertTasksValid } from '../../lib/module/validate.ts';
import type { ShellScript } from '../../lib/shell/quote.ts';
import { applyUnitFiles, controlScript, verifyScript } from '../../modules/systemd/apply.ts';
import { dropIn, service, timer, unit } from '../../modules/systemd/index.ts';
import { parseUnitFiles, parseUnitState, templateOf, unitFilesProbe, unitFilesReads, unitPathEntries, unitStateProbe } from '../../modules/systemd/observe.ts';
import { renderTimer, type ResolvedService, type UnitFilesParams } from '../../modules/systemd/params.ts';
import { planService, planUnitFiles } from '../../modules/systemd/plan.ts';
import { UnitResource, unitKey } from '../../modules/systemd/resources.ts';
import { daemonReload, SYSTEM, systemctl, type SystemdScope } from '../../modules/systemd/scope.ts';
import { renderSections } from '../../modules/systemd/sections.ts';

const host = { name: 'h1', groups: ['all'], vars: {}, facts: {} } as unknown as HostView;
const context = (planned = new PlannedState(), checkMode = true): PlanContext => ({ host, checkMode, planned });
const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: '' });
const ALICE: SystemdScope = { kind: 'user', user: 'alice' };

// Captured from `unitStateProbe` on a test host (systemd 257).
const show = {
  running: ok('LoadState=loaded\nActiveState=active\nSubState=running\nFragmentPath=/etc/systemd/system/app.service\nUnitFileState=enabled\nNeedDaemonReload=no\n'),
  stopped: ok('LoadState=loaded\nActiveState=inactive\nSubState=dead\nFragmentPath=/etc/systemd/system/app.service\nUnitFileState=disabled\nNeedDaemonReload=no\n'),
  notFound: ok('LoadState=not-found\nActiveState=inactive\nSubState=dead\nFragmentPath=\nUnitFileState=\nNeedDaemonReload=no\n'),
  masked: ok('LoadState=masked\nActiveState=inactive\nSubState=dead\nFragmentPath=/etc/systemd/system/vendor.service\nUnitFileState=masked\nNeedDaemonReload=no\n'),
  vendorRunning: ok('LoadState=loaded\nActiveState=active\nSubState=running\nFragmentPath=/usr/lib/systemd/system/vendor.service\nUnitFileState=disabled\nNeedDaemonReload=yes\n'),
  // Written by an earlier task, not loaded by the manager yet: the probe adds the file and is-enabled's answer.
  onDisk: ok('LoadState=not-found\nActiveState=inactive\nSubState=dead\nFragmentPath=\nUnitFileState=\nNeedDaemonReload=no\nOnDisk=/etc/systemd/system/app.service\nUnitFileState=disabled\n'),
};
const state = (out: ExecResult, unit = 'app.service') => parseUnitState(SYSTEM, unit, out);
const svc = (p: Partial<ResolvedService>): ResolvedService => ({ unit: 'app.service', scope: SYSTEM, ...p });
const verbs = (changes: readonly { action: { verb: string } }[]) => changes.map((c) => c.action.verb);

t.test('systemd: systemctl show output parses into the unit state', async (t) => {
  t.same(state(show.vendorRunning, 'vendor.service'), {
    loadState: 'loaded',
    activeState: 'active',
    subState: 'running',
    unitFileState: 'disabled',
    needDaemonReload: true,
    fragmentPath: '/usr/lib/systemd/system/vendor.service',
  });
  t.equal(state(show.onDisk).onDisk, '/etc/systemd/system/app.service');
  t.equal(state(show.onDisk).unitFileState, 'disabled', 'the on-disk answer replaces the manager’s empty one');
});

t.test('systemd: an unreachable user manager is explained with the linger command', async (t) => {
  const result = { code: 1, stdout: '', stderr: 'Failed to connect to user scope bus via local transport: No such file or directory\n' };
  t.throws(() => parseUnitState(ALICE, 'sync.service', result), /loginctl enable-linger alice/);
});

t.test('service: a stopped, disabled unit that should run plans enable then start, with field diffs', async (t) => {
  const changes = planService(svc({ state: 'started', enabled: true }), state(show.stopped), context());
  t.same(verbs(changes), ['enable', 'start']);
  t.equal(changes[0]?.diff, '- enabled no\n+ enabled yes');
  t.equal(changes[1]?.diff, '- active inactive (dead)\n+ active active');
  t.match(changes[1]?.summary, 'start app.service (active: inactive (dead) → active)');
});

t.test('service: a running, enabled unit plans nothing', async (t) => {
  t.same(planService(svc({ state: 'started', enabled: true }), state(show.running), context()), []);
  t.same(planService(svc({ state: 'stopped', enabled: false }), state(show.stopped), context()), []);
});

t.test('service: restarted and reloaded act on every run', async (t) => {
  t.same(verbs(planService(svc({ state: 'restarted' }), state(show.running), context())), ['restart']);
  t.same(verbs(planService(svc({ state: 'reloaded' }), state(show.running), context())), ['reload-or-restart']);
  t.same(verbs(planService(svc({ state: 'reloaded' }), state(show.stopped), context())), ['start'], 'a stopped unit is started, not reloaded');
});

t.test('service: stopping and disabling a running unit', async (t) => {
  const changes = planService(svc({ state: 'stopped', enabled: false }), state(show.running), context());
  t.same(verbs(changes), ['disable', 'stop']);
  t.equal(changes[1]?.diff, '- active active (running)\n+ active inactive');
});

t.test('service: a unit the manager has not reloaded asks for the reload before acting', async (t) => {
  const changes = planService(svc({ unit: 'vendor.service', state: 'restarted' }), state(show.vendorRunning, 'vendor.service'), context());
  t.same(changes.map((c) => c.action), [{ verb: 'restart', reload: true }]);
});

t.test('service: a missing unit fails the plan with what to do, unless it only has to be stopped', async (t) => {
  t.throws(() => planService(svc({ state: 'started' }), state(show.notFound), context()), /app.service is not installed on h1: install it first/);
  t.same(planService(svc({ state: 'stopped', enabled: false }), state(show.notFound), context()), []);
});

t.test('service: a unit file written but not yet loaded counts as installed', async (t) => {
  t.same(verbs(planService(svc({ state: 'started', enabled: true }), state(show.onDisk), context(undefined, false))), ['enable', 'start']);
});

t.test('service: in check mode a unit an earlier task installs is planned, not a failure (ansible#72721)', async (t) => {
  const planned = new PlannedState();
  planned.record([effect(UnitResource, unitKey(SYSTEM, 'app.service'), { scope: SYSTEM, present: true })]);
  t.same(verbs(planService(svc({ state: 'started', enabled: true }), state(show.notFound), context(planned))), ['enable', 'start']);
});

t.test('service: a unit file written by the file module counts as installed too', async (t) => {
  const planned = new PlannedState();
  planned.record([effect(PathResource, '/etc/systemd/system/app.service', { type: 'file', content: Buffer.from('[Service]\n') })]);
  t.same(verbs(planService(svc({ state: 'started' }), state(show.notFound), context(planned))), ['start']);
});

t.test('service: masking and unmasking', async (t) => {
  const masked = state(show.masked, 'vendor.service');
  const vendor = (p: Partial<ResolvedService>) => svc({ unit: 'vendor.service', ...p });
  t.same(planService(vendor({ masked: true }), masked, context()), []);
  t.same(verbs(planService(vendor({ masked: false, state: 'started', enabled: true }), masked, context())), ['unmask', 'enable', 'start']);
  t.throws(() => planService(vendor({ state: 'started' }), masked, context()), /vendor.service is masked.*masked: false/);
  t.same(verbs(planService(vendor({ masked: true, state: 'stopped' }), state(show.vendorRunning, 'vendor.service'), context())), ['stop', 'mask']);
  t.throws(() => planService(svc({ masked: true }), state(show.running), context()), /cannot be masked while its unit file is \/etc\/systemd\/system\/app.service/);
});

t.test('systemd: sections render in systemd order, arrays as repeated keys, booleans as yes/no', async (t) => {
  const text = renderSections({
    Install: { WantedBy: 'multi-user.target' },
    Service: { ExecStart: ['', '/usr/bin/app --port 80'], Restart: 'on-failure', RemainAfterExit: true, Nice: 5 },
    Unit: { Description: 'App', After: ['network-online.target', 'db.service'] },
  });
  t.equal(
    text,
    '[Unit]\nDescription=App\nAfter=network-online.target\nAfter=db.service\n\n[Service]\nExecStart=\nExecStart=/usr/bin/app --port 80\nRestart=on-failure\nRemainAfterExit=yes\nNice=5\n\n[Install]\nWantedBy=multi-user.target\n',
  );
});

t.test('timer: renders the timer and its oneshot service, environment quoted for systemd', async (t) => {
  const r = renderTimer({
    name: 'backup',
    onCalendar: ['daily', 'Sat 12:00'],
    persistent: true,
    randomizedDelaySec: '30m',
    service: { execStart: '/usr/local/bin/backup --quiet', user: 'backup', environment: { REPO: '/srv/backup', NOTE: 'say "hi"' }, workingDirectory: '/srv' },
  });
  t.equal(r.timer, '[Unit]\nDescription=backup (hostform timer)\n\n[Timer]\nOnCalendar=daily\nOnCalendar=Sat 12:00\nPersistent=yes\nRandomizedDelaySec=30m\nUnit=backup.service\n\n[Install]\nWantedBy=timers.target\n');
  t.equal(
    r.service,
    '[Unit]\nDescription=backup (hostform timer)\n\n[Service]\nType=oneshot\nExecStart=/usr/local/bin/backup --quiet\nUser=backup\nWorkingDirectory=/srv\nEnvironment="REPO=/srv/backup"\nEnvironment="NOTE=say \\"hi\\""\n',
  );
});

// Captured from `unitFilesProbe` on a test host.
const files: UnitFilesParams = {
  scope: SYSTEM,
  files: [
    { file: 'app.service', content: '[Service]\nExecStart=/usr/bin/app\n' },
    { file: 'app.service.d/limits.conf', content: '[Service]\nLimitNOFILE=4096\n' },
    { file: 'none.service', content: null },
  ],
  verify: { files: true },
};
const filesOnHost = ok(`/etc/systemd/system\npresent\n${b64('[Service]\nExecStart=/usr/bin/app --old\n')}\npresent\n${b64('[Service]\nLimitNOFILE=4096\n')}\nabsent\n\n`);

t.test('unit files: the probe output parses into content per file', async (t) => {
  t.same(parseUnitFiles(files, filesOnHost), {
    dir: '/etc/systemd/system',
    files: { 'app.service': '[Service]\nExecStart=/usr/bin/app --old\n', 'app.service.d/limits.conf': '[Service]\nLimitNOFILE=4096\n', 'none.service': null },
    needDaemonReload: [],
  });
});

t.test('unit files: the probe asks the manager once per unit whether it needs a daemon-reload, and its names', async (t) => {
  t.match(unitFilesProbe(files).text, /\necho reload app\.service \$\(systemctl show -p NeedDaemonReload -p Names -- app\.service 2>\/dev\/null\)\necho reload none\.service /);
  t.equal(unitFilesProbe(files).text.match(/NeedDaemonReload/g)?.length, 2, 'app.service and its drop-in are one unit');
});

t.test('unit files that are right, but that the manager has not read (a lost daemon-reload), plan the daemon-reload alone', async (t) => {
  const right = ok(`/etc/systemd/system\npresent\n${b64('[Service]\nExecStart=/usr/bin/app\n')}\npresent\n${b64('[Service]\nLimitNOFILE=4096\n')}\nabsent\n\n`);
  const stale = ok(`${right.stdout}reload app.service Names=app.service NeedDaemonReload=yes\nreload none.service Names=none.service NeedDaemonReload=no\n`);
  t.same(parseUnitFiles(files, stale).needDaemonReload, ['app.service']);
  const [reload, ...rest] = planUnitFiles(files, parseUnitFiles(files, stale), context());
  t.same(rest, []);
  t.same(reload?.action, { do: 'reload' });
  t.equal(reload?.summary, 'daemon-reload: the manager has not read the current files of app.service (NeedDaemonReload)');
  t.same(planUnitFiles(files, parseUnitFiles(files, ok(`${right.stdout}reload app.service Names=app.service NeedDaemonReload=no\n`)), context()), [], 'read already: nothing to do');
});

t.test('unit files: only the file that differs is planned, with a unified diff', async (t) => {
  const changes = planUnitFiles(files, parseUnitFiles(files, filesOnHost), context());
  t.equal(changes.length, 1);
  t.equal(changes[0]?.summary, 'update /etc/systemd/system/app.service');
  t.match(changes[0]?.diff, /-ExecStart=\/usr\/bin\/app --old\n\+ExecStart=\/usr\/bin\/app\n/);
});

t.test('unit files: what an earlier task writes is what later tasks plan against', async (t) => {
  const planned = new PlannedState();
  planned.record([effect(PathResource, '/etc/systemd/system/app.service', { type: 'file', content: Buffer.from('[Service]\nExecStart=/usr/bin/app\n') })]);
  t.same(planUnitFiles(files, parseUnitFiles(files, filesOnHost), context(planned)), []);
});

t.test('user scope: files live in the user’s ~/.config/systemd/user and systemctl runs as the user', async (t) => {
  const user: UnitFilesParams = { scope: ALICE, files: [{ file: 'sync.service', content: '[Service]\nExecStart=/usr/bin/true\n' }], verify: { files: true } };
  t.match(unitFilesProbe(user).text, /getent passwd alice .*\/\.config\/systemd\/user/);
  const observed = parseUnitFiles(user, ok('/home/alice/.config/systemd/user\nabsent\n\n'));
  const [change] = planUnitFiles(user, observed, context());
  t.equal(change?.summary, 'install /home/alice/.config/systemd/user/sync.service');

  t.equal(
    systemctl(ALICE, ['start', 'sync.service']).text,
    `runuser -u alice -- sh -c 'd=/run/user/$(id -u); if [ -d "$d" ]; then export XDG_RUNTIME_DIR="$d"; else unset XDG_RUNTIME_DIR; fi; exec "$@"' sh systemctl --user start sync.service`,
  );
  t.equal(daemonReload(ALICE).id, 'systemctl --user daemon-reload (alice)');
  t.match(controlScript(ALICE, 'sync.service', ['enable', 'start']).text, /systemctl --user enable -- sync.service && \{ runuser -u alice .* systemctl --user start -- sync.service \|\|/);
  t.match(verifyScript(user, [{ do: 'install', file: 'sync.service', path: '', content: 'x' }]).text, /^runuser -u alice -- sh -c '.*XDG_RUNTIME_DIR.*' sh sh -c '[^]*systemd-analyze --user verify --man=no/, 'the check runs as alice, copies and all');
  t.match(unitStateProbe(ALICE, 'sync.service').text, /systemctl --user show -p LoadState/);

  // Apply as it would run: verify and create the directory as alice in one command, write the file owned
  // by her, defer her manager's reload.
  const ran: string[] = [];
  const written: { path: string; owner?: string; validate?: string }[] = [];
  const deferred: string[] = [];
  const fake: ApplyContext = {
    host,
    taskName: 't',
    run: async (script: ShellScript) => (ran.push(script.text), ok('')),
    writeFile: async (path, _content, options) => void written.push({ path, ...(options?.owner ? { owner: options.owner } : {}), ...(options?.validate ? { validate: options.validate.text } : {}) }),
    defer: (id) => void deferred.push(id),
    runDeferred: async () => undefined,
  };
  await applyUnitFiles(user, [change!], fake);
  t.equal(ran.length, 1, 'one command before the write');
  t.match(ran[0], /systemd-analyze --user verify[^]*\n\)\nhf_rc=\$\?; \[ "\$hf_rc" = 0 \] \|\| exit "\$hf_rc"\n\(\ncd .* && runuser -u alice -- .* mkdir -p -- .config\/systemd\/user/, 'verified, then the directory');
  t.same(written, [{ path: '/home/alice/.config/systemd/user/sync.service', owner: 'alice' }], 'the write has nothing more to check');
  t.same(deferred, ['systemctl --user daemon-reload (alice)']);
});

t.test('systemd: an instance is looked up through its template on disk', async (t) => {
  t.equal(templateOf('getty@tty2.service'), 'getty@.service');
  t.equal(templateOf('app.service'), undefined);
});

t.test('systemd: a drop-in is verified together with the unit it changes', async (t) => {
  const p: UnitFilesParams = { scope: SYSTEM, files: [{ file: 'nginx.service.d/limits.conf', content: 'x' }], verify: { unit: 'nginx.service' } };
  t.match(verifyScript(p, [{ do: 'install', file: 'nginx.service.d/limits.conf', path: '', content: 'x' }]).text, /SYSTEMD_UNIT_PATH="\$d:" systemd-analyze verify --man=no --recursive-errors=no -- nginx.service/);
});

const invalid = (task: Parameters<typeof assertTasksValid>[0][number]['task']) => () => assertTasksValid([{ task, where: '' }]);

t.test('systemd: bad parameters name the task, the parameter and the value', async (t) => {
  t.throws(invalid(unit({ name: 'app', content: 'x' })), /task 'unit app' \(systemd.unit\): parameter 'name' = "app": must be a unit name with its type, such as "app\.service" or "backup\.timer"/);
  t.throws(invalid(unit({ name: 'app.service', sections: { Service: { ExecStart: 'a\nb' } } })), /parameter 'sections.Service.ExecStart' = "a\\nb"/);
  t.throws(invalid(service({ name: 'app', state: 'running' as 'started' })), /task 'service app \(running\)' \(systemd.service\): parameter 'state' = "running": must be one of "started", "stopped", "restarted", "reloaded"/);
  t.throws(invalid(dropIn({ unit: 'app.service', name: '../x', content: 'x' })), /parameter 'name' = "..\/x"/);
  t.throws(invalid(timer({ name: 'b', service: { execStart: '/bin/true' } })), /task 'timer b' \(systemd.timer\)/);
  t.throws(invalid(timer({ name: 'b', onCalendar: 'daily', service: { execStart: '/bin/true', user: 'x y' } })), /parameter 'service.user' = "x y"/);
  t.doesNotThrow(invalid(timer({ name: 'b', onCalendar: 'daily', service: { execStart: '/bin/true' }, scope: { user: 'alice' } })));
  t.doesNotThrow(invalid(service({ name: 'nginx', enabled: true })));
});

function b64(text: string): string {
  return Buffer.from(text).toString('base64');
}

t.test('system scope: a unit is verified in its write’s own command; a drop-in with the mkdir of its directory; refused, no reload is owed', async (t) => {
  const recorder = (refuse: 'no' | 'run' | 'write') => {
    const log: { ran: string[]; written: { path: string; validate?: string }[]; deferred: string[] } = { ran: [], written: [], deferred: [] };
    const fake: ApplyContext = {
      host,
      taskName: 't',
      run: async (script: ShellScript) => (log.ran.push(script.text), refuse === 'run' ? { code: 65, stdout: 'bad unit\n', stderr: '' } : ok('')),
      writeFile: async (path, _content, options) => {
        if (refuse === 'write') throw new RemoteCommandError({ host: 'h', command: 'write', code: 65, stderr: 'bad unit' });
        log.written.push({ path, ...(options?.validate ? { validate: options.validate.text } : {}) });
      },
      defer: (id) => void log.deferred.push(id),
      runDeferred: async () => undefined,
    };
    return { log, fake };
  };
  const plain: UnitFilesParams = { scope: SYSTEM, files: [{ file: 'app.service', content: '[Service]\nExecStart=/usr/bin/true\n' }], verify: { files: true } };
  const install = { summary: 'install', action: { do: 'install' as const, file: 'app.service', path: '/etc/systemd/system/app.service', content: 'x' } };
  const one = recorder('no');
  await applyUnitFiles(plain, [install], one.fake);
  t.same(one.log.ran, [], 'no command before the write');
  t.match(one.log.written[0]?.validate, /systemd-analyze verify/);
  t.same(one.log.deferred, ['systemctl daemon-reload']);

  const withDropIn: UnitFilesParams = { scope: SYSTEM, files: [{ file: 'app.service.d/x.conf', content: '[Service]\n' }], verify: { unit: 'app.service' } };
  const installDropIn = { summary: 'install', action: { do: 'install' as const, file: 'app.service.d/x.conf', path: '/etc/systemd/system/app.service.d/x.conf', content: 'x' } };
  const two = recorder('no');
  await applyUnitFiles(withDropIn, [installDropIn], two.fake);
  t.match(two.log.ran[0], /systemd-analyze verify[^]*\n\)\nhf_rc=\$\?; \[ "\$hf_rc" = 0 \] \|\| exit "\$hf_rc"\n\(\nmkdir -p -- \/etc\/systemd\/system\/app.service.d\n\)/);
  t.same(two.log.written, [{ path: '/etc/systemd/system/app.service.d/x.conf' }]);

  for (const where of ['run', 'write'] as const) {
    const refused = recorder(where);
    await t.rejects(applyUnitFiles(where === 'run' ? withDropIn : plain, [where === 'run' ? installDropIn : install], refused.fake), /systemd-analyze verify refused app.service[^;]*; nothing was installed .*\n(bad unit)$/);
    t.same(refused.log.written, [], `${where}: nothing written`);
    t.same(refused.log.deferred, where === 'run' ? [] : ['systemctl daemon-reload'], where === 'run' ? 'refused before the reload is asked for' : 'asked for; the engine withdraws it (engine-validate test)');
  }
});

t.test('unit files: what the probe reads is each name\'s own entries in every unit directory, so writing one unit leaves the probe of another standing', async (t) => {
  t.same(unitPathEntries('app.service'), ['app.service', 'app.service.d', 'service.d']);
  t.same(unitPathEntries('a-b-c.timer'), ['a-b-c.timer', 'a-b-c.timer.d', 'a-.timer.d', 'a-b-.timer.d', 'timer.d']);
  t.same(unitPathEntries('getty@tty1.service'), ['getty@tty1.service', 'getty@tty1.service.d', 'getty@.service', 'getty@.service.d', 'service.d']);
  t.same(unitPathEntries('x-y@a-b.service'), ['x-y@a-b.service', 'x-y@a-b.service.d', 'x-y@.service', 'x-y@.service.d', 'x-.service.d', 'x-y@a-.service.d', 'service.d']);

  const timerFiles: UnitFilesParams = { scope: SYSTEM, files: [{ file: 'app.timer', content: '[Timer]\nOnCalendar=daily\n' }] } as unknown as UnitFilesParams;
  const ids = (keys: readonly { id: string }[]) => keys.map((k) => k.id);
  const reads = ids(unitFilesReads(timerFiles));
  for (const path of ['/etc/systemd/system/app.timer', '/etc/systemd/system/app.timer.d', '/usr/lib/systemd/system/timer.d', '/run/systemd/generator/app.timer', '/run/systemd/transient/app.timer.d']) t.ok(reads.includes(path), `reads ${path}`);
  t.notOk(reads.some((p) => p.endsWith('.service') || p === '/etc/systemd' || p === '/etc/systemd/system'), 'no service file, and not the whole tree');

  // Once probed, the names the manager knows the unit by count too: a drop-in of an alias changes it.
  const probed = ok(`/etc/systemd/system\nabsent\n\nreload app.timer Names=app.timer old-app.timer NeedDaemonReload=no\n`);
  const withAlias = ids(unitFilesReads(timerFiles, { files: probed }));
  t.ok(withAlias.includes('/etc/systemd/system/old-app.timer.d') && withAlias.includes('/usr/lib/systemd/system/old-.timer.d'), 'an alias\'s drop-in directories');
  t.ok(ids(unitFilesReads(timerFiles, { files: { code: 1, stdout: '', stderr: 'x' } })).length === reads.length, 'a failed probe names no alias');

  t.same(unitFilesReads({ ...timerFiles, scope: ALICE } as unknown as UnitFilesParams), [resourceKey(UserResource, 'alice'), resourceKey(PathResource)], "a user's units: the user and any path");
});
