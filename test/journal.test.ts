import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import { stringify } from 'yaml';
import { hosts, type TestHost } from './hosts/index.ts';
import { runPlay, writePlaybook } from './support/play.ts';

// Issue 14: "When a task fails, the play's notified handlers and the engine's
// own deferred actions are dropped ... On the next run the files already
// match, so nothing is reloaded, ever." The pending-actions journal
// (/var/lib/hostform/pending) keeps them owed until they ran.

const JOURNAL = '/var/lib/hostform/pending';
const PLAY = new URL('../bin/play.js', import.meta.url).pathname;
const modules = new URL('../modules/index.ts', import.meta.url).pathname;

let h: TestHost;
let dir: string;
let inventory: string;
let asAdmin: string;

t.before(async () => {
  [h] = (await hosts.up(1, 'el9')) as [TestHost];
  dir = await mkdtemp(join(tmpdir(), 'hostform-journal-'));
  inventory = join(dir, 'inventory.yml');
  asAdmin = join(dir, 'admin.yml');
  await writeFile(inventory, stringify({ hosts: { box: h.inventoryEntry() } }));
  await writeFile(asAdmin, stringify({ hosts: { box: { ...h.inventoryEntry(), user: 'admin' } } }));
});
t.teardown(async () => {
  await hosts.down();
  await rm(dir, { recursive: true, force: true });
});

interface Report {
  exitCode: number;
  hosts: { status: string; roundTrips: number; error?: { kind: string; message: string }; tasks: { name: string; status: string; note?: string; handler: boolean; error?: { kind: string; shortMessage: string; message: string } }[] }[];
}
const report = (stdout: string) => JSON.parse(stdout) as Report;
const tasks = (r: Report) => r.hosts[0]?.tasks ?? [];
const book = (name: string, body: string) =>
  writePlaybook(dir, name, `import { unit, sshd } from ${JSON.stringify(modules)};\nexport default playbook({ name: '${name}', hosts: 'all', become: true, ${body} });`);
const play = async (path: string, ...args: string[]) => {
  const result = await runPlay([path, '-i', inventory, '--json', ...args]);
  return { ...result, report: report(result.stdout) };
};
const journal = async () => {
  const r = await h.exec(`cat ${JOURNAL}`);
  return r.code === 0 ? (JSON.parse(r.stdout) as { entries: { kind: string; name?: string; id?: string; play?: string }[] }).entries : undefined;
};

/** Wait until `condition` holds, up to `ms`; whether it did. */
async function until(condition: () => Promise<boolean>, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (await condition()) return true;
  return condition();
}

/** Run `path` in a play process of its own, SIGKILL it once `ready` holds on the host, and wait for its lock to go. */
async function killWhen(t: Test, path: string, ready: string): Promise<void> {
  const child = spawn(process.execPath, [PLAY, path, '-i', inventory], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  t.ok(await until(async () => (await h.exec(ready)).code === 0, 30_000), `the run got as far as: ${ready}`);
  child.kill('SIGKILL');
  await exited;
  t.ok(await until(async () => (await h.exec('flock -n /run/hostform/run.lock true')).code === 0, 10_000), 'its lock went with it');
}

t.test('a failed task still runs the handlers and the daemon-reload of the changes before it, and nothing stays owed', async (t) => {
  const path = await book(
    'failing',
    `handlers: [command({ argv: ['touch', '/run/hf-handler-ran'] }, { name: 'mark' })],
  tasks: [
    unit({ name: 'hf-journal.service', sections: { Service: { Type: 'oneshot', ExecStart: '/usr/bin/true' } } }),
    file({ path: '/etc/hf-journal.conf', content: 'one\\n' }, { notify: 'mark' }),
    command({ argv: ['false'] }, { name: 'fails' }),
  ]`,
  );
  const r = await play(path);
  t.equal(r.code, 1, 'the run fails');
  const byName = new Map(tasks(r.report).map((x) => [x.name, x.status]));
  t.equal(byName.get('fails'), 'failed');
  t.equal(byName.get('deferred: systemctl daemon-reload'), 'changed', 'the daemon-reload ran after the failure');
  t.equal(byName.get('mark'), 'changed', 'the handler ran after the failure');
  t.equal((await h.exec('test -e /run/hf-handler-ran')).code, 0, 'on the host too');
  t.equal((await h.exec('systemctl show -p NeedDaemonReload --value hf-journal.service')).stdout.trim(), 'no');
  t.equal(await journal(), undefined, 'the journal is gone: nothing is owed');
});

t.test('a run killed right after a change leaves its handler owed; check mode reports it, the next run runs it first and says so', async (t) => {
  await h.exec('rm -f /run/hf-owed-ran /etc/hf-owed.conf');
  const body = (text: string) => `handlers: [command({ argv: ['touch', '/run/hf-owed-ran'] }, { name: 'owed' })],
  tasks: [
    file({ path: '/etc/hf-owed.conf', content: '${text}\\n' }, { notify: 'owed' }),
    command({ argv: ['sleep', '60'], creates: '/nonexistent/hf' }, { name: 'slow' }),
  ]`;
  await killWhen(t, await book('killed', body('new')), 'grep -qx new /etc/hf-owed.conf');
  t.equal((await h.exec('test -e /run/hf-owed-ran')).code, 1, 'the handler never ran: the run was killed first');
  t.match(await journal(), [{ kind: 'handler', play: 'killed', name: 'owed', owedBy: { playbook: /killed\.mts$/ } }], 'the journal owes it');
  t.equal((await h.exec(`stat -c %a ${JOURNAL}`)).stdout.trim(), '600', 'root-only');

  // The same playbook, the sleep guarded away: the file already matches, so only the journal knows.
  const next = await book('killed', body('new').replace("creates: '/nonexistent/hf'", "creates: '/'"));
  const check = await play(next, '--check');
  t.equal(check.code, 2, 'check mode: drift');
  const owed = tasks(check.report).find((x) => x.name === 'owed');
  t.equal(owed?.status, 'changed');
  t.match(owed?.note, /^owed by an earlier run that did not finish: playbook .*killed\.mts, run .* started .* by /);
  t.equal((await h.exec('test -e /run/hf-owed-ran')).code, 1, 'check mode ran nothing');

  const apply = await play(next);
  t.equal(apply.code, 0, apply.stderr);
  t.same(
    tasks(apply.report).map((x) => [x.name, x.status]),
    [
      ['owed', 'changed'],
      ['file /etc/hf-owed.conf', 'ok'],
      ['slow', 'ok'],
    ],
    'the owed handler first, then the tasks, which find nothing to do',
  );
  t.equal((await h.exec('test -e /run/hf-owed-ran')).code, 0, 'the handler ran');
  t.equal(await journal(), undefined, 'and is owed no more');
  const again = await play(next);
  t.same(tasks(again.report).map((x) => x.status), ['ok', 'ok'], 'the run after that changes nothing');
});

t.test("a run killed between an sshd drop-in and its reload: the next run reloads sshd first, and the daemon listens where the file says", async (t) => {
  const path = await book(
    'sshd-killed',
    `tasks: [
    sshd.config({ options: { Port: [22, 2222] } }),
    command({ argv: ['sleep', '60'], creates: '/nonexistent/hf' }, { name: 'slow' }),
  ]`,
  );
  t.teardown(() => h.exec('rm -f /etc/ssh/sshd_config.d/00-hostform.conf && systemctl reload ssh'));
  await killWhen(t, path, 'grep -q 2222 /etc/ssh/sshd_config.d/00-hostform.conf');
  t.equal((await h.exec('ss -Htln sport = :2222 | grep -c .')).stdout.trim(), '0', 'sshd was not reloaded: it does not listen on 2222');
  const owed = await journal();
  t.equal(owed?.[0]?.kind, 'deferred');
  t.equal(owed?.[0]?.id, 'sshd reload');

  const next = await book('sshd-killed', `tasks: [sshd.config({ options: { Port: [22, 2222] } })]`);
  const apply = await play(next);
  t.equal(apply.code, 0, apply.stderr);
  t.same(
    tasks(apply.report).map((x) => [x.name, x.status]),
    [
      ['deferred: sshd reload', 'changed'],
      ['sshd drop-in /etc/ssh/sshd_config.d/00-hostform.conf', 'ok'],
    ],
  );
  t.equal((await h.exec('ss -Htln sport = :2222 | grep -c .')).stdout.trim() !== '0', true, 'sshd listens on 2222 now');
  t.equal(await journal(), undefined);
});

t.test('a handler owed by another playbook fails the host, saying which, runs nothing, and stays owed', async (t) => {
  const owedBy = { run: 'r-old', playbook: 'site.ts', started: '2026-01-02T03:04:05.000Z', user: 'me', control: 'laptop' };
  const text = JSON.stringify({ version: 1, entries: [{ kind: 'handler', play: 'site', name: 'restart nginx', owedBy }] });
  await h.exec(`mkdir -p -m 0700 /var/lib/hostform && printf %s '${text}' > ${JOURNAL}`);
  t.teardown(() => h.exec(`rm -f ${JOURNAL}`));
  const path = await book('other', `tasks: [file({ path: '/etc/hf-other.conf', content: 'x\\n' })]`);
  const r = await play(path);
  t.equal(r.code, 1);
  const [owed, task] = tasks(r.report);
  t.equal(owed?.status, 'failed');
  t.equal(owed?.error?.kind, 'pending');
  t.equal(owed?.error?.shortMessage, "restart nginx on box: handler 'restart nginx' of play 'site' is owed by an earlier run that did not finish, but no play of this run on box ('other') defines it, so it was not run and stays owed");
  t.equal(task?.status, 'changed', "the play's own tasks still ran");
  t.equal((await journal())?.length, 1, 'still owed');
});

t.test("the journal costs no round trip of its own: a run with a notify makes only its handler's", async (t) => {
  const tasksOf = (notify: boolean, text: string) =>
    `handlers: [command({ argv: ['true'] }, { name: 'h' })], tasks: [file({ path: '/etc/hf-rt.conf', content: '${text}\\n' }${notify ? ", { notify: 'h' }" : ''})]`;
  const plain = await play(await book('rt-plain', tasksOf(false, 'a')));
  const notifying = await play(await book('rt-notify', tasksOf(true, 'b')));
  t.equal(notifying.code, 0, notifying.stderr);
  t.same(tasks(notifying.report).map((x) => x.status), ['changed', 'changed']);
  t.equal(notifying.report.hosts[0]?.roundTrips, (plain.report.hosts[0]?.roundTrips ?? 0) + 1, 'the same round trips, plus one for the handler itself');
  t.equal(await journal(), undefined);
});

t.test('a task without become, as a user who can, writes root’s journal in a round trip of its own before its change', async (t) => {
  const path = await book('admin', `handlers: [command({ argv: ['true'] }, { name: 'h' })], tasks: [file({ path: '/tmp/hf-admin-note', content: 'x\\n' }, { notify: 'h', become: false })]`);
  const r = await runPlay([path, '-i', asAdmin, '--json']);
  t.equal(r.code, 0, r.stderr);
  t.same(tasks(report(r.stdout)).map((x) => x.status), ['changed', 'changed']);
  t.equal(await journal(), undefined, 'and clears it at the end');
});
