import { execFileSync } from 'node:child_process';
import { hostname } from 'node:os';
import t from 'tap';
import { openConnection } from '../lib/connection/open.ts';
import { gatherFacts } from '../lib/facts/gather.ts';
import { startSshd } from './support/sshd.ts';

const server = await startSshd();
t.teardown(() => server.stop());

const here = (command: string, ...args: string[]): string => execFileSync(command, args, { encoding: 'utf8' }).trim();

for (const kind of ['ssh', 'local'] as const) {
  t.test(`facts: gathered over ${kind} in one round trip, matching the machine`, async (t) => {
    const conn = await openConnection(
      kind === 'ssh'
        ? {
            kind,
            hostName: 'fixture',
            address: server.address,
            port: server.port,
            user: server.user,
            identityFile: server.identityFile,
            knownHostsFile: server.knownHostsFile,
          }
        : { kind, hostName: 'control' },
    );
    t.teardown(() => conn.close());
    const facts = await gatherFacts(conn);
    t.equal(conn.roundTrips, 1);
    t.equal(facts.user, here('id', '-un'));
    t.equal(facts.uid, Number(here('id', '-u')));
    t.equal(facts.kernel, here('uname', '-r'));
    t.equal(facts.arch, here('uname', '-m'));
    t.equal(facts.hostname, hostname());
    t.equal(facts.canBecome, true, 'root can always become');
    t.ok(facts.osRelease['ID'], 'os-release was read');
    t.ok(['el9', 'nixos', 'linux'].includes(facts.platform));
  });
}

t.test('facts: the inventory platform overrides detection', async (t) => {
  const conn = await openConnection({ kind: 'local', hostName: 'control' });
  t.equal((await gatherFacts(conn, 'nixos')).platform, 'nixos');
});
