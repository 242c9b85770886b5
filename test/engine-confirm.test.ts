import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadInventory } from '../lib/inventory/load.ts';
import { defineModule } from '../lib/module/define.ts';
import type { Backend } from '../lib/module/types.ts';
import { playbook, type Step } from '../lib/playbook.ts';
import { runPlaybooks } from '../lib/run/run.ts';
import { sh } from '../lib/shell/quote.ts';

// The confirm-or-revert seam sshd.config relies on, shown with a small real
// module on the local connection: each task appends a line to a file and asks
// for one deferred "reload" whose check reads the file.

const dir = await mkdtemp(join(tmpdir(), 'hostform-confirm-'));
/**
 * This machine's own pending-actions journal (the local connection makes it
 * the host): an action that fails stays owed there, and would run first in
 * the next test's run, or in another test file's, after this directory is gone.
 */
const journal = process.getuid?.() === 0 ? '/var/lib/hostform/pending' : join(process.env['XDG_STATE_HOME'] ?? join(homedir(), '.local/state'), 'hostform/pending');
t.teardown(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(journal, { force: true });
});
const state = join(dir, 'state');
const log = join(dir, 'log');

interface Line {
  readonly line: string;
  /** The check fails while the state holds this line. */
  readonly poison?: string;
  readonly fail?: boolean;
  /** The deferred script itself fails while the state holds this line. */
  readonly reloadFailsOn?: string;
  readonly undoFails?: boolean;
}
const backend: Backend<Line, boolean, null> = {
  probes: (p) => ({ has: { script: sh`grep -qxF ${p.line} ${state} 2>/dev/null && echo yes || echo no` } }),
  parse: (_p, out) => out['has']?.stdout.trim() === 'yes',
  plan: (p, present) => (present && !p.fail ? [] : [{ summary: `add ${p.line}`, action: null }]),
  async apply(p, _changes, context) {
    if (p.fail) throw new Error(`task ${p.line} fails`);
    await context.run(sh`echo ${p.line} >> ${state}`);
    const reload = p.reloadFailsOn ? sh`if grep -qxF ${p.reloadFailsOn} ${state}; then echo refused >&2; exit 3; fi; echo reload >> ${log}` : sh`echo reload >> ${log}`;
    context.defer('reload', reload, {
      check: async () => {
        const content = await readFile(state, 'utf8').catch(() => '');
        if (p.poison && content.split('\n').includes(p.poison)) throw new Error(`the state holds ${p.poison}`);
      },
      undo: async () => {
        if (p.undoFails) throw new Error('the undo broke');
        await context.run(sh`sed -i ${`/^${p.line}$/d`} ${state}`);
      },
      undoes: `remove ${p.line}`,
    });
  },
};
const line = defineModule<Line, Line>({
  name: 'test.line',
  schema: { type: 'object', required: ['line'], properties: { line: { type: 'string' }, poison: { type: 'string' }, fail: { type: 'boolean' }, reloadFailsOn: { type: 'string' }, undoFails: { type: 'boolean' } }, additionalProperties: false },
  capabilities: { checkMode: true, diff: true, changes: ['command'], validates: 'none: a test module' },
  describe: (p) => `line ${p.line}`,
  resolve: (p) => p,
  backends: { linux: backend, el9: backend, nixos: backend },
});

const invFile = join(dir, 'inventory.yml');
await writeFile(invFile, 'hosts:\n  here:\n    connection: local\n');
const inv = await loadInventory([invFile]);
const run = (tasks: Step[]) => runPlaybooks([playbook({ name: 'confirm', hosts: 'all', tasks })], inv, { mode: 'apply', forks: 1 });
const reset = async () => {
  await writeFile(state, 'base\n');
  await writeFile(log, '');
  await rm(journal, { force: true });
};

t.test('a confirm-or-revert action whose check passes runs once for every task that asked, and keeps the changes', async (t) => {
  await reset();
  const report = await run([line({ line: 'a', poison: 'never' }), line({ line: 'b' })]);
  t.same(report.hosts[0]?.tasks.map((x) => `${x.name}=${x.status}`), ['line a=changed', 'line b=changed', 'deferred: reload=changed']);
  t.equal(await readFile(state, 'utf8'), 'base\na\nb\n');
  t.equal(await readFile(log, 'utf8'), 'reload\n');
});

t.test('a failed check undoes every asking task, last first, runs the action again, and fails saying so', async (t) => {
  await reset();
  const report = await run([line({ line: 'a', poison: 'b' }), line({ line: 'b' })]);
  const deferred = report.hosts[0]?.tasks[2];
  t.equal(deferred?.status, 'failed');
  t.equal(report.exitCode, 1);
  t.equal(deferred?.error?.message, "task 'deferred: reload' on here: the state holds b\nreverted, in this order: remove b; remove a; then reload ran again and the check passes: the previous state is back");
  t.equal(deferred?.error?.kind, 'deferred');
  t.equal(await readFile(state, 'utf8'), 'base\n', 'both changes are gone');
  t.equal(await readFile(log, 'utf8'), 'reload\nreload\n');
});

t.test('a failing script counts as a failed check: the changes are undone and the script runs again', async (t) => {
  await reset();
  const report = await run([line({ line: 'a', reloadFailsOn: 'a' })]);
  t.match(report.hosts[0]?.tasks[1]?.error?.message, /exit code 3[\s\S]*refused[\s\S]*\nreverted, in this order: remove a; then reload ran again and the check passes: the previous state is back$/);
  t.equal(await readFile(state, 'utf8'), 'base\n');
  t.equal(await readFile(log, 'utf8'), 'reload\n', 'the second run of the script succeeded');
});

t.test('when putting the previous state back does not satisfy the check either, the error says that too, and the action stays owed', async (t) => {
  await reset();
  await writeFile(state, 'base\nb\n');
  const report = await run([line({ line: 'a', poison: 'b' })]);
  t.equal(report.hosts[0]?.tasks[1]?.error?.message, "task 'deferred: reload' on here: the state holds b\nreverted, in this order: remove a; putting the previous state back failed: reload and its check after reverting: the state holds b");
  t.match(JSON.parse(await readFile(journal, 'utf8')), { entries: [{ kind: 'deferred', id: 'reload', confirms: [] }] }, 'owed: the next run runs it first');
});

t.test('an action reverted cleanly is owed no more: the host is back where it was', async (t) => {
  await reset();
  await run([line({ line: 'a', poison: 'a' })]);
  await t.rejects(readFile(journal, 'utf8'), { code: 'ENOENT' });
});

t.test('an undo that fails does not stop the others, and the error names it', async (t) => {
  await reset();
  const report = await run([line({ line: 'a', poison: 'a' }), line({ line: 'b', undoFails: true })]);
  t.equal(report.hosts[0]?.tasks[2]?.error?.message, "task 'deferred: reload' on here: the state holds a\nreverted, in this order: remove a; putting the previous state back failed: could not remove b: the undo broke");
  t.equal(await readFile(state, 'utf8'), 'base\nb\n', 'a was removed all the same');
});

t.test('a confirm-or-revert action still runs when a later task failed: its change is in place and must be confirmed or undone', async (t) => {
  await reset();
  const report = await run([line({ line: 'a', poison: 'a' }), line({ line: 'x', fail: true })]);
  t.same(report.hosts[0]?.tasks.map((x) => `${x.name}=${x.status}`), ['line a=changed', 'line x=failed', 'deferred: reload=failed']);
  t.equal(await readFile(state, 'utf8'), 'base\n');
});

// A deferred action run together with the command that needs it (ApplyContext.runDeferred(id, then)):
// one command on the host; what failed is named; the action is owed only when it did not run.
interface Then {
  readonly line: string;
  readonly thenFails?: boolean;
  readonly reloadFails?: boolean;
  /** The action, then the command, each in its own round trip: what a module did before runDeferred took a command. */
  readonly separate?: boolean;
}
const thenBackend: Backend<Then, boolean, null> = {
  probes: (p) => ({ has: { script: sh`grep -qxF ${p.line} ${state} 2>/dev/null && echo yes || echo no` } }),
  parse: (_p, out) => out['has']?.stdout.trim() === 'yes',
  plan: (_p, present) => (present ? [] : [{ summary: 'add', action: null }]),
  async apply(p, _changes, context) {
    context.defer('reload', p.reloadFails ? sh`echo reload-broke >&2; exit 4` : sh`echo reload >> ${log}`);
    await context.run(sh`echo ${p.line} >> ${state}`);
    const then = p.thenFails ? sh`echo then >> ${log}; echo start-broke >&2; exit 5` : sh`echo then >> ${log}`;
    if (!p.separate) return context.runDeferred('reload', then);
    await context.runDeferred('reload');
    await context.run(then);
  },
};
const withThen = defineModule<Then, Then>({
  name: 'test.then',
  schema: { type: 'object', required: ['line'], properties: { line: { type: 'string' }, thenFails: { type: 'boolean' }, reloadFails: { type: 'boolean' }, separate: { type: 'boolean' } }, additionalProperties: false },
  capabilities: { checkMode: true, diff: true, changes: ['command'], validates: 'none: a test module' },
  describe: (p) => `then ${p.line}`,
  resolve: (p) => p,
  backends: { linux: thenBackend, el9: thenBackend, nixos: thenBackend },
});
const owed = async () => (await readFile(journal, 'utf8').catch(() => '')).includes('"reload"');

t.test('a deferred action and the command that needs it run in one command, the action first, and nothing is owed after', async (t) => {
  await reset();
  const report = await run([withThen({ line: 'x' })]);
  t.same(report.hosts[0]?.tasks.map((x) => `${x.name}=${x.status}`), ['then x=changed']);
  t.equal(await readFile(log, 'utf8'), 'reload\nthen\n');
  t.notOk(await owed());
  await reset();
  const separate = await run([withThen({ line: 'x', separate: true })]);
  t.equal(await readFile(log, 'utf8'), 'reload\nthen\n');
  t.equal((separate.hosts[0]?.roundTrips ?? 0) - (report.hosts[0]?.roundTrips ?? 0), 1, 'one round trip fewer than the action and the command apart');
});

t.test('when the command after a deferred action fails, the error names that command, and the action ran and is not owed', async (t) => {
  await reset();
  const report = await run([withThen({ line: 'x', thenFails: true })]);
  const [task] = report.hosts[0]?.tasks ?? [];
  t.equal(task?.status, 'failed');
  t.match(task?.error?.message, /task 'then x' on here: command failed with exit code 5\n\s+command: echo then >> .*; echo start-broke >&2; exit 5\n\s+stderr: start-broke$/);
  t.equal(await readFile(log, 'utf8'), 'reload\nthen\n');
  t.notOk(await owed(), 'the reload ran: not owed');
});

t.test('when the deferred action fails, the error shows its command, the command after it does not run, and the action stays owed', async (t) => {
  await reset();
  const report = await run([withThen({ line: 'x', reloadFails: true })]);
  const [task] = report.hosts[0]?.tasks ?? [];
  t.equal(task?.status, 'failed');
  t.match(task?.error?.message, /task 'then x' on here: command failed with exit code 4\n\s+command: echo reload-broke >&2; exit 4\n\s+stderr: reload-broke$/);
  t.equal(await readFile(log, 'utf8'), '', 'the command after it never ran');
  t.ok(await owed(), 'owed to the next run');
  await rm(journal, { force: true });
});
