import { execFileSync } from 'node:child_process';
import t from 'tap';
import { argv, quote, sh } from '../../lib/shell/quote.ts';

const echoArgs = (script: string) => execFileSync('sh', ['-c', `set -- ${script}; for a; do printf '[%s]' "$a"; done`], { encoding: 'utf8' });

t.test('quoted arguments reach the program exactly as given', async (t) => {
  const nasty = ["it's", '$(rm -rf /)', '`id`', 'a b', '', '--flag', '*', 'new\nline', '"\\'];
  t.equal(echoArgs(argv(nasty).text), nasty.map((a) => `[${a}]`).join(''));
});

t.test('sh quotes every interpolated value and splices scripts and arrays', async (t) => {
  const path = "/tmp/a b;'c";
  t.equal(sh`test -e ${path}`.text, `test -e '/tmp/a b;'\\''c'`);
  t.equal(sh`ls ${['-l', 'x y']}`.text, `ls -l 'x y'`);
  t.equal(sh`sudo ${sh`id ${'-u'}`}`.text, 'sudo id -u');
  t.equal(quote('plain/path-1.2'), 'plain/path-1.2');
});

t.test('inSequence: each script in its own subshell, the first failure ends the whole with its code, a set -e inside still works', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const { inSequence, trusted } = await import('../../lib/shell/quote.ts');
  const run = (...scripts: string[]) => spawnSync('sh', ['-c', inSequence(scripts.map(trusted)).text], { encoding: 'utf8' });
  t.same([run('echo a', 'echo b').stdout, run('echo a', 'echo b').status], ['a\nb\n', 0]);
  const failed = run('echo a', 'exit 7', 'echo never');
  t.same([failed.stdout, failed.status], ['a\n', 7], 'stops at the failure, with its code');
  const strict = run('set -e; false; echo after-false', 'echo never');
  t.same([strict.stdout, strict.status], ['', 1], 'set -e is not ignored');
  t.same(run('x=1', 'echo "[$x]"').stdout, '[]\n', 'a variable stays in its own script');
  t.equal(inSequence([trusted('true')]).text, 'true', 'one script is left as it is');
});
