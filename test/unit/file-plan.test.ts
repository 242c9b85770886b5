import t from 'tap';
import { PathResource, PlannedState } from '../../lib/module/resources.ts';
import type { HostView, PlanContext } from '../../lib/module/types.ts';
import { parsePathProbe, sha256 } from '../../modules/file/observe.ts';
import type { WantedPath } from '../../modules/file/params.ts';
import { file } from '../../modules/file/index.ts';
import { planPath } from '../../modules/file/plan.ts';
import { pathProbeOutput } from '../support/path-probe.ts';

const host = { name: 'h', groups: ['all'], vars: {}, facts: {} } as unknown as HostView;
const context = (planned = new PlannedState()): PlanContext => ({ host, checkMode: true, planned });
const want = (content: string, extra: Partial<Extract<WantedPath, { state: 'file' }>> = {}): WantedPath => ({
  state: 'file',
  path: '/etc/motd',
  content: Buffer.from(content),
  force: false,
  secret: false,
  ...extra,
});
// In the shape the probe prints on a host: parent line, type, stat line, an empty hash line, base64 content.
const onHost = (content: string, stat = '644 root root') =>
  parsePathProbe('/etc/motd', {
    code: 0,
    stderr: '',
    stdout: pathProbeOutput(content, stat),
  });
const absent = parsePathProbe('/etc/motd', { code: 0, stderr: '', stdout: 'parent\nabsent\n' });

t.test('file: same content and attributes plan nothing', async (t) => {
  t.same(planPath(want('hi\n', { mode: '0644', owner: 'root' }), onHost('hi\n'), context()), []);
});

t.test('file: different content plans one write with a unified diff', async (t) => {
  const [change, ...rest] = planPath(want('new\n'), onHost('old\n'), context());
  t.same(rest, []);
  t.equal(change?.action.do, 'write');
  t.match(change?.diff, /-old\n\+new/);
  t.match(change?.summary, /update \/etc\/motd/);
});

t.test('file: only a mode difference plans a chmod, shown as before and after', async (t) => {
  const [change] = planPath(want('x', { mode: '0600' }), onHost('x'), context());
  t.same(change?.action, { do: 'attributes', mode: '0600' });
  t.equal(change?.diff, '- mode 0644\n+ mode 0600');
});

t.test('file: a secret file never shows its content', async (t) => {
  const [change] = planPath(want('token=abc', { secret: true }), onHost('token=old'), context());
  t.notMatch(change?.diff, /abc|old/);
});

t.test('file: a secret file says that its content changes and the new content\'s sha256, never the bytes or their size', async (t) => {
  const [update] = planPath(want('token=CANARY-new', { secret: true }), onHost('token=CANARY-old'), context());
  t.equal(update?.action.do, 'write');
  t.equal(update?.summary, 'update /etc/motd (secret)');
  t.equal(update?.diff, `~ content (secret: not shown), new sha256 ${sha256(Buffer.from('token=CANARY-new'))}`);
  const [create] = planPath(want('token=CANARY-new', { secret: true }), absent, context());
  t.equal(create?.summary, 'create /etc/motd (secret)');
  t.notMatch(JSON.stringify([update, create]), /CANARY|16 bytes/);
});

t.test('file: removing a secret file does not show the content it had', async (t) => {
  const [change] = planPath({ state: 'absent', path: '/etc/motd', secret: true }, onHost('token=CANARY\n'), context());
  t.equal(change?.action.do, 'remove');
  t.equal(change?.summary, 'remove file /etc/motd (secret: content not shown)');
  t.equal(change?.diff, '- content (secret: not shown)');
  t.notMatch(JSON.stringify(change), /CANARY/);
});

t.test('file: content an earlier task writes as a secret stays hidden from later tasks on the path', async (t) => {
  const planned = new PlannedState();
  planned.record([{ kind: PathResource, id: '/etc/motd', value: { type: 'file', content: Buffer.from('token=CANARY\n'), secret: true } }]);
  const [removal] = planPath({ state: 'absent', path: '/etc/motd', secret: false }, absent, context(planned));
  const [rewrite] = planPath(want('public\n'), absent, context(planned));
  t.equal(removal?.action.do, 'remove');
  t.equal(rewrite?.action.do, 'write');
  t.notMatch(JSON.stringify([removal, rewrite]), /CANARY/);
});

t.test('file: a secret file without a mode is 0600; a given mode, or a file that is not secret, is left as asked', async (t) => {
  const resolve = (params: Parameters<typeof file>[0]) => file.definition.resolve(params, host) as WantedPath;
  t.match(resolve({ path: '/etc/token', content: 'x', secret: true }), { mode: '0600' });
  t.match(resolve({ path: '/etc/token', content: 'x', secret: true, mode: '0640' }), { mode: '0640' });
  t.notOk('mode' in resolve({ path: '/etc/motd', content: 'x' }));
  // An existing secret file left readable by all is tightened too.
  t.same(planPath(resolve({ path: '/etc/motd', content: 'x', secret: true }), onHost('x', '644 root root'), context())[0]?.action, { do: 'attributes', mode: '0600' });
});

t.test('file: a file an earlier task will write is what later tasks plan against', async (t) => {
  const planned = new PlannedState();
  planned.record([{ kind: PathResource, id: '/etc/motd', value: { type: 'file', content: Buffer.from('hi\n') } }]);
  t.same(planPath(want('hi\n'), absent, context(planned)), []);
});

t.test('file: a missing parent directory fails the plan unless an earlier task creates it', async (t) => {
  const noParent = parsePathProbe('/etc/motd', { code: 0, stderr: '', stdout: 'noparent\nabsent\n' });
  t.throws(() => planPath(want('x'), noParent, context()), /directory \/etc does not exist/);
  const planned = new PlannedState();
  planned.record([{ kind: PathResource, id: '/etc', value: { type: 'directory' } }]);
  t.equal(planPath(want('x'), noParent, context(planned)).length, 1);
});

t.test('file: a directory in the way is not replaced without force', async (t) => {
  const dir = parsePathProbe('/etc/motd', { code: 0, stderr: '', stdout: 'parent\ndirectory\n755 root root\n' });
  t.throws(() => planPath(want('x'), dir, context()), /set force: true/);
  t.equal(planPath(want('x', { force: true }), dir, context())[0]?.action.do, 'write');
});

t.test('file: absent removes what is there and shows the lost content', async (t) => {
  const [change] = planPath({ state: 'absent', path: '/etc/motd', secret: false }, onHost('bye\n'), context());
  t.equal(change?.action.do, 'remove');
  t.match(change?.diff, /-bye/);
  t.same(planPath({ state: 'absent', path: '/etc/motd', secret: false }, absent, context()), []);
});

t.test('file: symlinks are compared by target', async (t) => {
  const link = parsePathProbe('/etc/motd', { code: 0, stderr: '', stdout: 'parent\nlink\n777 root root\n/etc/issue\n' });
  t.same(planPath({ state: 'link', path: '/etc/motd', target: '/etc/issue', force: false }, link, context()), []);
  t.equal(planPath({ state: 'link', path: '/etc/motd', target: '/etc/other', force: false }, link, context())[0]?.diff, '- link target /etc/issue\n+ link target /etc/other');
});

t.test('file: an unreadable file asks for become', async (t) => {
  t.throws(() => parsePathProbe('/root/x', { code: 1, stdout: 'parent\nfile\n', stderr: 'sha256sum: Permission denied' }), /set become: true/);
});

t.test('file probe: a small file comes back whole and is hashed here; a large one as its hash; a file that changed while read fails', async (t) => {
  const small = onHost('hi\n');
  t.equal(small.type === 'file' && small.sha256, sha256(Buffer.from('hi\n')));
  const hash = 'a'.repeat(64);
  const large = parsePathProbe('/var/big', { code: 0, stderr: '', stdout: `parent\nfile\n644 root root 70000\n${hash}\n\n` });
  t.same(large.type === 'file' && [large.sha256, large.content], [hash, undefined], 'no bytes, no diff: the hash compares');
  const empty = parsePathProbe('/etc/empty', { code: 0, stderr: '', stdout: 'parent\nfile\n644 root root 0\n\n\n' });
  t.same(empty.type === 'file' && [empty.sha256, empty.content?.length], [sha256(Buffer.alloc(0)), 0]);
  t.throws(() => parsePathProbe('/etc/motd', { code: 0, stderr: '', stdout: `parent\nfile\n644 root root 9\n\n${Buffer.from('hi\n').toString('base64')}\n` }), /read 3 bytes of \/etc\/motd, whose size is 9: it changed while read/);
});
