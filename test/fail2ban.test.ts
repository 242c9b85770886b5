import t from 'tap';
import { fail2ban } from '../modules/fail2ban/index.ts';
import { hosts, type TestHost } from './hosts/index.ts';
import { errors, runTasks, statuses, tasksOf } from './support/run-tasks.ts';

// Two hosts: A runs fail2ban, B fails to log in to A until A bans it.
const [a, b] = (await hosts.up(2, 'el9')) as [TestHost, TestHost];
t.teardown(() => hosts.down());

const on = async (h: TestHost, cmd: string) => {
  const r = await h.exec(cmd, { timeoutMs: 60_000 });
  return { ...r, out: `${r.stdout}${r.stderr}` };
};

// The test image is Debian-based: sshd logs as ssh.service (sshd.service on RHEL 9).
const sshdJail = fail2ban.jail({
  name: 'sshd',
  backend: 'systemd',
  journalmatch: '_SYSTEMD_UNIT=ssh.service',
  maxretry: 3,
  findtime: '10m',
  bantime: '1h',
  bantimeIncrement: { factor: 2, maxtime: '1w' },
  ignoreip: ['127.0.0.1/8', '::1', '10.213.0.1'],
});
const appFilter = fail2ban.filter({ name: 'hf-app', failregex: '^login failed for \\S+ from <HOST>$', datepattern: '{^LN-BEG}' });
const appJail = fail2ban.jail({ name: 'hf-app', filter: 'hf-app', logpath: '/var/log/hf-app.log', backend: 'polling', port: [8080, '8443'], maxretry: 2 });
const logBan = fail2ban.action({ name: 'hf-log', actionban: 'logger -t hf-log "ban <ip>"', actionunban: 'logger -t hf-log "unban <ip>"' });
const all = [appFilter, logBan, sshdJail, appJail];

const deferredReloads = (report: Awaited<ReturnType<typeof runTasks>>) => tasksOf(report).filter((r) => r.name === 'deferred: fail2ban reload').length;

t.test('fail2ban: invalid parameters fail before any host is touched, naming task, parameter and value', async (t) => {
  const tasks = [fail2ban.jail({ name: 'hf-never', logpath: '/var/log/x.log' }), fail2ban.jail({ name: 'hf-bad', bantime: '1x' })];
  await t.rejects(runTasks(a.inventoryEntry(), tasks, 'apply'), /task 'fail2ban jail hf-bad' \(fail2ban\.jail\): parameter 'bantime' = "1x"/);
  await t.rejects(runTasks(a.inventoryEntry(), [fail2ban.jail({ name: '../etc' })], 'apply'), /parameter 'name' = "\.\.\/etc"/);
  t.equal((await on(a, 'test -e /etc/fail2ban/jail.d/hf-never.local')).code, 1, 'the valid task before it did not run either');
});

t.test('fail2ban: a jail naming a filter that does not exist is refused by fail2ban-client -t and nothing is installed', async (t) => {
  const report = await runTasks(a.inventoryEntry(), [fail2ban.jail({ name: 'hf-broken', filter: 'no-such-filter', backend: 'systemd' })], 'apply');
  t.same(statuses(report), ['failed']);
  t.match(errors(report), /fail2ban-client -t rejected jail hf-broken; nothing was installed/);
  t.match(errors(report), /Unable to read the filter 'no-such-filter'/);
  t.equal((await on(a, 'test -e /etc/fail2ban/jail.d/hf-broken.local')).code, 1, 'the jail file never reached /etc');
  t.equal((await on(a, 'systemctl is-active fail2ban')).stdout.trim(), 'inactive', 'fail2ban was not started for a refused change');
});

t.test('fail2ban: the first run writes filter, action and jails, starts fail2ban once, and the jails run', async (t) => {
  await on(a, 'touch /var/log/hf-app.log');
  const report = await runTasks(a.inventoryEntry(), all, 'apply');
  t.same(statuses(report), ['changed', 'changed', 'changed', 'changed', 'changed'], errors(report));
  t.equal(deferredReloads(report), 1, 'one reload for four changes');
  const sshd = await on(a, 'fail2ban-client status sshd');
  t.equal(sshd.code, 0, sshd.out);
  t.match(sshd.out, /Journal matches:\s+_SYSTEMD_UNIT=ssh\.service/);
  const app = await on(a, 'fail2ban-client status hf-app');
  t.match(app.out, /File list:\s+\/var\/log\/hf-app\.log/);
  t.match((await on(a, 'cat /etc/fail2ban/jail.d/sshd.local')).stdout, /^bantime\.increment = true\nbantime\.factor = 2\nbantime\.maxtime = 1w$/m);
  t.equal((await on(a, 'test -f /etc/fail2ban/filter.d/hf-app.conf && test -f /etc/fail2ban/action.d/hf-log.conf')).code, 0, 'new definitions are .conf files');
});

t.test('fail2ban: the second run changes nothing and does not reload', async (t) => {
  const report = await runTasks(a.inventoryEntry(), all, 'apply');
  t.same(statuses(report), ['ok', 'ok', 'ok', 'ok'], errors(report));
});

t.test('fail2ban: check after a hand edit reports exactly that drift and leaves the host untouched', async (t) => {
  await on(a, "sed -i 's/^maxretry = 3$/maxretry = 9/' /etc/fail2ban/jail.d/sshd.local");
  const report = await runTasks(a.inventoryEntry(), all, 'check');
  t.same(statuses(report), ['ok', 'ok', 'changed', 'ok'], errors(report));
  const change = tasksOf(report)[2]?.changes[0];
  t.match(change?.summary, /update jail sshd/);
  t.match(change?.diff, /-maxretry = 9\n\+maxretry = 3/);
  t.match((await on(a, 'cat /etc/fail2ban/jail.d/sshd.local')).stdout, /maxretry = 9/, 'check mode did not write');

  const fixed = await runTasks(a.inventoryEntry(), all, 'apply');
  t.same(statuses(fixed), ['ok', 'ok', 'changed', 'ok', 'changed'], errors(fixed));
});

t.test('fail2ban: a jail that is configured but not running is drift, and a run starts it', async (t) => {
  await on(a, 'systemctl stop fail2ban');
  const check = await runTasks(a.inventoryEntry(), [sshdJail], 'check');
  t.same(statuses(check), ['changed']);
  t.match(tasksOf(check)[0]?.changes[0]?.summary, /start fail2ban: jail sshd is configured but fail2ban is stopped/);
  const report = await runTasks(a.inventoryEntry(), [sshdJail], 'apply');
  t.same(statuses(report), ['changed', 'changed'], errors(report));
  t.equal((await on(a, 'fail2ban-client status sshd')).code, 0);
});

t.test('fail2ban: the sshd jail bans a client after failed SSH logins', async (t) => {
  for (let i = 0; i < 4; i++) {
    await on(b, `ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o ConnectTimeout=5 nosuchuser@${a.address} true`);
  }
  let status = '';
  for (let i = 0; i < 40 && !status.includes(b.address); i++) {
    status = (await on(a, 'fail2ban-client status sshd')).out;
    if (!status.includes(b.address)) await new Promise((r) => setTimeout(r, 250));
  }
  t.match(status, new RegExp(`Banned IP list:.*\\b${b.address.replace(/\./g, '\\.')}\\b`));
  const refused = await on(b, `ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o ConnectTimeout=5 nosuchuser@${a.address} true`);
  t.match(refused.out, /Connection refused|timed out/, 'the banned client cannot reach sshd any more');
});

t.test('fail2ban: absent removes only what hostform wrote, and the jail stops', async (t) => {
  const gone = [fail2ban.jail({ name: 'hf-app', state: 'absent' }), fail2ban.filter({ name: 'hf-app', state: 'absent' }), fail2ban.action({ name: 'hf-log', state: 'absent' })];
  const report = await runTasks(a.inventoryEntry(), gone, 'apply');
  t.same(statuses(report), ['changed', 'changed', 'changed', 'changed'], errors(report));
  t.equal((await on(a, 'ls /etc/fail2ban/jail.d/hf-app.local /etc/fail2ban/filter.d/hf-app.conf /etc/fail2ban/action.d/hf-log.conf')).code, 2);
  t.notMatch((await on(a, 'fail2ban-client status')).out, /hf-app/);
  t.same(statuses(await runTasks(a.inventoryEntry(), gone, 'apply')), ['ok', 'ok', 'ok']);
});

t.test('fail2ban: overriding a packaged filter writes a .local next to it', async (t) => {
  const task = fail2ban.filter({ name: 'sshd', init: { mode: 'aggressive' } });
  const report = await runTasks(a.inventoryEntry(), [task], 'apply');
  t.same(statuses(report), ['changed', 'changed'], errors(report));
  t.match(tasksOf(report)[0]?.changes[0]?.summary, /filter\.d\/sshd\.local, overriding the packaged \/etc\/fail2ban\/filter\.d\/sshd\.conf/);
  t.notMatch((await on(a, 'head -1 /etc/fail2ban/filter.d/sshd.conf')).stdout, /hostform/, 'the packaged filter is untouched');
  t.same(statuses(await runTasks(a.inventoryEntry(), [task], 'apply')), ['ok']);
});
