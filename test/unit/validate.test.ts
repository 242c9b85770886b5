import t from 'tap';
import { UsageError } from '../../lib/errors.ts';
import type { Task } from '../../lib/module/types.ts';
import { assertTasksValid, sensitiveValues } from '../../lib/module/validate.ts';
import { command, file, quadlet, repo, timer, user } from '../../modules/index.ts';

const check = (task: ReturnType<typeof file> | ReturnType<typeof command>) => () => assertTasksValid([{ task, where: '' }]);

t.test('a bad parameter names the task, the parameter and the value', async (t) => {
  const task = file({ path: '/etc/motd', content: 'x', mode: '0999' }, { name: 'motd' });
  t.throws(check(task), new UsageError(`invalid task parameters (nothing was changed on any host):\n  task 'motd' (file): parameter 'mode' = "0999": must match pattern "^0?[0-7]{3,4}$"`));
});

t.test('an unknown parameter is named with the known ones it may be a typo of, never with its value', async (t) => {
  const task = file({ path: '/etc/motd', content: 'x', ...({ owmer: 'root-CANARY' } as object) });
  t.throws(check(task), /task 'file \/etc\/motd' \(file\): parameter 'owmer' is not known to this module \(did you mean 'owner'\?\)$/);
  t.throws(check(file({ path: '/a', content: 'x' }, { ...({ notfy: 'h' } as object) })), /task option 'notfy' is not known \(did you mean 'notify'\?\)/, 'a misspelt task option is named with the right one');
  t.throws(check(file({ path: '/a', content: 'x', ...({ notify: 'h' } as object) })), /'notify' is a task option, not a parameter of file: give it in the second argument, file\(\{ \.\.\. \}, \{ notify: \.\.\. \}\)/, 'a task option among the parameters says where it goes');
  t.throws(check(file({ path: '/a', content: 'x' }, { become: 'yes' as unknown as boolean })), /task option 'become' = "yes": must be true or false/);
});

t.test('a relative path is refused', async (t) => {
  t.throws(check(file({ path: 'etc/motd', content: 'x' })), /parameter 'path' = "etc\/motd": must match pattern/);
});

t.test('command needs exactly one of argv and shell', async (t) => {
  t.throws(check(command({ ...({} as { argv: string[] }) })), /task 'command' \(command\): needs exactly one of 'argv', 'shell'$/);
  t.throws(check(command({ argv: ['a'], ...({ shell: 'b' } as object) } as { argv: string[] })), /needs exactly one of 'argv', 'shell'$/);
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
  t.match(message, /task 'user bob' \(user\): parameter 'password' is not known to this module \(did you mean 'passwordHash'\?\)/);
  t.notMatch(message, CANARY);
});

t.test('a repo password ending in a newline is described, not printed', async (t) => {
  const message = messageOf(repo({ name: 'r', baseurl: 'https://example.org/', password: `${CANARY}\n` }));
  t.match(message, /parameter 'password' = \(secret, not shown: a string of 19 characters, ending in a line break\): must match pattern/);
  t.notMatch(message, CANARY);
});

t.test('an environment map with one bad key names the key and prints none of the values', async (t) => {
  const env = { TOKEN: CANARY, 'bad-key': `${CANARY}-2` };
  const commandMessage = messageOf(command({ argv: ['true'], env }));
  t.match(commandMessage, /parameter 'env' has a key "bad-key" that is not valid: must match pattern/);
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

t.test('an error about the whole parameter object shows it with the secret parts described', async (t) => {
  // A link takes no content: the error is about the parameters as a whole, and prints them.
  const message = messageOf(file({ path: '/etc/token', state: 'link', target: '/x', ...({ content: CANARY, secret: true } as object) }));
  t.match(message, /parameter '\(parameters\)' = \{"path":"\/etc\/token","state":"link","target":"\/x","content":"\(secret\)"/);
  t.notMatch(message, CANARY);
  // The same mistake on a file that is not secret shows its content, as any other value.
  t.match(messageOf(file({ path: '/etc/motd', state: 'link', target: '/x', ...({ content: 'hello' } as object) })), /"content":"hello"/);
});

t.test('a value of the wrong type where a secret goes is described by its kind', async (t) => {
  const message = messageOf(user({ name: 'bob', passwordHash: 12345678 as unknown as string }));
  t.match(message, /parameter 'passwordHash' = \(secret, not shown: a number\): must be string/);
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
