import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import {
  HostJournal,
  journalFunctions,
  journalPrelude,
  journalReleaseInput,
  journalText,
  parseJournal,
  parseJournalLine,
  type JournalEntry,
  type OwedBy,
} from '../../lib/run/journal.ts';
import { parseLockOutput } from '../../lib/run/run-lock.ts';
import { sh } from '../../lib/shell/quote.ts';

// The pending-actions journal's pure parts and its shell, run on this
// machine in a scratch directory. The journal on a host, a killed run and
// the run after it are in test/journal.test.ts (issue 14).

const by: OwedBy = { run: 'r1', playbook: 'site.ts', started: '2026-01-02T03:04:05.000Z', user: 'me', control: 'laptop' };
const handler: JournalEntry = { kind: 'handler', play: 'site', name: 'restart nginx', owedBy: by };
const reload: JournalEntry = { kind: 'deferred', id: 'systemd daemon-reload', script: 'systemctl daemon-reload', become: true, confirms: [], owedBy: by };

const dir = await mkdtemp(join(tmpdir(), 'hostform-journal-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

function sh0(script: string, input = ''): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('sh', ['-c', script], { input, encoding: 'utf8' });
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

t.test('a journal reads back what was written, and anything else is refused saying why', async (t) => {
  t.same(parseJournal(journalText([handler, reload])), [handler, reload]);
  t.match((parseJournal('{"version":1,"entries":[{"kind":"handler"}]}') as Error).message, 'entry 1 is not one hostform writes');
  t.match((parseJournal('{"version":2,"entries":[]}') as Error).message, 'not a version 1 journal');
  t.match((parseJournal('{') as Error).message, /^it is not JSON/);
});

t.test("the lock script's journal line gives the path and the file's text, also for a path with spaces", async (t) => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  t.same(parseJournalLine(`journal ${b64('/var/lib/hostform/pending')} ${b64('{"x":1}')}`, true), { path: '/var/lib/hostform/pending', root: true, text: '{"x":1}' });
  t.same(parseJournalLine(`journal ${b64('/home/a b/.local/state/hostform/pending')}`, false), { path: '/home/a b/.local/state/hostform/pending', root: false, text: undefined });
  const facts = '@@hostform-fact end\n';
  const out = `${facts}@@hostform-lock acquired /run/hostform/run.lock\n@@hostform-lock journal ${b64('/var/lib/hostform/pending')} ${b64('j')}\n@@hostform-lock ready\n`;
  t.same(parseLockOutput(out).outcome, { kind: 'acquired', path: '/run/hostform/run.lock', journal: { path: '/var/lib/hostform/pending', root: true, text: 'j' } }, "root's lock: root's journal");
});

t.test('a run writes the journal ahead of a command only when something new is owed', async (t) => {
  const journal = new HostJournal({ path: '/j/pending', root: true, text: undefined }, by);
  t.equal(journal.beforeNextCommand(), undefined, 'nothing owed: nothing to write');
  journal.put(handler);
  const first = journal.beforeNextCommand();
  t.ok(first, 'a new entry must reach the host first');
  journal.written(first!.text);
  journal.put(handler);
  t.equal(journal.beforeNextCommand(), undefined, 'a second notify of the same handler adds nothing');
  journal.settle(handler);
  t.equal(journal.beforeNextCommand(), undefined, 'an action that ran need not be written ahead of anything');
  t.equal(journal.atRelease(), journalReleaseInput([]), 'but the release leaves an empty journal');
});

t.test('a run that finds nothing and owes nothing sends nothing at release', async (t) => {
  const journal = new HostJournal({ path: '/j/pending', root: true, text: undefined }, by);
  t.equal(journal.atRelease(), undefined);
  const found = new HostJournal({ path: '/j/pending', root: true, text: journalText([handler]) }, by);
  t.same(found.entries, [handler]);
  t.equal(found.atRelease(), undefined, 'what was found is still owed: the file is right as it is');
});

t.test('a journal that cannot be read is said so, and treated as empty', async (t) => {
  const journal = new HostJournal({ path: '/j/pending', root: true, text: 'garbage' }, by);
  t.match(journal.unreadable, /^it is not JSON/);
  t.same(journal.entries, []);
  t.ok(journal.atRelease(), 'the release replaces it');
});

t.test('the journal write in front of a command replaces the file atomically, then lets the command run', async (t) => {
  const path = join(dir, 'state', 'pending');
  const r = sh0(`${journalPrelude(path, [handler]).text}\necho ran`);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'ran\n');
  t.same(parseJournal(await readFile(path, 'utf8')), [handler]);
  t.equal((await stat(path)).mode & 0o777, 0o600, 'root-only: 0600');
  t.equal((await stat(join(dir, 'state'))).mode & 0o777, 0o700, 'in a 0700 directory');
  t.same(await readdir(join(dir, 'state')), ['pending'], 'no temporary file left');
  t.equal(sh0(journalPrelude(path, []).text).code, 0);
  t.same(await readdir(join(dir, 'state')), [], 'an empty journal is no file');
});

t.test('when the journal cannot be written, the command after it does not run', async (t) => {
  await writeFile(join(dir, 'afile'), 'x');
  const r = sh0(`${journalPrelude(join(dir, 'afile', 'pending'), [handler]).text}\necho ran`);
  t.equal(r.code, 1);
  t.equal(r.stdout, '', 'the change never ran');
  t.match(r.stderr, 'cannot write the pending-actions journal');
});

t.test("the lock script's release writes what the run sent, and only when all of it arrived", async (t) => {
  const journalDir = join(dir, 'release');
  const release = (input: string) => sh0(`${journalFunctions('@@m')}\nhostform_journal_release ${sh`${journalDir}`.text}`, input);
  t.equal(release(journalReleaseInput([reload])).code, 0);
  t.same(parseJournal(await readFile(join(journalDir, 'pending'), 'utf8')), [reload], 'written');
  const whole = journalReleaseInput([handler]);
  t.equal(release(whole.slice(0, whole.length - 10)).code, 0, 'cut short: the connection died mid-way');
  t.same(parseJournal(await readFile(join(journalDir, 'pending'), 'utf8')), [reload], 'left alone');
  t.equal(release('').code, 0, 'a killed control process sends nothing');
  t.same(parseJournal(await readFile(join(journalDir, 'pending'), 'utf8')), [reload], 'left alone');
  t.equal(release(journalReleaseInput([])).code, 0);
  t.same(await readdir(journalDir), [], 'nothing owed: removed');
  const read = sh0(`${journalFunctions('@@m')}\nhostform_journal_read ${sh`${journalDir}`.text}`);
  t.same(parseJournalLine(read.stdout.trim().replace(/^@@m /, ''), false), { path: join(journalDir, 'pending'), root: false, text: undefined });
});
