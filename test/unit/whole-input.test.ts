import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { wholeInput } from '../../lib/run/whole-input.ts';
import { sh } from '../../lib/shell/quote.ts';

// Issue 14: a command of a change that reads its standard input (authorized
// keys, chpasswd, dnf shell, semanage import) must not act on part of it
// when the connection dies while the bytes travel.

const dir = await mkdtemp(join(tmpdir(), 'hostform-whole-input-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const run = (script: string, input: string) => spawnSync('sh', ['-c', script], { input, encoding: 'utf8', env: { ...process.env, TMPDIR: dir } });

t.test('a command gets all of its standard input, exactly, and its exit code is kept', async (t) => {
  const out = join(dir, 'whole');
  const input = 'key one\nkey two\n\0é\n';
  const r = run(wholeInput(sh`cat >${out}; exit 7`, input).text, input);
  t.equal(r.status, 7);
  t.equal(await readFile(out, 'utf8'), input);
});

t.test('a command whose standard input arrives cut short never runs, and says why', async (t) => {
  const out = join(dir, 'cut');
  const input = 'x'.repeat(10_000);
  const r = run(wholeInput(sh`cat >${out}`, input).text, input.slice(0, 4096));
  t.equal(r.status, 1);
  t.match(r.stderr, 'hostform: standard input arrived incomplete (4096 of 10000 bytes); nothing was run');
  await t.rejects(readFile(out), { code: 'ENOENT' }, 'the command did not run');
  // Where privateTempDir puts it: /run/hostform for root, else TMPDIR here.
  const base = process.getuid?.() === 0 ? '/run/hostform' : dir;
  const copies = (await readdir(base).catch(() => [] as string[])).filter((f) => f.startsWith('hostform.'));
  const holding = await Promise.all(copies.map((f) => readdir(join(base, f)).then((inside) => inside.includes('stdin'), () => false)));
  t.notOk(holding.includes(true), 'its private copy of the input is gone');
});
