import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import t from 'tap';
import { PlaybookProblems } from '../../lib/errors.ts';
import type { HostView } from '../../lib/module/types.ts';
import { parameterProblems } from '../../lib/module/validate.ts';
import type { TaskResult } from '../../lib/run/results.ts';
import { refuseSecret, scriptForms } from '../../lib/secret/guard.ts';
import { maskDeep, maskError, maskingObserver, maskText } from '../../lib/secret/mask.ts';
import { inSecretScope, revealSecret, unsafeSecretText } from '../../lib/secret/scope.ts';
import { secret } from '../../lib/secret/secret.ts';
import { quote, sh } from '../../lib/shell/quote.ts';
import { command, file, quadlet, timer, user } from '../../modules/index.ts';
import type { WantedPath } from '../../modules/file/params.ts';

const dir = mkdtempSync(join(tmpdir(), 'hostform-secret-values-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const host = { name: 'h', groups: ['all'], vars: {}, facts: { platform: 'el9' } } as unknown as HostView;

/** A fresh run's scope, as play and runPlaybooks open one. */
const inRun = <T>(work: () => T): Promise<T> => inSecretScope(async () => work());

t.test('a Secret is not text: a template literal throws saying what to do, JSON and inspect show only its source', async (t) => {
  const s = secret.env('HF_NOT_TEXT');
  t.throws(() => `password=${s as unknown as string}`, /a Secret \(environment variable HF_NOT_TEXT\) was used as text: .*unsafeSecretText\(secret\)/);
  t.equal(JSON.stringify({ s }), '{"s":"(secret: environment variable HF_NOT_TEXT)"}');
  t.equal(inspect(s), 'Secret(environment variable HF_NOT_TEXT)');
  t.equal(secret.pass('home/restic').source, 'pass show home/restic');
  t.equal(secret.sops('s.yaml', '["a"]["b"]').source, 'sops --decrypt --extract "[\\"a\\"][\\"b\\"]" s.yaml');
});

t.test('an environment variable: its value, and a run that stops naming the variable when it is unset or empty', async (t) => {
  process.env['HF_SV_SET'] = 'value-from-env';
  process.env['HF_SV_EMPTY'] = '';
  t.teardown(() => {
    delete process.env['HF_SV_SET'];
    delete process.env['HF_SV_EMPTY'];
  });
  await inRun(() => {
    t.equal(unsafeSecretText(secret.env('HF_SV_SET')), 'value-from-env');
    t.throws(() => revealSecret(secret.env('HF_SV_UNSET')), /^secret from environment variable HF_SV_UNSET: the variable is not set$/);
    t.throws(() => revealSecret(secret.env('HF_SV_EMPTY')), /^secret from environment variable HF_SV_EMPTY: the value is empty$/);
  });
});

t.test('a file: only one of your own that no one else may read, one trailing line break dropped unless exact', async (t) => {
  const path = join(dir, 'token');
  writeFileSync(path, 'file-secret-1\n', { mode: 0o600 });
  await inRun(() => {
    t.equal(revealSecret(secret.file(path)), 'file-secret-1');
    t.equal(revealSecret(secret.file(path, { exact: true })), 'file-secret-1\n');
  });
  chmodSync(path, 0o640);
  await inRun(() => t.throws(() => revealSecret(secret.file(path)), new RegExp(`^secret from file ${path}: group or others have access to it \\(mode 0640\\): make it yours alone with chmod 600 ${path}$`)));
  await inRun(() => t.throws(() => revealSecret(secret.file(join(dir, 'missing'))), /: cannot read it: no such file$/));
});

t.test("a program's output: read once per run however often it is asked for, with its exit code and stderr when it fails", async (t) => {
  const counter = join(dir, 'count');
  writeFileSync(counter, '');
  const script = join(dir, 'stand-in-vault');
  writeFileSync(script, `#!/bin/sh\necho run >> ${quote(counter)}\nprintf 'prog-secret-42\\n'\n`, { mode: 0o700 });
  await inRun(() => {
    t.equal(revealSecret(secret.command([script])), 'prog-secret-42');
    t.equal(revealSecret(secret.command([script])), 'prog-secret-42', 'another Secret with the same source');
  });
  t.equal(readFileSync(counter, 'utf8'), 'run\n', 'the program ran once in that run');
  await inRun(() => revealSecret(secret.command([script])));
  t.equal(readFileSync(counter, 'utf8'), 'run\nrun\n', 'and once again in the next run');
  await inRun(() => {
    t.throws(() => revealSecret(secret.command(['sh', '-c', 'echo "no such entry" >&2; exit 3'])), /^secret from sh -c "echo \\"no such entry\\" >&2; exit 3": sh exited with code 3: no such entry$/);
    t.throws(() => revealSecret(secret.command(['hf-no-such-program'])), /hf-no-such-program is not installed or not on PATH$/);
    t.throws(() => revealSecret(secret.command(['printf', 'abc'])), /the value is shorter than 4 characters, too short to be masked/);
    t.throws(() => revealSecret(secret.onHost('/run/agenix/x')), /^secret from file \/run\/agenix\/x on the host: hostform never reads a secret that lives on the host/);
  });
});

t.test('masking: every value the run read, as text, shell-quoted, in JSON and line by line, in reports, reporters and errors', async (t) => {
  process.env['HF_SV_MASK'] = `it's "quoted"\nsecond-line-of-it`;
  t.teardown(() => delete process.env['HF_SV_MASK']);
  await inRun(() => {
    t.equal(maskText('before'), 'before', 'nothing to mask before a secret is read');
    revealSecret(secret.env('HF_SV_MASK'));
    t.equal(maskText(`a ${process.env['HF_SV_MASK']} b`), 'a *** b');
    t.equal(maskText(`echo ${quote(process.env['HF_SV_MASK'] as string)}`), "echo '***'");
    t.equal(maskText(JSON.stringify({ v: process.env['HF_SV_MASK'] })), '{"v":"***"}');
    t.equal(maskText('+second-line-of-it\n'), '+***\n', 'one line of it, as a diff shows it');
    const result = { name: 'x', module: 'command', status: 'failed', handler: false, durationMs: 1, changes: [{ summary: 'run', diff: '+second-line-of-it' }], error: { kind: 'remote-command', shortMessage: 's', message: 'm', stderr: `echoed ${process.env['HF_SV_MASK']}` } } as const satisfies TaskResult;
    const masked = maskDeep(result);
    t.equal(masked.changes[0]?.diff, '+***');
    t.equal(masked.error.stderr, 'echoed ***');
    const seen: unknown[] = [];
    maskingObserver({ taskStart: (_h, task) => seen.push(task), taskEnd: (_h, r) => seen.push(r.error?.stderr) }).taskStart?.('h', 'task second-line-of-it');
    maskingObserver({ taskEnd: (_h, r) => seen.push(r.error?.stderr) }).taskEnd?.('h', result);
    t.same(seen, ['task ***', 'echoed ***']);
    const problems = maskError(new PlaybookProblems([{ kind: 'role', shortMessage: 'threw second-line-of-it', message: 'threw second-line-of-it' }])) as PlaybookProblems;
    t.equal(problems.problems[0]?.message, 'threw ***');
    t.notMatch(problems.message + (problems.stack ?? ''), 'second-line-of-it');
  });
});

t.test('the guard: a script holding a secret of the run, as text, quoted or base64 at any offset, is refused before it runs', async (t) => {
  process.env['HF_SV_GUARD'] = 'guarded-secret-value';
  t.teardown(() => delete process.env['HF_SV_GUARD']);
  await inRun(() => {
    const value = revealSecret(secret.env('HF_SV_GUARD'));
    const refused = /refused to run a command holding the secret from environment variable HF_SV_GUARD: a command line can be read by every user/;
    t.throws(() => refuseSecret(sh`env TOKEN=${value} true`), refused);
    t.throws(() => refuseSecret(sh`echo ${`it's ${value}`}`), refused);
    for (const prefix of ['', 'a', 'ab', 'abc']) {
      const encoded = Buffer.from(`Environment=TOKEN=${prefix}${value}\n`).toString('base64');
      t.throws(() => refuseSecret(sh`printf %s ${encoded} | base64 -d`), refused, `base64 with ${prefix.length} bytes before it`);
    }
    t.doesNotThrow(() => refuseSecret(sh`cat /etc/hostname`));
    t.equal(scriptForms('abcd').length, 2, 'a value too short for its base64 to be told apart is looked for as text only');
  });
});

t.test('parameters: a Secret goes only where a parameter takes one, and an error about it names its source, never its value', async (t) => {
  const token = secret.env('HF_SV_PARAM');
  t.same(parameterProblems(command({ argv: ['true'], env: { TOKEN: token }, stdin: token })), []);
  t.same(parameterProblems(file({ path: '/etc/x', content: token })), []);
  t.same(parameterProblems(user({ name: 'alice', passwordHash: token })), []);
  t.same(parameterProblems(quadlet.secret({ name: 'db', value: token })), []);
  const [problem] = parameterProblems(timer({ name: 'b', onCalendar: 'daily', service: { execStart: '/bin/true', environment: { TOKEN: token as unknown as string } } }));
  t.match(problem?.message, /^parameter 'service\.environment\.TOKEN' is a Secret \(environment variable HF_SV_PARAM\), which it does not take: it must be text without a NUL character\. A parameter takes a Secret only where its description says so/);
  t.equal(problem?.value, '(secret from environment variable HF_SV_PARAM)');
  const [quadletEnv] = parameterProblems(quadlet.container({ name: 'c', image: 'x', environment: { TOKEN: token as unknown as string } }));
  t.match(quadletEnv?.message, /^parameter 'environment\.TOKEN' is a Secret/);
  t.match(parameterProblems(quadlet.secret({ name: 'db', value: 'plain' as never }))[0]?.message, /^parameter 'value' = "plain": must be a Secret$/);
});

t.test('file: a template that embeds a secret of the run makes the file secret (0600, shown by its hash) without saying so', async (t) => {
  process.env['HF_SV_TEMPLATE'] = 'templated-secret-9';
  t.teardown(() => delete process.env['HF_SV_TEMPLATE']);
  const password = secret.env('HF_SV_TEMPLATE');
  await inRun(() => {
    const task = file({ path: '/etc/app.ini', template: () => `[db]\npassword = ${unsafeSecretText(password)}\n` });
    const wanted = task.module.resolve(task.params, host) as Extract<WantedPath, { state: 'file' }>;
    t.equal(wanted.secret, true);
    t.equal(wanted.mode, '0600');
    const plain = file({ path: '/etc/motd', template: () => 'hello\n' });
    t.equal((plain.module.resolve(plain.params, host) as Extract<WantedPath, { state: 'file' }>).secret, false, 'a file without one is not');
    const direct = file({ path: '/etc/token', content: password, mode: '0640' });
    const wantedDirect = direct.module.resolve(direct.params, host) as Extract<WantedPath, { state: 'file' }>;
    t.same([wantedDirect.secret, wantedDirect.mode, wantedDirect.content.toString()], [true, '0640', 'templated-secret-9'], 'a Secret as content, with the mode asked for');
  });
});
