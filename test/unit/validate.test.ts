import t from 'tap';
import { UsageError } from '../../lib/errors.ts';
import type { Task } from '../../lib/module/types.ts';
import { assertTasksValid, sensitiveValues } from '../../lib/module/validate.ts';
import { command, fail2ban, file, firewalld, quadlet, repo, selinux, timer, user } from '../../modules/index.ts';

const check = (task: ReturnType<typeof file> | ReturnType<typeof command>) => () => assertTasksValid([{ task, where: '' }]);

t.test('a bad parameter names the task, the parameter and the value', async (t) => {
  const task = file({ path: '/etc/motd', content: 'x', mode: '0999' }, { name: 'motd' });
  t.throws(check(task), new UsageError(`invalid task parameters (nothing was changed on any host):\n  task 'motd' (file): parameter 'mode' = "0999": must be an octal mode in a string, such as "0644" or "2775"`));
  t.throws(check(file({ path: '/etc/motd', content: 'x', mode: 644 as unknown as string })), /parameter 'mode' = 644: must be an octal mode in a string/, 'a number where the mode goes reads the same');
});

t.test('an unknown parameter is named with the known ones it may be a typo of, never with its value', async (t) => {
  const task = file({ path: '/etc/motd', content: 'x', ...({ owmer: 'root-CANARY' } as object) });
  t.throws(check(task), /task 'file \/etc\/motd' \(file\): parameter 'owmer' is not known to file \(did you mean 'owner'\?\)$/);
  t.throws(check(file({ path: '/a', content: 'x' }, { ...({ notfy: 'h' } as object) })), /task option 'notfy' is not known \(did you mean 'notify'\?\)/, 'a misspelt task option is named with the right one');
  t.throws(check(file({ path: '/a', content: 'x', ...({ notify: 'h' } as object) })), /'notify' is a task option, not a parameter of file: give it in the second argument, file\(\{ \.\.\. \}, \{ notify: \.\.\. \}\)/, 'a task option among the parameters says where it goes');
  t.throws(check(file({ path: '/a', content: 'x' }, { become: 'yes' as unknown as boolean })), /task option 'become' = "yes": must be true or false/);
});

t.test('a relative path is refused', async (t) => {
  t.throws(check(file({ path: 'etc/motd', content: 'x' })), /parameter 'path' = "etc\/motd": must be an absolute path \(starting with \/\)$/);
});

t.test('command needs exactly one of argv and shell', async (t) => {
  t.throws(check(command({ ...({} as { argv: string[] }) })), /task 'command' \(command\): needs exactly one of 'argv', 'shell'$/);
  t.throws(check(command({ argv: ['a'], ...({ shell: 'b' } as object) } as { argv: string[] })), /needs exactly one of 'argv', 'shell', not both$/);
  t.doesNotThrow(check(command({ argv: ['true'] })));
  t.doesNotThrow(check(command({ shell: 'true', creates: '/x' })));
});

t.test('functions and buffers are accepted where the types allow them', async (t) => {
  t.doesNotThrow(check(file({ path: '/a', template: (h) => h.name })));
  t.doesNotThrow(check(file({ path: '/a', content: Buffer.from([0, 1]) })));
});

// Secrets in parameter errors: every message is searched for the canary.
const CANARY = 'CANARY-7f3a-secret';
const messageOf = (task: Task) => {
  try {
    assertTasksValid([{ task, where: '' }]);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('the task was valid');
};

t.test('a misspelt password key is named and a close known key suggested; its value is not printed', async (t) => {
  const message = messageOf(user({ name: 'bob', ...({ password: CANARY } as object) }));
  t.match(message, /task 'user bob' \(user\): parameter 'password' is not known to user \(did you mean 'passwordHash'\?\)/);
  t.notMatch(message, CANARY);
});

t.test('a repo password ending in a newline is described, not printed', async (t) => {
  const message = messageOf(repo({ name: 'r', baseurl: 'https://example.org/', password: `${CANARY}\n` }));
  t.match(message, /parameter 'password' = \(secret, not shown: a string of 19 characters, ending in a line break\): must be one line \(no line break or NUL\) without blanks at either end/);
  t.notMatch(message, CANARY);
});

t.test('an environment map with one bad key names the key and prints none of the values', async (t) => {
  const env = { TOKEN: CANARY, 'bad-key': `${CANARY}-2` };
  const commandMessage = messageOf(command({ argv: ['true'], env }));
  t.match(commandMessage, /parameter 'env' has a key "bad-key" that is not valid: must be an environment variable name \(letters, digits and _, not starting with a digit\)/);
  const service = { execStart: '/bin/true', environment: env };
  const timerMessage = messageOf(timer({ name: 'backup', onCalendar: 'daily', service }));
  t.match(timerMessage, /parameter 'service\.environment' has a key "bad-key" that is not valid/);
  const containerMessage = messageOf(quadlet.container({ name: 'db', image: 'postgres', environment: env }));
  t.match(containerMessage, /parameter 'environment' has a key "bad-key" that is not valid/);
  for (const message of [commandMessage, timerMessage, containerMessage]) t.notMatch(message, CANARY);
});

t.test('content and template together on a secret file is refused without printing either', async (t) => {
  const message = messageOf(file({ path: '/etc/token', secret: true, ...({ content: CANARY, template: `${CANARY}-2` } as { content: string }) }));
  t.match(message, /task 'file \/etc\/token' \(file\): needs exactly one of 'content', 'template'/);
  t.notMatch(message, CANARY);
});

t.test('a parameter that its state rules out is named with the rule, and its value is not shown', async (t) => {
  const message = messageOf(file({ path: '/etc/token', state: 'link', target: '/x', ...({ content: CANARY, secret: true } as object) }));
  t.match(message, /task 'file \/etc\/token \(link\)' \(file\): parameter 'content' cannot be given when 'state' is "link"$/);
  t.notMatch(message, CANARY);
});

t.test('a value of the wrong type inside a secret map is described by its kind', async (t) => {
  const message = messageOf(command({ argv: ['true'], env: { TOKEN: CANARY, N: 5 as unknown as string } }));
  t.match(message, /parameter 'env\.N' = \(secret, not shown: a number\): must be a string/);
  t.notMatch(message, CANARY);
  t.match(messageOf(user({ name: 'bob', groups: 'wheel' as unknown as string[] })), /parameter 'groups' = "wheel": must be a list \(each an account name/, 'a type error says what the list holds');
});

t.test('a value of the wrong type where a secret goes is described by its kind', async (t) => {
  const message = messageOf(user({ name: 'bob', passwordHash: 12345678 as unknown as string }));
  t.match(message, /parameter 'passwordHash' = \(secret, not shown: a number\): must be a string/);
  t.notMatch(message, '12345678');
});

t.test('sensitive values are what the schemas mark: passwords, hashes, environment values, a secret file\'s content', async (t) => {
  t.same(sensitiveValues(user({ name: 'bob', passwordHash: '$6$salt$hash' })), ['$6$salt$hash']);
  t.same(sensitiveValues(repo({ name: 'r', baseurl: 'https://x/', username: 'me', password: 'pw1', options: { proxy_password: 'pw2', proxy_username: 'me2' } })), ['pw1', 'pw2']);
  t.same(sensitiveValues(command({ argv: ['curl', 'x'], env: { TOKEN: 't0k', LANG: 'C' } })), ['t0k', 'C']);
  t.same(sensitiveValues(file({ path: '/etc/token', content: 'abc', secret: true })), ['abc']);
  t.same(sensitiveValues(file({ path: '/etc/motd', content: 'abc' })), [], 'a file that is not secret has no sensitive value');
  t.same(sensitiveValues(file({ path: '/etc/token', content: 'abc', secret: 'yes' as unknown as boolean })), ['abc'], 'a mistyped secret flag still hides the content');
});

t.test('a NUL byte in a value that goes into a script is refused with where it is, not what it is', async (t) => {
  const message = messageOf(command({ argv: ['echo', 'ab\0cd'] }));
  t.match(message, /task 'command echo ab.cd' \(command\): parameter 'argv\.1' holds a NUL byte \(character 3 of 5\): a command line cannot carry one/);
  const secret = messageOf(command({ argv: ['true'], env: { TOKEN: `${CANARY}\0` } }));
  t.match(secret, /parameter 'env\.TOKEN' holds a NUL byte \(character 19 of 19\)/);
  t.notMatch(secret, CANARY);
});

t.test('a string that is not Unicode (a lone surrogate, bytes that were not UTF-8) is refused, file bodies included: it would reach the host as U+FFFD and never match', async (t) => {
  t.match(messageOf(command({ argv: ['echo', 'a\udc80b'] })), /parameter 'argv\.1' holds a lone surrogate \(character 2 of 3\), not Unicode text: it cannot reach the host as UTF-8/);
  t.match(messageOf(file({ path: '/etc/motd', content: 'x\ud800' })), /parameter 'content' holds a lone surrogate \(character 2 of 2\)/);
  t.doesNotThrow(check(file({ path: '/etc/motd', content: 'emoji \ud83d\ude00 is a pair' })), 'a surrogate pair is a character');
  t.doesNotThrow(check(file({ path: '/etc/motd', content: Buffer.from([0xff, 0xfe]) })), 'bytes that are not text go as a Buffer');
});

t.test('user: a shell or home holding ":" or a line break is refused before connecting: it would end a field or a line of /etc/passwd', async (t) => {
  t.match(messageOf(user({ name: 'bob', shell: '/bin/sh\ntouch /tmp/x' })), /parameter 'shell' = "\/bin\/sh\\ntouch \/tmp\/x": must be an absolute path \(starting with \/\), one line without ":"/);
  t.match(messageOf(user({ name: 'bob', home: '/home/bob:/bin/sh' })), /parameter 'home' = "\/home\/bob:\/bin\/sh": must be an absolute path/);
  t.doesNotThrow(() => assertTasksValid([{ task: user({ name: 'bob', shell: '/usr/bin/fish', home: '/srv/bob home' }), where: '' }]));
});

t.test('a value too large for the host\'s command line is refused, counted as it travels (quoted)', async (t) => {
  const big = messageOf(command({ argv: ['true'], unless: ['test', 'a'.repeat(100_000)] }));
  t.match(big, /parameter 'unless\.1' is too large for the host's command line: a string of 100000 characters takes 97\.7 KiB there, at most 16 KiB/);
  t.notMatch(big, 'aaaa');
  // 2,000 quotes take 26,000 bytes once quoted twice: more than the limit, though the value is small.
  t.match(messageOf(command({ argv: ['echo', "'".repeat(2000)] })), /parameter 'argv\.1' is too large .*: a string of 2000 characters takes 25\.4 KiB there/);
  t.match(messageOf(command({ argv: Array.from({ length: 10 }, () => 'a'.repeat(10_000)) })), /the parameters together take 97\.7 KiB of the host's command line, at most 64 KiB/);
  t.doesNotThrow(check(command({ argv: ['echo', 'a'.repeat(16_000)] })));
});

t.test('a file\'s content is data, not part of a script: any size and any bytes', async (t) => {
  t.doesNotThrow(check(file({ path: '/srv/blob', content: `${'x'.repeat(1_000_000)}\0` })));
  t.doesNotThrow(check(file({ path: '/srv/blob', template: 'y'.repeat(1_000_000) })));
  t.match(messageOf(file({ path: `/srv/${'\0'}` , content: 'x' })), /parameter 'path' holds a NUL byte/, 'its path is not');
});

t.test('a rule that applies only under a condition says the condition', async (t) => {
  t.match(messageOf(file({ path: '/etc/motd', ...({ state: 'link' } as object) } as { path: string; content: string })), /parameter 'target' is required when 'state' is "link"$/);
  t.match(messageOf(file({ path: '/srv', ...({ state: 'directory', content: 'x' } as object) } as { path: string; content: string })), /parameter 'content' cannot be given when 'state' is "directory" or "absent"$/);
  t.match(messageOf(repo({ name: 'r', ...({} as { baseurl: string }) })), /needs exactly one of 'baseurl', 'metalink', 'mirrorlist' unless 'state' is "absent"$/);
  t.match(messageOf(user({ name: 'bob', append: true })), /parameter 'groups' is required when 'append' is given$/);
  t.match(messageOf(fail2ban.jail({ name: 'sshd', journalmatch: '_SYSTEMD_UNIT=sshd.service', backend: 'auto' })), /parameter 'backend' = "auto": must be "systemd" when 'journalmatch' is given$/);
  t.match(messageOf(selinux.port({ port: 80, type: 'http_port_t', ...({} as { protocol: 'tcp' }) })), /parameter 'protocol' is required when 'port' is given$/);
});

t.test('a value that fits none of several shapes lists them; one that fits a shape by its type is held to that shape', async (t) => {
  t.match(messageOf(file({ path: '/etc/motd', content: 42 as unknown as string })), /parameter 'content' = 42: must be a string, or a Buffer, or a Secret$/);
  t.match(messageOf(selinux.port({ port: true as unknown as number, protocol: 'tcp', type: 'http_port_t' })), /parameter 'port' = true: must be an integer from 1 to 65535, or a port or range in a string, such as "8080" or "8000-8010"$/);
  t.match(messageOf(selinux.port({ port: 'http' as unknown as number, protocol: 'tcp', type: 'http_port_t' })), /parameter 'port' = "http": must be a port or range in a string, such as "8080" or "8000-8010"$/);
  t.match(messageOf(timer({ name: 'b', onCalendar: ['daily', 'a\nb'], service: { execStart: '/bin/true' } })), /parameter 'onCalendar\.1' = "a\\nb": must be one line \(no line break or NUL\)$/, 'the bad item of a list is named');
  t.match(messageOf(timer({ name: 'b.timer', onCalendar: 'daily', service: { execStart: '/bin/true' } })), /parameter 'name' = "b\.timer": must be a timer name without \.timer or \.service, such as "backup"$/, 'a not reads as what is expected');
});

t.test('a misspelt choice is answered with the close one', async (t) => {
  t.match(messageOf(firewalld.port({ port: 80, protocol: 'tpc' as 'tcp' })), /parameter 'protocol' = "tpc": must be one of "tcp", "udp", "sctp", "dccp" \(did you mean "tcp"\?\)$/);
  t.match(messageOf(user({ name: 'bob', groups: ['wheel', 'wheel'] })), /parameter 'groups' = \["wheel","wheel"\]: must not list "wheel" twice$/);
});
