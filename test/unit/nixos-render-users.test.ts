import t from 'tap';
import { Skip } from '../../lib/module/skip.ts';
import { NixExpr, renderNix } from '../../lib/nixos/value.ts';
import { group, user } from '../../modules/index.ts';
import { renderTask } from '../support/nixos-samples.ts';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0example alice@laptop';

t.test('nixos users: a normal user with groups, shell, keys and a comment', async (t) => {
  t.same(renderTask(user({ name: 'alice', uid: 1001, groups: ['wheel', 'media'], shell: '/bin/bash', comment: 'Alice', authorizedKeys: [KEY] })), {
    users: {
      users: {
        alice: {
          isNormalUser: true,
          uid: 1001,
          extraGroups: ['wheel', 'media'],
          shell: NixExpr.pkgs('bashInteractive'),
          description: 'Alice',
          openssh: { authorizedKeys: { keys: [KEY] } },
        },
      },
    },
  });
});

t.test('nixos users: a system user without a group gets one of its own name, as useradd does', async (t) => {
  const fragment = renderTask(user({ name: 'backup', system: true, home: '/var/lib/backup', createHome: true, passwordHash: '!' }));
  t.same(fragment, {
    users: {
      users: { backup: { isSystemUser: true, group: 'backup', home: '/var/lib/backup', createHome: true, hashedPassword: '!' } },
      groups: { backup: {} },
    },
  });
  t.match(renderNix(fragment), /groups = \{\n      backup = \{ \};/);
  t.same(renderTask(user({ name: 'svc', system: true, group: 'daemons' })), { users: { users: { svc: { isSystemUser: true, group: 'daemons' } } } }, 'a given group is used as is');
});

t.test('nixos users: append renders like the exact set, because NixOS concatenates extraGroups', async (t) => {
  t.same(renderTask(user({ name: 'deploy', groups: ['media'], append: true })), renderTask(user({ name: 'deploy', groups: ['media'] })));
});

t.test('nixos users: el9 shell paths become the shells NixOS has, and zsh turns on its module', async (t) => {
  t.same(renderTask(user({ name: 'z', shell: '/usr/bin/zsh' })), { users: { users: { z: { isNormalUser: true, shell: NixExpr.pkgs('zsh') } } }, programs: { zsh: { enable: true } } });
  t.same(renderTask(user({ name: 'n', system: true, group: 'n', shell: '/sbin/nologin' })), { users: { users: { n: { isSystemUser: true, group: 'n', shell: '/run/current-system/sw/bin/nologin' } } } });
  t.same(renderTask(user({ name: 'p', shell: '/run/current-system/sw/bin/tmux' })), { users: { users: { p: { isNormalUser: true, shell: '/run/current-system/sw/bin/tmux' } } } }, 'a NixOS path is kept');
  t.throws(() => renderTask(user({ name: 'q', shell: '/usr/bin/tcsh' })), /shell \/usr\/bin\/tcsh does not exist on nixos .*\/run\/current-system\/sw\/bin\/tcsh/);
});

t.test('nixos users: a password hash is named by hashedPasswordFile, a root-only file outside the store, and never rendered', async (t) => {
  const hash = '$6$salt$0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ./0123456789abcdefghijklmnopqrstu';
  const fragment = renderTask(user({ name: 'alice', passwordHash: hash }));
  t.equal((fragment['users'] as { users: { alice: { hashedPasswordFile: string } } }).users.alice.hashedPasswordFile, '/var/lib/hostform/secrets/user-alice-password-hash');
  t.notMatch(renderNix(fragment), hash.slice(3, 20), 'the hash is not in the module');
  t.same(renderTask(user({ name: 'a', passwordHash: '!' })), { users: { users: { a: { isNormalUser: true, hashedPassword: '!' } } } }, 'the lock marker is no secret');
  t.throws(() => renderTask(user({ name: 'a', passwordHash: '' })), /passwordHash' is empty, .*'!' to lock the password explicitly/, 'an empty hash (no password at all) is refused here too');
});

t.test('nixos users: groups, with and without gid', async (t) => {
  t.same(renderTask(group({ name: 'media', gid: 1500 })), { users: { groups: { media: { gid: 1500 } } } });
  t.same(renderTask(group({ name: 'team', system: true })), { users: { groups: { team: {} } } });
});

t.test('nixos users: absent users and groups are skipped with what NixOS does instead', async (t) => {
  const skip = t.throws(() => renderTask(user({ name: 'old', state: 'absent', removeHome: true }))) as Skip;
  t.type(skip, Skip);
  t.match(skip.note, /on nixos a user is removed by no longer declaring it: .*users\.mutableUsers = false/);
  t.match((t.throws(() => renderTask(group({ name: 'old', state: 'absent' }))) as Skip).note, /on nixos a group is removed/);
});
