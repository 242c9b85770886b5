import t from 'tap';
import { assertTasksValid } from '../../lib/module/validate.ts';
import { PathResource, PlannedState } from '../../lib/module/resources.ts';
import type { HostView, PlanContext, Task } from '../../lib/module/types.ts';
import { parsePathProbe } from '../../modules/file/observe.ts';
import { candidateTest, testErrors } from '../../modules/fail2ban/apply.ts';
import { fail2ban } from '../../modules/fail2ban/index.ts';
import { parseService } from '../../modules/fail2ban/observe.ts';
import { parseDaemonRead, UP_TO_DATE } from '../../modules/shared/daemon.ts';
import { definitionPaths, jailPath, type WantedDefinition, type WantedJail } from '../../modules/fail2ban/params.ts';
import { planDefinition, planJail } from '../../modules/fail2ban/plan.ts';
import { renderFilter, renderJail } from '../../modules/fail2ban/render.ts';
import { pathProbeOutput } from '../support/path-probe.ts';

const host = { name: 'h', groups: ['all'], vars: {}, facts: {} } as unknown as HostView;
const context = (checkMode = false, planned = new PlannedState()): PlanContext => ({ host, checkMode, planned });

// Probe output in the shape captured from a test host: parent line, type, stat, an empty hash line (a small file's bytes come back whole), base64 content.
const fileOnHost = (path: string, content: string | undefined) =>
  parsePathProbe(path, {
    code: 0,
    stderr: '',
    stdout:
      content === undefined
        ? 'parent\nabsent\n'
        : pathProbeOutput(content),
  });
const running = (...jails: string[]) => parseService({ code: 0, stderr: '', stdout: `running\n${jails.join(', ')}\n` });
const stopped = parseService({ code: 0, stderr: '', stdout: 'stopped\n' });
const missing = parseService({ code: 0, stderr: '', stdout: 'missing\n' });

const SSHD_JAIL = `# Managed by hostform (fail2ban.jail sshd): edits here are replaced on the next run.

[sshd]
enabled = true
port = ssh,2222
backend = systemd
journalmatch = _SYSTEMD_UNIT=sshd.service
maxretry = 3
findtime = 10m
bantime = 1h
bantime.increment = true
bantime.factor = 2
bantime.maxtime = 1w
ignoreip = 127.0.0.1/8 ::1
action = %(action_)s
         %(action_mw)s
mode = aggressive
`;

const jail = (content = SSHD_JAIL, extra: Partial<WantedJail> = {}): WantedJail => ({ name: 'sshd', path: jailPath('sshd'), present: true, enabled: true, content, ...extra });

t.test('fail2ban: a jail renders in one fixed key order whatever the order of its parameters', async (t) => {
  const rendered = renderJail('sshd', {
    options: { mode: 'aggressive' },
    action: ['%(action_)s', '%(action_mw)s'],
    ignoreip: ['127.0.0.1/8', '::1'],
    bantimeIncrement: { maxtime: '1w', factor: 2 },
    bantime: '1h',
    findtime: '10m',
    maxretry: 3,
    journalmatch: '_SYSTEMD_UNIT=sshd.service',
    backend: 'systemd',
    port: ['ssh', 2222],
  });
  t.equal(rendered, SSHD_JAIL);
});

t.test('fail2ban: a filter with several failregex lines continues them on indented lines', async (t) => {
  const text = renderFilter('app', { before: 'common.conf', failregex: ['^fail from <HOST>$', '^denied <HOST>$'], init: { maxlines: '1' } });
  t.match(text, /\[INCLUDES\]\nbefore = common\.conf\n\n\[Definition\]\nfailregex = \^fail from <HOST>\$\n {12}\^denied <HOST>\$\n\n\[Init\]\nmaxlines = 1\n$/);
});

t.test('fail2ban: the status probe reads the jail list fail2ban-client prints', async (t) => {
  t.same(running('sshd', 'hf-app'), { state: 'running', jails: ['sshd', 'hf-app'] });
  t.same(parseService({ code: 0, stderr: '', stdout: 'running\n\n' }), { state: 'running', jails: [] });
  t.same(parseService({ code: 0, stderr: '', stdout: 'unresponsive\nFailed to access socket path\n' }), { state: 'unresponsive', detail: 'Failed to access socket path' });
});

t.test('fail2ban: a jail whose file matches and which runs plans nothing', async (t) => {
  t.same(planJail(jail(), { file: fileOnHost(jail().path, SSHD_JAIL), service: running('sshd'), daemon: UP_TO_DATE }, context()), []);
});

t.test('fail2ban: a changed jail file plans one write with a diff of the file', async (t) => {
  const [change, ...rest] = planJail(jail(), { file: fileOnHost(jail().path, SSHD_JAIL.replace('maxretry = 3', 'maxretry = 9')), service: running('sshd'), daemon: UP_TO_DATE }, context());
  t.same(rest, []);
  t.same(change?.action, { do: 'write', path: '/etc/fail2ban/jail.d/sshd.local', content: SSHD_JAIL });
  t.match(change?.diff, /-maxretry = 9\n\+maxretry = 3/);
  t.equal(change?.summary, 'update jail sshd (/etc/fail2ban/jail.d/sshd.local) and reload fail2ban');
});

t.test('fail2ban: a jail configured but not running, or disabled but running, plans only a reload', async (t) => {
  const [notRunning] = planJail(jail(), { file: fileOnHost(jail().path, SSHD_JAIL), service: running('other'), daemon: UP_TO_DATE }, context());
  t.same(notRunning?.action, { do: 'reload' });
  t.equal(notRunning?.diff, '- jail sshd not running\n+ jail sshd running');
  const [whileStopped] = planJail(jail(), { file: fileOnHost(jail().path, SSHD_JAIL), service: stopped, daemon: UP_TO_DATE }, context());
  t.match(whileStopped?.summary, /start fail2ban: jail sshd is configured but fail2ban is stopped/);
  const [stillRunning] = planJail(jail(SSHD_JAIL, { enabled: false }), { file: fileOnHost(jail().path, SSHD_JAIL), service: running('sshd'), daemon: UP_TO_DATE }, context());
  t.match(stillRunning?.summary, /jail sshd is disabled but still running/);
});

t.test('fail2ban: without fail2ban a run fails with what to install, while check mode plans the file', async (t) => {
  const observed = { file: fileOnHost(jail().path, undefined), service: missing, daemon: UP_TO_DATE };
  t.throws(() => planJail(jail(), observed, context(false)), /fail2ban is not installed on this host: install the fail2ban package first/);
  t.equal(planJail(jail(), observed, context(true))[0]?.action.do, 'write');
});

t.test('fail2ban: a jail file an earlier task writes is what check mode plans against', async (t) => {
  const planned = new PlannedState();
  planned.record([{ kind: PathResource, id: jail().path, value: { type: 'file', content: Buffer.from(SSHD_JAIL) } }]);
  t.same(planJail(jail(), { file: fileOnHost(jail().path, undefined), service: stopped, daemon: UP_TO_DATE }, context(true, planned)), []);
});

t.test('fail2ban: absent removes the jail file and plans nothing once it is gone', async (t) => {
  const gone = jail('', { present: false, enabled: false });
  t.same(planJail(gone, { file: fileOnHost(gone.path, SSHD_JAIL), service: running('sshd'), daemon: UP_TO_DATE }, context())[0]?.action, { do: 'remove', path: gone.path });
  t.same(planJail(gone, { file: fileOnHost(gone.path, undefined), service: running('sshd'), daemon: UP_TO_DATE }, context()), []);
});

const filter = (present = true): WantedDefinition => ({ kind: 'filter', name: 'sshd', paths: definitionPaths('filter.d', 'sshd'), present, content: present ? '# Managed by hostform (x)\n' : '' });

t.test('fail2ban: a filter overriding a packaged one goes to .local and leaves the .conf alone', async (t) => {
  const w = filter();
  const observed = { conf: fileOnHost(w.paths.conf, '[Definition]\nfailregex = x\n'), local: fileOnHost(w.paths.local, undefined), service: running(), daemon: UP_TO_DATE };
  const [change] = planDefinition(w, observed, context());
  t.same(change?.action, { do: 'write', path: '/etc/fail2ban/filter.d/sshd.local', content: w.content });
  t.match(change?.summary, /overriding the packaged \/etc\/fail2ban\/filter\.d\/sshd\.conf/);
  t.same(planDefinition(filter(false), observed, context()), [], 'absent never removes the packaged file');
});

t.test('fail2ban: a new filter goes to .conf, and absent removes only the file hostform wrote', async (t) => {
  const w = filter();
  const none = { conf: fileOnHost(w.paths.conf, undefined), local: fileOnHost(w.paths.local, undefined), service: running(), daemon: UP_TO_DATE };
  t.same(planDefinition(w, none, context())[0]?.action, { do: 'write', path: w.paths.conf, content: w.content });
  const ours = { ...none, conf: fileOnHost(w.paths.conf, w.content) };
  t.same(planDefinition(w, ours, context()), []);
  t.same(planDefinition(filter(false), ours, context())[0]?.action, { do: 'remove', path: w.paths.conf });
});

t.test('fail2ban: the candidate test carries the new file base64-encoded, never as shell text', async (t) => {
  const script = candidateTest([{ do: 'write', path: '/etc/fail2ban/jail.d/x.local', content: "[x]\naction = $(rm -rf /) 'q'\n" }, { do: 'remove', path: '/etc/fail2ban/jail.d/old.local' }]).text;
  t.notMatch(script, /rm -rf \//);
  t.match(script, /base64 -d >"\$tmp"\/jail\.d\/x\.local/);
  t.match(script, /rm -f -- "\$tmp"\/jail\.d\/old\.local/);
  t.match(script, /fail2ban-client -c "\$tmp" -t/);
});

t.test('fail2ban: errors of fail2ban-client -t are shown without timestamps and name /etc/fail2ban', async (t) => {
  // Captured from fail2ban 1.1.0 on a test host.
  const output = `2026-11-23 05:12:09,348 fail2ban.configreader   [152]: WARNING Wrong value for 'maxretry' in 'sshd'. Using default one: 'None'
2026-11-23 05:12:09,432 fail2ban.configreader   [153]: ERROR   Found no accessible config files for 'filter.d/nosuch' under /run/hostform/hostform.okhfDk6o
2026-11-23 05:12:09,433 fail2ban.jailreader     [153]: ERROR   Unable to read the filter 'nosuch'
2026-11-23 05:12:09,435 fail2ban                [153]: ERROR   ERROR: test configuration failed
2026-11-23 05:12:09,717 fail2ban                [155]: ERROR   Failed during configuration: Source contains parsing errors: '/run/hostform/hostform.okhfDk6o/jail.d/sshd.local'
	[line  3]: 'bogus line\\n'`;
  t.same(testErrors(output), [
    "Found no accessible config files for 'filter.d/nosuch' under /etc/fail2ban",
    "Unable to read the filter 'nosuch'",
    "Failed during configuration: Source contains parsing errors: '/etc/fail2ban/jail.d/sshd.local'",
    "[line  3]: 'bogus line\\n'",
  ]);
});

const problems = (task: Task) => {
  try {
    assertTasksValid([{ task, where: '' }]);
    return '';
  } catch (error) {
    return (error as Error).message;
  }
};

t.test('fail2ban: parameters fail validation with the task, parameter and value named', async (t) => {
  t.match(problems(fail2ban.jail({ name: 'sshd', bantime: '10 minutes' })), /task 'fail2ban jail sshd' \(fail2ban\.jail\): parameter 'bantime' = "10 minutes"/);
  t.match(problems(fail2ban.jail({ name: 'sshd', backend: 'systemd', logpath: '/var/log/auth.log' })), /fail2ban\.jail/);
  t.match(problems(fail2ban.jail({ name: 'x', state: 'absent', ...({ maxretry: 3 } as object) })), /fail2ban\.jail/);
  t.match(problems(fail2ban.filter({ name: 'x', failregex: 'a\nb' })), /parameter 'failregex'/);
  t.match(problems(fail2ban.action({ name: 'a/b', actionban: 'x' })), /parameter 'name' = "a\/b"/);
  t.equal(problems(fail2ban.jail({ name: 'sshd', bantime: -1, findtime: '1h 30m', port: ['ssh', 2222, '8000:8100'], bantimeIncrement: true })), '');
});

t.test('fail2ban: a jail whose file is right but newer than the running fail2ban plans a reload; one read since plans nothing', async (t) => {
  const path = jail().path;
  const daemon = (mtime: string) => parseDaemonRead([path], { code: 0, stderr: '', stdout: `LoadState=loaded\nActiveState=active\nStateChangeTimestamp=x\nSince=1796081354.928668000\nMtime=${mtime}\n` });
  const [reload, ...rest] = planJail(jail(), { file: fileOnHost(path, SSHD_JAIL), service: running('sshd'), daemon: daemon('1796081355.000000001') }, context());
  t.same(rest, []);
  t.same(reload?.action, { do: 'reload' });
  t.equal(reload?.summary, `reload fail2ban: it has not read ${path} since it changed (the file is newer than fail2ban's last start or reload)`);
  t.same(planJail(jail(), { file: fileOnHost(path, SSHD_JAIL), service: running('sshd'), daemon: daemon('1796081354.928667999') }, context()), [], 'written before the last reload');
});

t.test('fail2ban: a filter whose file is right but newer than the running fail2ban plans a reload', async (t) => {
  const w = fail2ban.filter.definition.resolve({ name: 'hf-app', failregex: ['^x <HOST>$'] }, host) as WantedDefinition;
  const stale = { active: true, stale: [w.paths.conf] };
  const [reload] = planDefinition(w, { conf: fileOnHost(w.paths.conf, w.content), local: fileOnHost(w.paths.local, undefined), service: running(), daemon: stale }, context());
  t.same(reload?.action, { do: 'reload' });
});
