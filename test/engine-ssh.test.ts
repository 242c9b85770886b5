import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { runPlay, writePlaybook } from './support/play.ts';
import { startSshd, type SshdServer } from './support/sshd.ts';

// The engine end to end against a real OpenSSH server on 127.0.0.1: the CLI
// parses, loads a .ts playbook and a YAML inventory, connects, probes, plans,
// applies and reports; exit codes are what users script against.

let server: SshdServer;
t.before(async () => {
  server = await startSshd();
});
t.teardown(() => server?.stop());

async function inventory(name: string, hosts: readonly string[], extra = ''): Promise<string> {
  const path = join(server.dir, `${name}.yml`);
  const entries = hosts
    .map((h) => `  ${h}:\n    address: 127.0.0.1\n    port: ${server.port}\n    user: ${server.user}\n    identityFile: ${server.identityFile}\n    knownHostsFile: ${server.knownHostsFile}\n${extra}`)
    .join('');
  await writeFile(path, `hosts:\n${entries}`);
  return path;
}

t.test('a file task changes on the first run, not on the second, and check mode reports exactly a manual edit', async (t) => {
  const target = join(server.dir, 'motd');
  const inv = await inventory('one', ['web1']);
  const book = await writePlaybook(
    server.dir,
    'motd',
    `export default playbook({ name: 'motd', hosts: 'all', tasks: [
      file({ path: ${JSON.stringify(target)}, template: 'hello {{ host.name }}\\n', mode: '0640' }, { name: 'motd' }),
    ] });`,
  );

  const first = await runPlay([book, '-i', inv, '--json']);
  t.equal(first.code, 0, 'converged');
  const firstReport = JSON.parse(first.stdout);
  t.equal(firstReport.hosts[0].tasks[0].status, 'changed');
  t.equal(await readFile(target, 'utf8'), 'hello web1\n');
  t.equal((await stat(target)).mode & 0o777, 0o640);

  const second = await runPlay([book, '-i', inv, '--json']);
  t.equal(second.code, 0);
  const secondReport = JSON.parse(second.stdout);
  t.same(secondReport.hosts[0].tasks.map((x: { status: string }) => x.status), ['ok'], 'second run changes nothing');
  t.ok(secondReport.hosts[0].roundTrips <= 2, `a no-op run takes at most 2 round trips (facts + probes), took ${secondReport.hosts[0].roundTrips}`);

  await writeFile(target, 'hello web1\nedited by hand\n');
  const before = await stat(target);
  const check = await runPlay([book, '-i', inv, '--check']);
  t.equal(check.code, 2, 'check mode exits 2 on drift');
  t.match(check.stderr, /-edited by hand/, 'the diff shows the manual edit');
  t.match(check.stderr, /would change=1/);
  const after = await stat(target);
  t.equal(await readFile(target, 'utf8'), 'hello web1\nedited by hand\n', 'check mode left the bytes alone');
  t.equal(after.mtimeMs, before.mtimeMs, 'and the mtime');
});

t.test('check mode plans later tasks against what earlier tasks would do', async (t) => {
  const dir = join(server.dir, 'planned', 'deep');
  const inv = await inventory('planned', ['web1']);
  const book = await writePlaybook(
    server.dir,
    'planned',
    `export default playbook({ name: 'planned', hosts: 'all', tasks: [
      file({ path: ${JSON.stringify(dir)}, state: 'directory' }),
      file({ path: ${JSON.stringify(join(dir, 'a.conf'))}, content: 'a=1\\n' }),
      command({ argv: ['touch', ${JSON.stringify(join(dir, 'stamp'))}], creates: ${JSON.stringify(join(dir, 'a.conf'))} }),
    ] });`,
  );
  const check = await runPlay([book, '-i', inv, '--check', '--json']);
  t.equal(check.code, 2);
  const statuses = JSON.parse(check.stdout).hosts[0].tasks.map((x: { status: string }) => x.status);
  t.same(statuses, ['changed', 'changed', 'ok'], 'the file lands in the planned directory, and the guard sees the planned file');
});

t.test('handlers run once, at the end, and only when a task that notifies them changed', async (t) => {
  const marker = join(server.dir, 'handler-count');
  const inv = await inventory('handlers', ['web1']);
  const book = await writePlaybook(
    server.dir,
    'handlers',
    `export default playbook({ name: 'handlers', hosts: 'all',
      tasks: [
        file({ path: ${JSON.stringify(join(server.dir, 'h1'))}, content: '1' }, { notify: 'count' }),
        file({ path: ${JSON.stringify(join(server.dir, 'h2'))}, content: '2' }, { notify: ['count'] }),
      ],
      handlers: [command({ shell: 'echo ran >> ${marker}' }, { name: 'count' })],
    });`,
  );
  t.equal((await runPlay([book, '-i', inv])).code, 0);
  t.equal(await readFile(marker, 'utf8'), 'ran\n', 'two notifying changes, one handler run');
  t.equal((await runPlay([book, '-i', inv])).code, 0);
  t.equal(await readFile(marker, 'utf8'), 'ran\n', 'nothing changed, the handler did not run');
});

t.test('a task failing on one host stops that host only', async (t) => {
  const inv = await inventory('two', ['bad', 'good']);
  const book = await writePlaybook(
    server.dir,
    'isolation',
    `export default playbook({ name: 'isolation', hosts: 'all', tasks: [
      command({ argv: ['sh', '-c', 'echo broken >&2; exit 3'], creates: '/nonexistent/x' }, { name: 'fails on bad', when: (h) => h.name === 'bad' }),
      file({ path: ${JSON.stringify(join(server.dir, 'iso'))} + '-' + 'x', content: 'x' }),
    ] });`,
  );
  const result = await runPlay([book, '-i', inv, '--json']);
  t.equal(result.code, 1, 'exit 1 when a task failed');
  const [bad, good] = JSON.parse(result.stdout).hosts;
  t.equal(bad.status, 'failed');
  t.same(bad.tasks.map((x: { status: string }) => x.status), ['failed'], 'bad stopped at its failing task');
  t.match(bad.tasks[0].error?.message, /exit code 3[\s\S]*broken/);
  t.equal(good.status, 'changed', 'good ran all its tasks');
});

t.test('an unknown host key is refused by default', async (t) => {
  const empty = join(server.dir, 'empty_known_hosts');
  await writeFile(empty, '');
  const inv = join(server.dir, 'unknown.yml');
  await writeFile(inv, `hosts:\n  stranger:\n    address: 127.0.0.1\n    port: ${server.port}\n    user: ${server.user}\n    identityFile: ${server.identityFile}\n    knownHostsFile: ${empty}\n`);
  const book = await writePlaybook(server.dir, 'noop', `export default playbook({ name: 'noop', hosts: 'all', tasks: [command({ argv: ['true'], creates: '/' })] });`);
  const result = await runPlay([book, '-i', inv, '--json']);
  t.equal(result.code, 1);
  const host = JSON.parse(result.stdout).hosts[0];
  t.equal(host.status, 'unreachable');
  t.match(host.error?.message, /known_hosts/);
  t.equal(await readFile(empty, 'utf8'), '', 'nothing was recorded');
});

t.test('a bad inventory exits 64 and names the file and the path in it', async (t) => {
  const inv = join(server.dir, 'bad.yml');
  await writeFile(inv, 'hosts:\n  nas:\n    port: 70000\n');
  const book = await writePlaybook(server.dir, 'noop2', `export default playbook({ name: 'noop', hosts: 'all', tasks: [] });`);
  const result = await runPlay([book, '-i', inv]);
  t.equal(result.code, 64);
  t.match(result.stderr, /bad\.yml/);
  t.match(result.stderr, /hosts\.nas\.port/);
  t.match(result.stderr, /70000/);
});

t.test('a bad parameter fails before any host is touched, naming task, parameter and value', async (t) => {
  const target = join(server.dir, 'never');
  const inv = await inventory('params', ['web1']);
  const book = await writePlaybook(
    server.dir,
    'badparam',
    `export default playbook({ name: 'badparam', hosts: 'all', roles: [
      role('r', () => [file({ path: ${JSON.stringify(target)}, content: 'x' }, { name: 'first' }), file({ path: '/x', content: 'y', mode: '999' }, { name: 'second' })])(),
    ] });`,
  );
  const result = await runPlay([book, '-i', inv]);
  t.equal(result.code, 64);
  t.match(result.stderr, /\/badparam\.mts:4: play 'badparam', task 'r : second' \(file\): parameter 'mode' = "999": must be an octal mode/);
  await t.rejects(stat(target), 'the valid task before it did not run either');
});

t.test('a play whose probes add up to more than one command line may hold (128 KiB) runs in 2 round trips', async (t) => {
  const dir = join(server.dir, 'many');
  const inv = await inventory('many', ['web1']);
  const count = 150;
  const name = (i: number) => `file-${String(i).padStart(4, '0')}-${'x'.repeat(200)}`;
  // The files are put in place first, so the run is one probe batch (over 128 KiB) and no changes.
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < count; i++) await writeFile(join(dir, name(i)), `n${i}\n`);
  const book = await writePlaybook(
    server.dir,
    'many',
    `export default playbook({ name: 'many', hosts: 'all', tasks: [
      file({ path: ${JSON.stringify(dir)}, state: 'directory' }),
      ...Array.from({ length: ${count} }, (_, i) => file({ path: ${JSON.stringify(dir)} + '/file-' + String(i).padStart(4, '0') + '-' + 'x'.repeat(200), content: 'n' + i + '\\n' })),
    ] });`,
  );
  const run = await runPlay([book, '-i', inv, '--json']);
  t.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout);
  t.equal(report.hosts[0].tasks.filter((x: { status: string }) => x.status === 'ok').length, count + 1, 'every task in sync');
  t.equal(report.hosts[0].roundTrips, 2, 'facts and one probe batch');
});
