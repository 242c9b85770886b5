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
