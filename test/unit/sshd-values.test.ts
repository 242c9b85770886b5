import t from 'tap';
import type { HostView } from '../../lib/module/types.ts';
import { taskProblems } from '../../lib/module/validate.ts';
import { sshd } from '../../modules/sshd/index.ts';
import type { SshdConfigParams } from '../../modules/sshd/params.ts';

// What sshd.config refuses before it touches a host; test/sshd-config-format.test.ts
// reads what it accepts back with sshd's own parser.

const host = { name: 'h', groups: [], vars: {}, facts: { platform: 'el9' } } as unknown as HostView;
/** Schema problems, else what resolving says: the two steps before any change. */
function refusal(params: SshdConfigParams): string {
  const task = sshd.config(params);
  const problems = taskProblems(task, '');
  if (problems.length > 0) return problems.join('\n');
  try {
    task.module.resolve(task.params, host);
    return '';
  } catch (error) {
    return (error as Error).message;
  }
}

t.test('sshd: ListenAddress * is refused with the reason, naming the parameter and value', async (t) => {
  t.match(refusal({ options: { ListenAddress: ['*'] } }), /parameter 'options\.ListenAddress' = "\*": sshd has no wildcard addresses \(with '\*' it listens on 127\.0\.0\.1 and ::1 only/);
  t.match(refusal({ options: { ListenAddress: '*:2222' } }), /parameter 'options\.ListenAddress' = "\*:2222"/);
  t.equal(refusal({ options: { ListenAddress: ['0.0.0.0', '::', '[::]:2222', 'host.example.org:22'] } }), '');
});

t.test("sshd: a byte sshd's parser treats specially is refused in every value, naming task, parameter and value", async (t) => {
  const hostile = ['a\0b', 'a\rb', 'a\nb', 'a\tb', 'a\fb', 'a b', ' a', 'a ', '#a', 'a#b', 'a"b', "a'b", 'a\\', '=a', '\x7f'];
  for (const value of hostile) {
    const shown = JSON.stringify(value).replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
    t.match(refusal({ options: { AllowUsers: ['root', value] } }), new RegExp(`task 'sshd drop-in /etc/ssh/sshd_config\\.d/00-hostform\\.conf' \\(sshd\\.config\\): parameter 'options\\.AllowUsers\\.1' = ${shown}`), `AllowUsers ${shown}`);
    t.match(refusal({ options: { ListenAddress: value } }), /parameter 'options\.ListenAddress' = /, `ListenAddress ${shown}`);
    // After the leading / a = is an ordinary character.
    if (value !== '=a') t.match(refusal({ options: { Banner: `/etc/${value}` } }), /parameter 'options\.Banner' = /, `Banner ${shown}`);
    if (value !== 'a b') t.match(refusal({ extra: { ChrootDirectory: value } }), /parameter 'extra\.ChrootDirectory' = /, `extra ${shown}`);
  }
  t.match(refusal({ extra: { Subsystem: 'sftp  internal-sftp' } }), /parameter 'extra\.Subsystem'/, 'arguments are separated by single spaces');
  t.equal(refusal({ extra: { Subsystem: 'sftp /usr/libexec/openssh/sftp-server -f AUTHPRIV -l INFO', SetEnv: 'A=b', MaxStartups: 10 } }), '');
});

t.test('sshd: an algorithm list starting with -, + or ^ is refused, since sshd would read it as a change to its default list', async (t) => {
  for (const first of ['-aes128-ctr', '+aes128-ctr', '^aes128-ctr']) {
    t.match(refusal({ options: { Ciphers: [first, 'chacha20-poly1305@openssh.com'] } }), /parameter 'options\.Ciphers\.0'/, first);
  }
  t.match(refusal({ options: { KexAlgorithms: ['curve25519-sha256,sntrup761x25519-sha512@openssh.com'] } }), /parameter 'options\.KexAlgorithms\.0'/, 'one name per item');
  t.equal(refusal({ options: { Ciphers: ['aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com'], MACs: ['hmac-sha2-512-etm@openssh.com'] } }), '');
});
