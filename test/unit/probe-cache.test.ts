import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { ExecResult } from '../../lib/connection/types.ts';
import { ANY, PathResource, resourceKey, ResourceKind, type ResourceKey } from '../../lib/module/resources.ts';
import type { Backend, HostView, Task } from '../../lib/module/types.ts';
import type { ProbeRequest } from '../../lib/run/probe-batch.ts';
import { meets, parseResolvedPaths, ProbeCache, resolvePathsScript, type CachedTask } from '../../lib/run/probe-cache.ts';
import { trusted } from '../../lib/shell/quote.ts';
import { file, firewalld, service, unit, user } from '../../modules/index.ts';
import { firstRunWorkload } from '../../bench/workload.ts';

const host = { name: 'h', groups: ['all'], vars: {}, facts: { platform: 'el9', canBecome: true, uid: 0, user: 'root' } } as unknown as HostView;
const path = (p: string) => resourceKey(PathResource, p);
const Thing = new ResourceKind<never>('thing');

/**
 * Runs the path resolver on this machine (read-only: realpath). A user probe
 * answers with the home it read, as on a host where useradd's HOME is /home
 * (or `homes` says otherwise); every other probe prints "probed".
 */
async function runHere(requests: readonly ProbeRequest[], homes: Readonly<Record<string, string>> = {}, spools: Readonly<Record<string, string>> = {}): Promise<ExecResult[]> {
  return requests.map((r) => {
    if (r.script.text.includes('realpath -m')) return { code: 0, stdout: execFileSync('sh', ['-c', r.script.text], { encoding: 'utf8' }), stderr: '' };
    const user = r.script.text.includes('getent passwd') ? /^n=(\S+)$/m.exec(r.script.text)?.[1] : undefined;
    const spool = user && spools[user] ? `spool ${spools[user]}\n` : '';
    return { code: 0, stdout: user ? `home ${homes[user] ?? `/home/${user}`}\n${spool}` : 'probed', stderr: '' };
  });
}

/** A task of a made-up module that reads and writes what it is told. */
function fake(reads: readonly ResourceKey[] | undefined, writes: readonly ResourceKey[] = reads ?? [], extra: Partial<Backend<unknown, unknown, unknown>> = {}): CachedTask {
  const backend: Backend<unknown, unknown, unknown> = {
    probes: () => ({ state: { script: trusted('echo state') } }),
    parse: () => undefined,
    plan: () => [],
    apply: async () => undefined,
    ...(reads ? { reads: () => reads } : {}),
    writes: () => writes,
    ...extra,
  };
  return { backend, resolved: undefined, become: true, handler: false };
}

/** A module task as the engine prepares it for an el9 host. */
function prepared(task: Task<any>): CachedTask {
  return { backend: task.module.backends.el9 as Backend<unknown, unknown, unknown>, resolved: task.module.resolve(task.params, host), become: true, handler: false };
}

/**
 * A first run in which every task changes something, as the engine runs it:
 * a task without outputs is probed together with every later task without
 * them, then applied. Returns how many probe batches it took.
 */
async function firstRun(tasks: readonly CachedTask[]): Promise<number> {
  // What a user task saw of a user that does not exist yet; the other backends' writes do not look at it.
  const observed = (task: CachedTask) => ({ home: `/home/${(task.resolved as { name?: string }).name}` });
  const cache = new ProbeCache<CachedTask>();
  let batches = 0;
  for (const [i, task] of tasks.entries()) {
    if (!cache.has(task)) {
      batches += 1;
      await cache.fetch(tasks.slice(i).filter((u) => !cache.has(u)), host, runHere);
    }
    cache.applying([{ task, observed: observed(task) }]);
  }
  return batches;
}

t.test('keys meet on the same id, on ANY, and along a path; never across kinds or between siblings', async (t) => {
  t.ok(meets(path('/srv/app/a.conf'), path('/srv/app/a.conf')));
  t.ok(meets(path('/srv/app'), path('/srv/app/a.conf')), 'a directory and what lies below it');
  t.ok(meets(path('/srv/app/a.conf'), path('/srv/app/')), 'whatever the spelling');
  t.ok(meets(path('/'), path('/etc/motd')));
  t.ok(meets(path(ANY), path('/etc/motd')));
  t.notOk(meets(path('/srv/app/a.conf'), path('/srv/app/b.conf')), 'siblings');
  t.notOk(meets(path('/srv/app'), path('/srv/application')), 'a name that starts like another');
  t.ok(meets(resourceKey(Thing, 'x'), resourceKey(Thing)));
  t.notOk(meets(resourceKey(Thing, 'x'), resourceKey(Thing, 'x/y')), 'only nested kinds compare as paths');
  t.notOk(meets(resourceKey(Thing, '/etc'), path('/etc')), 'kinds apart');
});

t.test('a change drops the outputs of the tasks that read what it writes, and keeps the others', async (t) => {
  const cache = new ProbeCache<CachedTask>();
  const a = fake([path('/srv/app/a.conf')]);
  const b = fake([path('/srv/app/b.conf')]);
  const dir = fake([path('/srv/app')]);
  const other = fake([resourceKey(Thing, 'x')]);
  const undeclared = fake(undefined);
  await cache.fetch([a, b, dir, other, undeclared], host, runHere);
  t.same(cache.get(a), { state: { code: 0, stdout: 'probed', stderr: '' } }, 'each task gets its own outputs by key');
  cache.applying([{ task: a, observed: {} }]);
  t.notOk(cache.has(a), 'the task that changed');
  t.ok(cache.has(b), 'a sibling file');
  t.notOk(cache.has(dir), 'the directory holding it');
  t.ok(cache.has(other), 'another kind of resource');
  t.notOk(cache.has(undeclared), 'a task that does not say what it reads');
});

t.test('a backend that widens, one that does not say what it reads, and a handler each drop every output', async (t) => {
  const cases: [string, CachedTask][] = [
    ['widens', fake([path('/x')], [path('/x')], { widens: true })],
    ['no reads', fake(undefined, [path('/x')])],
    ['handler', { ...fake([path('/x')]), handler: true }],
  ];
  for (const [name, changer] of cases) {
    const cache = new ProbeCache<CachedTask>();
    const bystander = fake([resourceKey(Thing, 'y')]);
    await cache.fetch([changer, bystander], host, runHere);
    cache.applying([{ task: changer, observed: {} }]);
    t.notOk(cache.has(bystander), name);
  }
});

t.test('a task whose reads are undefined (a user command guard) is probed again after any change', async (t) => {
  const cache = new ProbeCache<CachedTask>();
  const guard = fake([]);
  const open = { ...guard, backend: { ...guard.backend!, reads: () => undefined } };
  const changer = fake([resourceKey(Thing, 'x')]);
  await cache.fetch([changer, open], host, runHere);
  cache.applying([{ task: changer, observed: {} }]);
  t.notOk(cache.has(open));
});

t.test('paths are compared where they lead: a write through a symbolic link reaches a reader of its target, and the other way round', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hf-probe-cache-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'real'));
  symlinkSync(join(dir, 'real'), join(dir, 'link'));
  const viaLink = () => fake([path(join(dir, 'link', 'f'))]);
  const direct = () => fake([path(join(dir, 'real', 'f'))]);

  let cache = new ProbeCache<CachedTask>();
  let [writer, reader] = [direct(), viaLink()];
  await cache.fetch([writer, reader], host, runHere);
  cache.applying([{ task: writer, observed: {} }]);
  t.notOk(cache.has(reader), 'the reader through the link sees the target changed');

  cache = new ProbeCache<CachedTask>();
  [writer, reader] = [viaLink(), direct()];
  const elsewhere = fake([path('/elsewhere/f')]);
  await cache.fetch([writer, reader, elsewhere], host, runHere);
  cache.applying([{ task: writer, observed: {} }]);
  t.notOk(cache.has(reader), 'a write through a link counts as written anywhere');
  t.notOk(cache.has(elsewhere));
});

t.test('a path the host cannot resolve counts as any path', async (t) => {
  t.same([...parseResolvedPaths(['/a', '/b'], { code: 0, stdout: `${Buffer.from('/a').toString('base64')}\n-\n`, stderr: '' })], [
    ['/a', '/a'],
    ['/b', undefined],
  ]);
  t.same(parseResolvedPaths(['/a'], { code: 1, stdout: '', stderr: 'boom' }).size, 0, 'a failed resolver resolves nothing');
  const cache = new ProbeCache<CachedTask>();
  const reader = fake([path('/srv/x')]);
  const writer = fake([path('/opt/y')]);
  await cache.fetch([reader, writer], host, async (requests) =>
    requests.map((r) => (r.script.text.includes('realpath -m') ? { code: 1, stdout: '', stderr: 'realpath: permission denied' } : { code: 0, stdout: '', stderr: '' })),
  );
  cache.applying([{ task: writer, observed: {} }]);
  t.notOk(cache.has(reader), 'unresolved, each may be the other');
});

t.test('the path resolver keeps odd names intact and follows links', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hf-probe-cache-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  symlinkSync('/etc', join(dir, "it's a link"));
  const paths = [join(dir, "it's a link", 'x y'), join(dir, 'missing', '..', 'z')];
  const result = { code: 0, stdout: execFileSync('sh', ['-c', resolvePathsScript(paths).text], { encoding: 'utf8' }), stderr: '' };
  t.same([...parseResolvedPaths(paths, result).values()], ['/etc/x y', join(dir, 'z')]);
  t.match(result.stdout, /^z [A-Za-z0-9+/=]+\n$/, 'every path resolved: in one line');
  const mixed = { code: 0, stdout: `z ${Buffer.from('/a\0/b\0').toString('base64')}\n`, stderr: '' };
  t.same([...parseResolvedPaths(['/a', '/b'], mixed).values()], ['/a', '/b']);
  t.same(parseResolvedPaths(['/a', '/b', '/c'], mixed).size, 0, 'a count that does not match resolves nothing');
  t.same(parseResolvedPaths(['/a', '/b'], { code: 0, stdout: `z ${Buffer.from('/a\0/b').toString('base64')}\n`, stderr: '' }).size, 0, 'nor does output cut short');
});

t.test('file: a task with an owner is probed again when that user changes, not when another file does', async (t) => {
  const cache = new ProbeCache<CachedTask>();
  const owned = prepared(file({ path: '/srv/app/a.conf', content: 'x', owner: 'alice' }));
  const other = prepared(file({ path: '/srv/other.conf', content: 'y' }));
  const alice = prepared(user({ name: 'alice', home: '/home/alice' }));
  const bob = prepared(user({ name: 'bob', home: '/home/bob' }));
  await cache.fetch([other, owned, alice, bob], host, runHere);
  cache.applying([{ task: other, observed: {} }]);
  t.ok(cache.has(owned) && cache.has(alice), 'another file changes neither');
  cache.applying([{ task: bob, observed: { home: '/home/bob', account: { groups: [] } } }]);
  t.ok(cache.has(owned), 'bob, an existing user, changes nothing alice owns');
  t.ok(cache.has(alice), 'nor alice');
  cache.applying([{ task: alice, observed: { home: '/home/alice', account: { groups: [] } } }]);
  t.notOk(cache.has(owned), 'alice changed');
});

t.test("users: creating a user writes its home and mail spool, as its probe read them; a home elsewhere than the guess counts as any path", async (t) => {
  const cache = new ProbeCache<CachedTask>();
  const conf = prepared(file({ path: '/srv/app/a.conf', content: 'x' }));
  const rc = prepared(file({ path: '/home/alice/.bashrc', content: 'x' }));
  const alice = prepared(user({ name: 'alice' }));
  await cache.fetch([alice, conf, rc], host, runHere);
  cache.applying([{ task: alice, observed: { home: '/home/alice' } }]);
  t.ok(cache.has(conf), 'a file elsewhere keeps its probe');
  t.notOk(cache.has(rc), 'a file in the new home is probed again');

  // With a mail spool (CREATE_MAIL_SPOOL=yes), wherever MAIL_DIR leads on this machine.
  const withSpool = new ProbeCache<CachedTask>();
  const mail = prepared(file({ path: '/var/spool/mail/alice', content: '' }));
  await withSpool.fetch([alice, mail], host, (requests) => runHere(requests, {}, { alice: '/var/spool/mail/alice' }));
  withSpool.applying([{ task: alice, observed: { home: '/home/alice', spool: '/var/spool/mail/alice' } }]);
  t.notOk(withSpool.has(mail), 'a file at its mail spool is probed again');

  const elsewhere = new ProbeCache<CachedTask>();
  await elsewhere.fetch([alice, conf], host, (requests) => runHere(requests, { alice: '/var/home/alice' }));
  t.ok(
    elsewhere.readsOf(alice)?.some((k) => k.kind === PathResource && k.id === '*'),
    'the home the probe read was not the one resolved: any path',
  );
  elsewhere.applying([{ task: alice, observed: { home: '/var/home/alice' } }]);
  t.notOk(elsewhere.has(conf), 'so creating it counts as writing any path');
});

t.test('firewalld and unit files are not probed again after a change of an unrelated file, but a service task is', async (t) => {
  const cache = new ProbeCache<CachedTask>();
  const conf = prepared(file({ path: '/srv/app/a.conf', content: 'x' }));
  const http = prepared(firewalld.service({ service: 'http' }));
  const unitFile = prepared(unit({ name: 'x.service', content: '[Service]\nExecStart=/usr/bin/true\n' }));
  const started = prepared(service({ name: 'x.service', state: 'started' }));
  await cache.fetch([conf, http, unitFile, started], host, runHere);
  cache.applying([{ task: conf, observed: {} }]);
  t.ok(cache.has(http));
  t.ok(cache.has(unitFile));
  t.notOk(cache.has(started), 'a unit’s state depends on more than its file');
  await cache.fetch([started], host, runHere);
  cache.applying([{ task: unitFile, observed: {} }]);
  t.ok(cache.has(http), 'a unit file is not the firewall');
  t.notOk(cache.has(started));
  const dropsAll = prepared(file({ path: '/etc/firewalld/zones/public.xml', content: '<zone/>' }));
  await cache.fetch([dropsAll], host, runHere);
  cache.applying([{ task: dropsAll, observed: {} }]);
  t.notOk(cache.has(http), 'a file under /etc/firewalld is the firewall’s');
});

t.test('a first run of the 17-task workload, every task changing, takes 4 probe batches instead of 17', async (t) => {
  const tasks = firstRunWorkload().map((step) => prepared(step as Task<any>));
  t.equal(tasks.length, 17);
  // The first batch; after the directory; after the first file (the service task reads anything); after the service task (it
  // widens). Not after the service's unit file: the timer's unit file task reads only the timer's own entries of the unit path.
  t.equal(await firstRun(tasks), 4);
});

t.test('the number of probe batches of a first run grows with the kinds of change, not with the number of tasks', async (t) => {
  const files = (n: number) => Array.from({ length: n }, (_, i) => prepared(file({ path: `/srv/app/f${i}.conf`, content: `${i}` })));
  const play = (n: number) => [prepared(file({ path: '/srv/app', state: 'directory' })), ...files(n)];
  t.equal(await firstRun(play(10)), 2);
  t.equal(await firstRun(play(100)), 2);
});
