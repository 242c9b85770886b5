import t from 'tap';
import { PlannedState } from '../../lib/module/resources.ts';
import type { HostView, PlanContext } from '../../lib/module/types.ts';
import { describeKey, parseKey } from '../../modules/users/keys.ts';
import { resolveGroup, resolveUser, type UserParams } from '../../modules/users/params.ts';
import { GroupResource, UserResource } from '../../modules/users/resources.ts';
import { parseGroupProbe, parseUserProbe } from '../../modules/users/observe.ts';
import { planGroup, planUser } from '../../modules/users/plan.ts';

const host = { name: 'h', groups: ['all'], vars: {}, facts: {} } as unknown as HostView;
const context = (planned = new PlannedState()): PlanContext => ({ host, checkMode: true, planned });

// Captured from the user probe on a test host, after creating alice (group media, groups adm, one key).
const HASH = '$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/';
const LAPTOP = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF0v+Uv+m2vgc8leIeWWRI6V3x/MWRZEk9BjUIm4faky alice@laptop';
const PHONE = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ3Pq7Xz1vJYv1cHqZ3o6v9m0f9K1y8h6cQmS2b7x2Qe alice@phone';
const aliceProbe = (overrides: { ssh?: string; keysFile?: string; keys?: string; root?: boolean; shell?: string } = {}) =>
  [
    overrides.root === false ? 'user' : 'root',
    `passwd alice:x:1002:1002:Alice:/home/alice:${overrides.shell ?? '/bin/bash'}`,
    'primary media:x:1002:',
    'member adm',
    'home /home/alice',
    'home-exists',
    'known media:x:1002:',
    'known adm:x:4:alice',
    ...(overrides.root === false ? [] : [`shadow ${HASH}`]),
    `ssh-dir ${overrides.ssh ?? '700 alice directory'}`,
    `keys-file ${overrides.keysFile ?? '600 alice regular file'}`,
    `keys ${overrides.keys ?? Buffer.from(`${LAPTOP}\n`).toString('base64')}`,
    '',
  ].join('\n');
const noUserProbe = 'root\nhome /home/bob\nssh-dir absent\nkeys-file absent\n';

const alice = (extra: Partial<UserParams> = {}) => resolveUser({ name: 'alice', group: 'media', groups: ['adm'], shell: '/bin/bash', comment: 'Alice', passwordHash: HASH, authorizedKeys: [LAPTOP], ...extra });
const observe = (params: UserParams | ReturnType<typeof alice>, stdout: string) => {
  const wanted = 'append' in params || 'removeHome' in params ? (params as ReturnType<typeof alice>) : resolveUser(params as UserParams);
  return { wanted, observed: parseUserProbe(wanted, { user: { code: 0, stdout, stderr: '' } }) };
};
const plan = (params: UserParams | ReturnType<typeof alice>, stdout: string, planned = new PlannedState()) => {
  const { wanted, observed } = observe(params, stdout);
  return planUser(wanted, observed, context(planned));
};

t.test('user: the probe output parses into the account, its groups, the hash and the key lines', async (t) => {
  const { observed } = observe(alice(), aliceProbe());
  t.match(observed.account, { name: 'alice', uid: 1002, gid: 1002, primaryGroup: 'media', groups: ['adm'], shell: '/bin/bash', comment: 'Alice', home: '/home/alice' });
  t.equal(observed.passwordHash, HASH);
  t.same([...observed.knownGroups], [['media', 1002], ['adm', 4]]);
  t.same(observed.keys, { dir: { type: 'directory', mode: '0700', owner: 'alice' }, file: { type: 'regular file', mode: '0600', owner: 'alice' }, lines: [LAPTOP] });
});

t.test('user: an account that is as wanted, same hash and same keys, plans nothing', async (t) => {
  t.same(plan(alice(), aliceProbe()), []);
});

t.test('user: append with groups the user already has plans nothing', async (t) => {
  t.same(plan(alice({ groups: ['adm'], append: true }), aliceProbe()), []);
  t.same(plan(alice({ groups: [], append: true }), aliceProbe()), []);
});

t.test('user: the same keys in another order, with comments and blank lines in the file, plan nothing', async (t) => {
  const file = Buffer.from(`# managed\n\n${PHONE}\n${LAPTOP}\n`).toString('base64');
  t.same(plan(alice({ authorizedKeys: [LAPTOP, PHONE] }), aliceProbe({ keys: file })), []);
});

t.test('user: a shell changed by hand plans exactly one usermod for the shell', async (t) => {
  const changes = plan(alice(), aliceProbe({ shell: '/bin/sh' }));
  t.equal(changes.length, 1);
  t.equal(changes[0]?.summary, 'user alice: shell /bin/sh → /bin/bash');
  t.equal(changes[0]?.diff, '- shell /bin/sh\n+ shell /bin/bash');
  t.same(changes[0]?.action, { do: 'usermod', args: ['--shell', '/bin/bash'] });
});

t.test('user: a different password hash says "password changed" and shows neither hash', async (t) => {
  const other = '$6$othersalt$abcdefghijklmnopqrstuv';
  const changes = plan(alice({ passwordHash: other }), aliceProbe());
  t.equal(changes.length, 1);
  t.equal(changes[0]?.summary, 'user alice: password changed');
  const shown = JSON.stringify(changes.map((c) => [c.summary, c.diff]));
  t.notMatch(shown, /\$6\$/);
  t.same(changes[0]?.action, { do: 'password', hash: other });
});

t.test('user: groups is the exact set by default, and with append only adds', async (t) => {
  const exact = plan(alice({ groups: ['media'] }), aliceProbe());
  t.equal(exact[0]?.summary, 'user alice: groups +media -adm');
  t.same(exact[0]?.action, { do: 'usermod', args: ['--groups', 'media'] });
  t.equal(exact[0]?.diff, '- group member of adm\n+ group member of media');
  const append = plan(alice({ groups: ['media'], append: true }), aliceProbe());
  t.same(append[0]?.action, { do: 'usermod', args: ['--append', '--groups', 'media'] });
  t.equal(append[0]?.summary, 'user alice: groups +media');
});

t.test('user: a group that does not exist fails the plan and says which task to add', async (t) => {
  t.throws(() => plan(alice({ groups: ['adm', 'wheel'] }), aliceProbe()), /groups? wheel does not exist; add group\(\{ name: 'wheel' \}\) before this task/);
});

t.test('user: in check mode, a primary group an earlier task creates is planned, not reported missing', async (t) => {
  const planned = new PlannedState();
  planned.record([{ kind: GroupResource, id: 'video', value: { present: true } }]);
  const changes = plan({ name: 'bob', group: 'video', authorizedKeys: [LAPTOP] }, noUserProbe, planned);
  t.same(changes[0]?.action, { do: 'useradd', args: ['--gid', 'video', '--create-home'] });
  t.equal(changes[1]?.summary, 'user bob: authorized_keys +1 key');
});

t.test('user: a group named like the new user becomes its primary group, so useradd does not refuse', async (t) => {
  const probe = noUserProbe + 'known bob:x:1500:\n';
  t.same(plan({ name: 'bob' }, probe)[0]?.action, { do: 'useradd', args: ['--gid', 'bob', '--create-home'] });
});

t.test('user: a second task for a user an earlier task creates plans against that task, not the host', async (t) => {
  const planned = new PlannedState();
  planned.record([{ kind: UserResource, id: 'bob', value: { present: true, shell: '/bin/bash' } }]);
  t.same(plan({ name: 'bob', shell: '/bin/bash' }, noUserProbe, planned), []);
  const changes = plan({ name: 'bob', shell: '/bin/zsh' }, noUserProbe, planned);
  t.equal(changes[0]?.summary, 'user bob: shell /bin/bash → /bin/zsh');
});

t.test('user: key changes name each key by type, comment and fingerprint, never by its blob', async (t) => {
  const changes = plan(alice({ authorizedKeys: [PHONE] }), aliceProbe());
  t.equal(changes[0]?.summary, 'user alice: authorized_keys +1 -1 keys');
  t.match(changes[0]?.diff, /^- key ssh-ed25519 alice@laptop \(SHA256:EvV9stvsxJch\)\n\+ key ssh-ed25519 alice@phone \(SHA256:/);
  t.notMatch(changes[0]?.diff, /AAAAC3/);
  t.same(changes[0]?.action, { do: 'keys', home: '/home/alice', lines: [PHONE] });
});

t.test('user: wrong modes or owner on .ssh or authorized_keys are fixed even when the keys are right', async (t) => {
  const changes = plan(alice(), aliceProbe({ ssh: '755 root directory', keysFile: '644 alice regular file' }));
  t.equal(changes[0]?.summary, 'user alice: authorized_keys .ssh mode 0755 → 0700, .ssh owner root → alice, authorized_keys mode 0644 → 0600');
});

t.test('user: a symlinked authorized_keys is refused and its target is never read', async (t) => {
  t.throws(() => plan(alice(), aliceProbe({ keysFile: '777 alice symbolic link', keys: '' })), /authorized_keys is a symlink/);
});

t.test('user: a line in authorized_keys that is not a key is never shown', async (t) => {
  const file = Buffer.from(`${LAPTOP}\nroot:secret-looking-stuff\n`).toString('base64');
  const changes = plan(alice(), aliceProbe({ keys: file }));
  t.equal(changes[0]?.diff, '- key (a line that is not a key)');
});

t.test('user: key fingerprints match ssh-keygen -l', async (t) => {
  t.equal(parseKey(LAPTOP)?.fingerprint, 'SHA256:EvV9stvsxJch');
  t.equal(describeKey(`from="10.0.0.0/8",no-pty ${LAPTOP}`), 'ssh-ed25519 alice@laptop (SHA256:EvV9stvsxJch)');
});

t.test('user: changes without root fail with what to set', async (t) => {
  t.throws(() => plan(resolveUser({ name: 'alice', group: 'media', groups: ['adm'], shell: '/bin/zsh', comment: 'Alice', authorizedKeys: [LAPTOP] }), aliceProbe({ root: false })), /needs root: set become: true/);
});

t.test('user: a plaintext password is refused without being repeated in the message', async (t) => {
  const error = (() => {
    try {
      resolveUser({ name: 'alice', passwordHash: 'hunter2 hunter2' });
    } catch (e) {
      return (e as Error).message;
    }
    return 'did not throw';
  })();
  t.match(error, /not a crypt\(3\) hash/);
  t.notMatch(error, /hunter2/);
  t.doesNotThrow(() => resolveUser({ name: 'alice', passwordHash: '!' }));
  t.doesNotThrow(() => resolveUser({ name: 'alice', passwordHash: '$y$j9T$abc$def' }));
});

t.test('user: an empty password hash (an unset variable) is refused, saying how to lock the account explicitly', async (t) => {
  t.throws(() => resolveUser({ name: 'bob', passwordHash: '' }), /parameter 'passwordHash' is empty, which would let anyone log in as this user without a password .*'!' to lock the password explicitly/);
  for (const lock of ['!', '*', '!!', '!$6$salt$hash']) t.doesNotThrow(() => resolveUser({ name: 'bob', passwordHash: lock }), `${lock} locks the account`);
});

// Captured with `systemd-run --uid=alice sleep 1000` running.
const busyProbe = 'root\npasswd alice:x:1002:1002:Alice:/home/alice:/bin/bash\nprimary media:x:1002:\nmember adm\nhome /home/alice\nhome-exists\nprocess 698 sleep\n';

t.test('user: removing a user with running processes fails naming them and what to do', async (t) => {
  t.throws(() => plan({ name: 'alice', state: 'absent' }, busyProbe), /running processes \(698 sleep\): stop them \(loginctl terminate-user alice.*or set force: true/);
});

t.test('user: with force, removing a busy user plans stopping its processes first', async (t) => {
  const changes = plan({ name: 'alice', state: 'absent', force: true, removeHome: true }, busyProbe);
  t.equal(changes[0]?.summary, 'stop 1 process of alice (698 sleep), then remove user alice and its home /home/alice');
  t.equal(changes[0]?.diff, '- user alice (uid 1002)\n- home /home/alice');
  t.same(plan({ name: 'bob', state: 'absent' }, 'root\nhome /home/bob\n'), []);
});

// Captured from the group probe for group({ name: 'media', gid: 4 }) with alice in it.
const mediaProbe = 'root\ngroup media:x:1002:\nprimary-of alice\ngid-owner adm:x:4:alice\n';
const planGroupOn = (params: Parameters<typeof resolveGroup>[0], stdout: string, planned = new PlannedState()) => {
  const wanted = resolveGroup(params);
  return planGroup(wanted, parseGroupProbe(wanted, { group: { code: 0, stdout, stderr: '' } }), context(planned));
};

t.test('group: an existing group plans nothing; a missing one plans groupadd', async (t) => {
  t.same(planGroupOn({ name: 'media' }, mediaProbe), []);
  const [create] = planGroupOn({ name: 'video', gid: 1600, system: true }, 'root\n');
  t.same(create?.action, { do: 'groupadd', system: true, gid: 1600 });
  t.equal(create?.summary, 'create system group video (gid 1600)');
});

t.test('group: a gid another group holds fails the plan naming that group', async (t) => {
  t.throws(() => planGroupOn({ name: 'media', gid: 4 }, mediaProbe), /gid 4 already belongs to group adm/);
});

t.test('group: a changed gid plans groupmod with the old and new gid', async (t) => {
  const [change] = planGroupOn({ name: 'media', gid: 1700 }, 'root\ngroup media:x:1002:\n');
  t.equal(change?.summary, 'group media: gid 1002 → 1700');
  t.same(change?.action, { do: 'groupmod', gid: 1700 });
});

t.test("group: removing a user's primary group fails naming the user", async (t) => {
  t.throws(() => planGroupOn({ name: 'media', state: 'absent' }, 'root\ngroup media:x:1002:\nprimary-of alice\n'), /primary group of alice/);
  t.same(planGroupOn({ name: 'media', state: 'absent' }, 'root\n'), []);
});

t.test('group: a group an earlier task removes is planned as absent', async (t) => {
  const planned = new PlannedState();
  planned.record([{ kind: GroupResource, id: 'media', value: { present: false } }]);
  t.same(planGroupOn({ name: 'media', state: 'absent' }, 'root\ngroup media:x:1002:\n', planned), []);
  t.equal(planGroupOn({ name: 'media' }, 'root\ngroup media:x:1002:\n', planned)[0]?.summary, 'create group media');
});
