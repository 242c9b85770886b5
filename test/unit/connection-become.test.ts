import t from 'tap';
import { becomeError, becomeFailure, becomeFailureMessage, scriptArgv } from '../../lib/connection/become.ts';
import { sh } from '../../lib/shell/quote.ts';

const script = sh`echo ${"it's"}`;

t.test('become: a non-root user runs the script through sudo -n', async (t) => {
  t.same(scriptArgv(script, { become: true }, false), ['sudo', '-n', '--', 'sh', '-c', '--', `echo 'it'\\''s'`]);
  t.same(scriptArgv(script, { become: true, scriptOnStdin: true }, false), ['sudo', '-n', '--', 'sh', '-s'], 'a large script goes on stdin');
});

t.test('become: root, or a task without become, runs the script with plain sh -c', async (t) => {
  t.same(scriptArgv(script, { become: true }, true), ['sh', '-c', '--', `echo 'it'\\''s'`]);
  t.same(scriptArgv(script, { become: false }, false), ['sh', '-c', '--', `echo 'it'\\''s'`]);
  t.same(scriptArgv(script, {}, false), ['sh', '-c', '--', `echo 'it'\\''s'`]);
});

t.test('become: sudo asking for a password is recognised from its stderr', async (t) => {
  t.equal(becomeFailure({ stdout: '', stderr: 'sudo: a password is required\n', code: 1 }), 'password-required');
  t.equal(
    becomeFailure({ stdout: '', stderr: 'sudo: a terminal is required to read the password; either use the -S option\n', code: 1 }),
    'password-required',
  );
});

t.test('become: a user without sudo rights and a host without sudo are told apart', async (t) => {
  t.equal(becomeFailure({ stdout: '', stderr: 'deploy is not in the sudoers file.\n', code: 1 }), 'not-allowed');
  t.equal(becomeFailure({ stdout: '', stderr: 'bash: line 1: sudo: command not found\n', code: 127 }), 'sudo-missing');
  t.equal(becomeFailure({ stdout: '', stderr: 'sh: 1: sudo: not found\n', code: 127 }), 'sudo-missing');
});

t.test('become: a script failing on its own is not a sudo failure', async (t) => {
  t.equal(becomeFailure({ stdout: '', stderr: 'grep: x: No such file\n', code: 1 }), undefined);
  t.equal(becomeFailure({ stdout: '', stderr: 'sudo: a password is required\n', code: 0 }), undefined);
});

t.test('become: the password message names the host and user and says what to do', async (t) => {
  t.equal(
    becomeFailureMessage('web1', 'deploy', 'password-required'),
    'sudo on web1 needs a password; hostform only uses passwordless sudo (sudo -n). Add a NOPASSWD rule for deploy or connect as root.',
  );
  const error = becomeError('web1', 'deploy', 'systemctl restart nginx', {
    stdout: '',
    stderr: 'sudo: a password is required\n',
    code: 1,
  });
  t.match(error?.message, /sudo on web1 needs a password/);
  t.equal(error?.details.command, 'systemctl restart nginx');
  t.equal(becomeError('web1', 'deploy', 'true', { stdout: '', stderr: '', code: 1 }), undefined);
});
