import t from 'tap';
import { assertTasksValid } from '../../lib/module/validate.ts';
import { PlannedState } from '../../lib/module/resources.ts';
import type { HostView, PlanContext, Task } from '../../lib/module/types.ts';
import { parsePathProbe } from '../../modules/file/observe.ts';
import { candidateCheck, overriddenOptions, parseEffective } from '../../modules/sshd/apply.ts';
import { sshd } from '../../modules/sshd/index.ts';
import { parseSetup } from '../../modules/sshd/observe.ts';
import { parseDaemonRead, UP_TO_DATE } from '../../modules/shared/daemon.ts';
import { seconds } from '../../modules/sshd/options.ts';
import { resolveDropIn } from '../../modules/sshd/params.ts';
import { planDropIn } from '../../modules/sshd/plan.ts';
import { pathProbeOutput } from '../support/path-probe.ts';

const host = { name: 'h', groups: ['all'], vars: {}, facts: {} } as unknown as HostView;
const context = (checkMode = false): PlanContext => ({ host, checkMode, planned: new PlannedState() });
const onHost = (path: string, content: string | undefined) =>
  parsePathProbe(path, {
    code: 0,
    stderr: '',
    stdout:
      content === undefined
        ? 'parent\nabsent\n'
        : pathProbeOutput(content, '600 root root'),
  });

const wanted = resolveDropIn({
  options: { MaxAuthTries: 3, Port: [22, 2222], PasswordAuthentication: false, PermitRootLogin: 'prohibit-password', AllowGroups: ['wheel', 'sftp'], Ciphers: ['aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com'], LoginGraceTime: '1m30s' },
  extra: { VersionAddendum: 'none', Banner2: 'x' },
});

t.test('sshd: the drop-in renders in one fixed keyword order, yes/no for booleans, one line per Port', async (t) => {
  t.equal(wanted.path, '/etc/ssh/sshd_config.d/00-hostform.conf');
  t.equal(
    wanted.content,
    `# Managed by hostform (sshd.config): edits here are replaced on the next run.
# sshd keeps the first value it reads, and reads this file before the others of sshd_config.d.
Port 22
Port 2222
PermitRootLogin prohibit-password
PasswordAuthentication no
AllowGroups wheel sftp
MaxAuthTries 3
LoginGraceTime 1m30s
Ciphers aes256-gcm@openssh.com,chacha20-poly1305@openssh.com
Banner2 x
VersionAddendum none
`,
  );
  t.equal(resolveDropIn({ name: 'sftp', order: 7, options: { X11Forwarding: false } }).path, '/etc/ssh/sshd_config.d/07-sftp.conf');
});

t.test('sshd: the values to read back from sshd -T are in its spelling: lower-case keywords, seconds', async (t) => {
  t.same(wanted.expectations, [
    { option: 'PermitRootLogin', keyword: 'permitrootlogin', value: 'prohibit-password' },
    { option: 'PasswordAuthentication', keyword: 'passwordauthentication', value: 'no' },
    { option: 'MaxAuthTries', keyword: 'maxauthtries', value: '3' },
    { option: 'LoginGraceTime', keyword: 'logingracetime', value: '90' },
  ]);
  t.equal(seconds('1h30m'), 5400);
  t.equal(seconds('45'), 45);
});

t.test('sshd: an option set earlier in the configuration is found in sshd -T output', async (t) => {
  // Shape captured from `sshd -T` (OpenSSH 10.0) on a test host.
  const effective = parseEffective('port 22\nport 2222\npermitrootlogin without-password\npasswordauthentication no\nmaxauthtries 9\nlogingracetime 90\n');
  t.same(effective.get('port'), ['22', '2222']);
  t.same(overriddenOptions(wanted.expectations, effective), [{ option: 'MaxAuthTries', keyword: 'maxauthtries', value: '3', actual: '9' }]);
});

t.test('sshd: a drop-in that matches plans nothing; a hand edit plans one write with its diff', async (t) => {
  const setup = parseSetup({ code: 0, stderr: '', stdout: 'include\n' });
  t.same(planDropIn(wanted, { file: onHost(wanted.path, wanted.content), setup, daemon: UP_TO_DATE }, context()), []);
  const [change] = planDropIn(wanted, { file: onHost(wanted.path, wanted.content.replace('MaxAuthTries 3', 'MaxAuthTries 6')), setup, daemon: UP_TO_DATE }, context());
  t.equal(change?.summary, 'update /etc/ssh/sshd_config.d/00-hostform.conf and reload sshd');
  t.match(change?.diff, /-MaxAuthTries 6\n\+MaxAuthTries 3/);
});

t.test('sshd: without an Include of sshd_config.d the task fails and says which line to add', async (t) => {
  const file = onHost(wanted.path, undefined);
  t.throws(() => planDropIn(wanted, { file, setup: 'noinclude', daemon: UP_TO_DATE }, context()), /add "Include \/etc\/ssh\/sshd_config\.d\/\*\.conf" as its first line/);
  t.throws(() => planDropIn(wanted, { file, setup: 'missing', daemon: UP_TO_DATE }, context()), /install openssh-server first/);
  t.equal(planDropIn(wanted, { file, setup: 'missing', daemon: UP_TO_DATE }, context(true)).length, 1, 'check mode plans it: an earlier task may install sshd');
});

t.test('sshd: absent removes the drop-in, keeping its content to put back, and plans nothing once it is gone', async (t) => {
  const gone = resolveDropIn({ state: 'absent' });
  t.same(planDropIn(gone, { file: onHost(gone.path, wanted.content), setup: 'include', daemon: UP_TO_DATE }, context())[0]?.action, { do: 'remove', previous: wanted.content });
  t.same(planDropIn(gone, { file: onHost(gone.path, undefined), setup: 'include', daemon: UP_TO_DATE }, context()), []);
});

t.test('sshd: the candidate check points the Include at a temporary copy and carries the drop-in base64-encoded', async (t) => {
  const script = candidateCheck(resolveDropIn({ extra: { Banner: "$(touch /pwned) 'x'" } })).text;
  t.notMatch(script, /pwned/);
  t.match(script, /\\1\$tmp\/d\/\*\.conf#" \/etc\/ssh\/sshd_config >"\$tmp\/sshd_config"/);
  t.match(script, /sshd -t -f "\$tmp\/sshd_config" \|\| exit \$\?\nsshd -T -f "\$tmp\/sshd_config"$/);
});

const problems = (task: Task) => {
  try {
    assertTasksValid([{ task, where: '' }]);
    return '';
  } catch (error) {
    return (error as Error).message;
  }
};

t.test('sshd: parameters fail validation with the task, parameter and value named', async (t) => {
  t.match(problems(sshd.config({ options: { PermitRootLogin: 'maybe' as 'no' } })), /task 'sshd drop-in \/etc\/ssh\/sshd_config\.d\/00-hostform\.conf' \(sshd\.config\): parameter 'options\.PermitRootLogin' = "maybe"/);
  t.match(problems(sshd.config({ options: { PasswordAuthentication: 'no' as unknown as boolean } })), /parameter 'options\.PasswordAuthentication' = "no": must be true or false/);
  t.match(problems(sshd.config({ options: { Port: 70000 } })), /parameter 'options\.Port' = 70000/);
  t.match(problems(sshd.config({ options: { LoginGraceTime: '2 minutes' } })), /parameter 'options\.LoginGraceTime' = "2 minutes"/);
  t.match(problems(sshd.config({ options: { ...({ PermitRootLogon: 'no' } as object) } })), /parameter 'options\.PermitRootLogon' is not known to sshd\.config \(did you mean 'PermitRootLogin'\?\)/);
  t.match(problems(sshd.config({ extra: { Match: 'User x' } })), /parameter 'extra'/);
  t.match(problems(sshd.config({ name: '../x', options: { MaxAuthTries: 3 } })), /parameter 'name' = "\.\.\/x"/);
  t.equal(problems(sshd.config({ options: { AllowTcpForwarding: false, PermitTunnel: 'point-to-point', Port: 2222 } })), '');
});

t.test('sshd: a drop-in that is right but newer than the running sshd plans a reload alone; a removal is judged by the directory', async (t) => {
  const daemon = (paths: string[], mtime: string, state = 'active') =>
    parseDaemonRead(paths, { code: 0, stderr: '', stdout: `LoadState=loaded\nActiveState=${state}\nStateChangeTimestamp=x\nSince=1796081354.928668\nMtime=${mtime}\n` });
  const [reload, ...rest] = planDropIn(wanted, { file: onHost(wanted.path, wanted.content), setup: 'include', daemon: daemon([wanted.path], '1796081360.5') }, context());
  t.same(rest, []);
  t.same(reload?.action, { do: 'reload' });
  t.equal(reload?.summary, `reload sshd: it has not read ${wanted.path} since it changed (the file is newer than sshd's last start or reload)`);
  t.same(planDropIn(wanted, { file: onHost(wanted.path, wanted.content), setup: 'include', daemon: daemon([wanted.path], '1796081360.5', 'inactive') }, context()), [], 'a stopped sshd reads it when it starts');
  t.same(planDropIn(wanted, { file: onHost(wanted.path, wanted.content), setup: 'include', daemon: daemon([wanted.path], '') }, context()), [], 'no file time: nothing to tell');
  const gone = resolveDropIn({ state: 'absent' });
  t.same(planDropIn(gone, { file: onHost(gone.path, undefined), setup: 'include', daemon: daemon(['/etc/ssh/sshd_config.d'], '1796081360') }, context())[0]?.action, { do: 'reload' });
});
