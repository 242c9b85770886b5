import t from 'tap';
import { redact, RemoteCommandError } from '../../lib/errors.ts';
import { taskFailure } from '../../lib/run/failures.ts';
import { argv, sh } from '../../lib/shell/quote.ts';

t.test('redact: a sensitive value is masked as given and as a script quotes it', async (t) => {
  const secret = "it's-CANARY";
  const script = sh`env ${`TOKEN=${secret}`} curl ${'https://example.org/'}`;
  t.equal(script.text, `env 'TOKEN=it'\\''s-CANARY' curl https://example.org/`, 'the quote is written as a script writes it');
  t.equal(redact(script.text, [secret]), `env 'TOKEN=***' curl https://example.org/`);
  t.equal(redact(`curl: bad header ${secret}`, [secret]), 'curl: bad header ***');
  t.equal(redact(argv(['printf', secret]).text, [secret]), `printf '***'`);
});

t.test('redact: a value that contains another is masked whole; values under four characters are left alone', async (t) => {
  t.equal(redact('pass=abcd1234 and abcd', ['abcd', 'abcd1234']), 'pass=*** and ***');
  t.equal(redact('exit 1: ! not found', ['!', '1', 'yes']), 'exit 1: ! not found');
});

t.test('redact: a RemoteCommandError built from redacted fields says nothing of the value', async (t) => {
  const secret = 'CANARY-token-42';
  const error = new RemoteCommandError({ host: 'h', task: 't', command: redact(sh`env ${`TOKEN=${secret}`} false`.text, [secret]), code: 1, stderr: redact(`false: ${secret}`, [secret]) });
  t.notMatch(error.message, secret);
  t.match(error.message, /command: env TOKEN=\*\*\* false/);
});

t.test('redact: a failed task\'s record masks the secret in every field, not only the message', async (t) => {
  const secret = 'CANARY-token-43';
  const error = new RemoteCommandError({ host: 'h', task: 't', command: `curl -H ${secret}`, code: 22, stderr: `401 for ${secret}`, hint: `rotate ${secret}` });
  const record = taskFailure(error, { name: `fetch ${secret}`, module: 'command' }, 'h', [secret]);
  t.notMatch(JSON.stringify(record), secret);
  t.match(record, { kind: 'remote-command', command: 'curl -H ***', exitCode: 22, stderr: '401 for ***', hint: 'rotate ***', task: 'fetch ***', shortMessage: "task 'fetch ***' on h: command failed with exit code 22" });
});
