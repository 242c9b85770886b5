/**
 * The host-side walk that decides who may safely act on a path (root, or the
 * user who controls a directory on the way), run for real on this machine
 * against layouts built in a scratch directory. Needs root, like the code it
 * tests.
 */
import { spawnSync } from 'node:child_process';
import { chmod, chown, lchown, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { asControllerOf, PATH_GUARD } from '../../lib/shell/path-guard.ts';
import { sh } from '../../lib/shell/quote.ts';

const isRoot = process.getuid?.() === 0;

const NOBODY = 65534;
const base = await mkdtemp(join(tmpdir(), 'hostform-guard-'));
await chmod(base, 0o755);
t.teardown(() => rm(base, { recursive: true, force: true }));

function controller(path: string): { out: string; err: string; code: number } {
  const r = spawnSync('sh', ['-c', sh`${PATH_GUARD}\nhf_controller ${path}`.text], { encoding: 'utf8' });
  return { out: r.stdout.trim(), err: r.stderr.trim(), code: r.status ?? -1 };
}

async function dir(path: string, owner = 0, mode = 0o755): Promise<string> {
  await mkdir(path, { recursive: true });
  await chown(path, owner, owner);
  await chmod(path, mode);
  return path;
}

t.test('path guard: a path only root can change is root’s', { skip: !isRoot }, async (t) => {
  t.same(controller('/etc/systemd/system'), { out: '', err: '', code: 0 });
  t.same(controller(join(base, 'does', 'not', 'exist')), { out: '', err: '', code: 0 }, 'missing parts below a root directory are root’s to create');
});

t.test('path guard: the first directory a user owns decides, whatever lies beyond it', { skip: !isRoot }, async (t) => {
  const home = await dir(join(base, 'home', 'nobody'), NOBODY);
  t.equal(controller(home).out, `${NOBODY} ${NOBODY}`);
  t.equal(controller(join(home, '.config', 'systemd', 'user')).out, `${NOBODY} ${NOBODY}`, 'parts not created yet belong to the user too');
  // The attack: the user's directory replaced by a link into root's territory.
  await dir(join(base, 'etc-systemd'));
  await mkdir(join(home, '.config'));
  await lchown(join(home, '.config'), NOBODY, NOBODY);
  await symlink(join(base, 'etc-systemd'), join(home, '.config', 'user'));
  await lchown(join(home, '.config', 'user'), NOBODY, NOBODY);
  t.equal(controller(join(home, '.config', 'user')).out, `${NOBODY} ${NOBODY}`, 'a link the user planted is the user’s, even to a root directory');
});

t.test('path guard: links root made are followed to where they lead, relative ones and .. included', { skip: !isRoot }, async (t) => {
  const data = await dir(join(base, 'srv', 'data'), NOBODY);
  await symlink(data, join(base, 'to-data'));
  t.equal(controller(join(base, 'to-data', 'x')).out, `${NOBODY} ${NOBODY}`, 'an absolute link to a user’s directory');
  await symlink('srv/data', join(base, 'rel-data'));
  t.equal(controller(join(base, 'rel-data')).out, `${NOBODY} ${NOBODY}`, 'a relative link');
  await dir(join(base, 'srv', 'etc'));
  await symlink('../etc', join(base, 'srv', 'up'));
  t.equal(controller(join(base, 'srv', 'up')).out, '', 'a link through .. to a root directory');
  t.equal(controller(`${join(base, 'srv', 'data')}/../etc`).out, `${NOBODY} ${NOBODY}`, 'a .. after a user’s directory is still decided by that user (the kernel walks it too)');
});

t.test('path guard: a directory many may write is refused, unless sticky', { skip: !isRoot }, async (t) => {
  const open = await dir(join(base, 'open'), 0, 0o777);
  const refused = controller(join(open, 'x'));
  t.equal(refused.code, 1);
  t.match(refused.err, /refusing to work as root through .*\/open: users other than root may write to it \(mode 777\)/);
  const groupWritable = await dir(join(base, 'shared-group'), 0, 0o775);
  t.equal(controller(join(groupWritable, 'x')).code, 1, 'group-writable too');
});

t.test('path guard: in a sticky shared directory an entry belongs to its owner, and a missing one is refused', { skip: !isRoot }, async (t) => {
  const shared = await dir(join(base, 'tmp'), 0, 0o1777);
  await dir(join(shared, 'roots'));
  t.equal(controller(join(shared, 'roots', 'x')).out, '', 'root’s own entry');
  await symlink('/etc', join(shared, 'planted'));
  await lchown(join(shared, 'planted'), NOBODY, NOBODY);
  t.equal(controller(join(shared, 'planted', 'x')).out, `${NOBODY} ${NOBODY}`, 'a link another user planted is theirs');
  const missing = controller(join(shared, 'later', 'x'));
  t.equal(missing.code, 1);
  t.match(missing.err, /refusing to create .*\/later as root: .*\/tmp is shared by all users/);
});

t.test('path guard: a link loop ends with an error', { skip: !isRoot }, async (t) => {
  await symlink(join(base, 'loop-b'), join(base, 'loop-a'));
  await symlink(join(base, 'loop-a'), join(base, 'loop-b'));
  const r = controller(join(base, 'loop-a', 'x'));
  t.equal(r.code, 1);
  t.match(r.err, /too many levels of symbolic links/);
});

t.test('path guard: not running as root, nothing is checked (the kernel limits the script already)', { skip: !isRoot }, async (t) => {
  const open = await dir(join(base, 'open2'), 0, 0o777);
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'sh', '-c', sh`${PATH_GUARD}\nhf_controller ${join(open, 'x')}`.text], { encoding: 'utf8' });
  t.same([r.status, r.stdout, r.stderr], [0, '', '']);
});

t.test('path guard: asControllerOf runs the work as the user who controls the directory, stdin and arguments passed', { skip: !isRoot }, async (t) => {
  const home = await dir(join(base, 'home2'), NOBODY);
  const script = asControllerOf(home, sh`cat >"$1/from-stdin"; id -u`, [home]);
  const r = spawnSync('sh', ['-c', script.text], { encoding: 'utf8', input: 'hello' });
  t.equal(r.stdout.trim(), String(NOBODY));
  t.same(await readdir(home), ['from-stdin']);
  const asRoot = spawnSync('sh', ['-c', asControllerOf(base, sh`id -u`).text], { encoding: 'utf8' });
  t.equal(asRoot.stdout.trim(), '0', 'a root directory: the work runs as root');
  await writeFile(join(base, 'plain'), '');
  const refused = spawnSync('sh', ['-c', asControllerOf(join(base, 'open'), sh`touch "$1"`, [join(base, 'open', 'y')]).text], { encoding: 'utf8' });
  t.equal(refused.status, 1, 'a refusal stops the script before the work');
  t.same((await readdir(join(base, 'open'))).includes('y'), false);
});
