import t from 'tap';
import type { HostView, Task } from '../../lib/module/types.ts';
import { backup } from '../../roles/index.ts';

const host = { name: 'h', groups: ['all'], vars: {}, facts: { platform: 'el9' } } as unknown as HostView;

/** The file tasks the role plans: path, state and mode. */
const files = (options: Parameters<typeof backup>[0]) =>
  backup(options)
    .expand(host)
    .filter((s): s is Task => s.kind === 'task' && s.module.name === 'file')
    .map((s) => {
      const p = s.params as { path: string; state?: string; mode?: string };
      return `${p.path} ${p.state ?? 'file'} ${p.mode}`;
    })
    // The password file and the directories around it; the role's scripts and state directories are its own.
    .filter((line) => /^\/(etc|root|srv)\//.test(line));

t.test('backup: a password file outside /etc/restic leaves its directory alone (no chmod 0700 /etc)', async (t) => {
  t.same(files({ password: 'pw', passwordFile: '/etc/restic.pw' }), ['/etc/restic.pw file 0600', '/srv/backup/restic directory 0700']);
  t.same(files({ password: 'pw', passwordFile: '/root/secrets/restic' }), ['/root/secrets/restic file 0600', '/srv/backup/restic directory 0700']);
});

t.test('backup: the default password file gets the private directory the role owns, /etc/restic', async (t) => {
  t.same(files({ password: 'pw' }), ['/etc/restic directory 0700', '/etc/restic/password file 0600', '/srv/backup/restic directory 0700']);
  t.same(files({ password: 'pw', passwordFile: '/etc/restic/nas' }), ['/etc/restic directory 0700', '/etc/restic/nas file 0600', '/srv/backup/restic directory 0700']);
});
