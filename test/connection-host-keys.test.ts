/**
 * Strict host-key checking and login failures, against a real OpenSSH
 * server: what is refused, what is recorded, and what the messages say.
 */
import { execFile, spawn } from 'node:child_process';
import { access, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { HostConnectionError } from '../lib/connection/error.ts';
import { openConnection } from '../lib/connection/open.ts';
import type { ConnectionSpec } from '../lib/connection/types.ts';
import { ConnectionError } from '../lib/errors.ts';
import { trusted } from '../lib/shell/quote.ts';
import { keygen, publicPart, startSshd } from './support/sshd.ts';

const run = promisify(execFile);
const server = await startSshd();
t.teardown(() => server.stop());
const hostKeyFingerprint = (await run('ssh-keygen', ['-lf', join(server.dir, 'host_ed25519.pub')])).stdout.split(' ')[1];

function spec(overrides: Partial<Extract<ConnectionSpec, { kind: 'ssh' }>>): ConnectionSpec {
  return {
    kind: 'ssh',
    hostName: 'fixture',
    address: server.address,
    port: server.port,
    user: server.user,
    identityFile: server.identityFile,
    knownHostsFile: server.knownHostsFile,
    ...overrides,
  };
}

/** The fixture's settings with no identity file: the agent and ~/.ssh/id_* are tried instead. */
function withoutIdentityFile(): ConnectionSpec {
  const { identityFile: _, ...rest } = spec({}) as Extract<ConnectionSpec, { kind: 'ssh' }>;
  return rest;
}

async function refusal(s: ConnectionSpec): Promise<HostConnectionError> {
  const error = await openConnection(s).then(
    async (conn) => {
      await conn.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  if (!(error instanceof HostConnectionError)) throw new Error(`expected a HostConnectionError, got ${String(error)}`);
  return error;
}

let fileCount = 0;
async function knownHosts(text: string): Promise<string> {
  const path = join(server.dir, `known_hosts.${++fileCount}`);
  await writeFile(path, text);
  return path;
}

t.test('host keys: a host in known_hosts connects and runs commands', async (t) => {
  const conn = await openConnection(spec({}));
  t.teardown(() => conn.close());
  t.equal((await conn.run(trusted('echo ok'))).stdout, 'ok\n');
});

t.test('host keys: an unknown host is refused by default with its fingerprint and the ways to trust it', async (t) => {
  const empty = await knownHosts('');
  const error = await refusal(spec({ knownHostsFile: empty }));
  t.type(error, ConnectionError);
  t.equal(error.details.reason, 'host-key-unknown');
  t.match(error.message, `cannot connect to fixture (${server.user}@127.0.0.1:${server.port})`);
  t.match(error.message, hostKeyFingerprint ?? 'no fingerprint from ssh-keygen', 'the same fingerprint ssh-keygen -l prints');
  t.match(error.message, `ssh-keyscan -p ${server.port} 127.0.0.1 >> ${empty}`);
  t.match(error.message, '--accept-new-host-keys');
  t.equal(await readFile(empty, 'utf8'), '', 'known_hosts untouched');
});

t.test('host keys: a missing known_hosts file means every host is unknown', async (t) => {
  const error = await refusal(spec({ knownHostsFile: join(server.dir, 'absent', 'known_hosts') }));
  t.equal(error.details.reason, 'host-key-unknown');
});

t.test('host keys: with acceptNewHostKeys an unknown host is trusted and recorded, then known', async (t) => {
  const path = await knownHosts('# my hosts\nother.example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPCWLzMJnpfh9IzjVhvQa0Cmjev0nAo1Yo1PS6L3gFI3');
  const conn = await openConnection(spec({ knownHostsFile: path, acceptNewHostKeys: true }));
  await conn.close();
  t.equal(
    await readFile(path, 'utf8'),
    `# my hosts\nother.example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPCWLzMJnpfh9IzjVhvQa0Cmjev0nAo1Yo1PS6L3gFI3\n${server.hostKeyLine}\n`,
    'the key is appended on a line of its own',
  );
  const again = await openConnection(spec({ knownHostsFile: path }));
  await again.close();
  t.pass('the recorded key is accepted without the option');
});

t.test('host keys: acceptNewHostKeys creates the known_hosts file and its directory', async (t) => {
  const path = join(server.dir, 'fresh-home', '.ssh', 'known_hosts');
  const conn = await openConnection(spec({ knownHostsFile: path, acceptNewHostKeys: true }));
  await conn.close();
  t.equal(await readFile(path, 'utf8'), `${server.hostKeyLine}\n`);
});

t.test('host keys: a changed key is refused loudly, even with acceptNewHostKeys, and nothing is recorded', async (t) => {
  const otherKey = join(server.dir, 'other_host_key');
  await keygen(otherKey);
  const line = `[127.0.0.1]:${server.port} ${publicPart(await readFile(`${otherKey}.pub`, 'utf8'))}\n`;
  const path = await knownHosts(line);
  const error = await refusal(spec({ knownHostsFile: path, acceptNewHostKeys: true }));
  t.equal(error.details.reason, 'host-key-changed');
  t.match(error.message, 'has CHANGED');
  t.match(error.message, 'man-in-the-middle');
  t.match(error.message, `ssh-keygen -R '[127.0.0.1]:${server.port}' -f ${path}`);
  t.match(error.message, 'line 1');
  t.equal(await readFile(path, 'utf8'), line, 'known_hosts untouched');
});

t.test('host keys: a key marked @revoked is refused', async (t) => {
  const path = await knownHosts(`${server.hostKeyLine}\n@revoked * ${server.hostPublicKey}\n`);
  const error = await refusal(spec({ knownHostsFile: path, acceptNewHostKeys: true }));
  t.equal(error.details.reason, 'host-key-revoked');
});

t.test('host keys: entries hashed by ssh-keygen -H match', async (t) => {
  const path = await knownHosts(`${server.hostKeyLine}\n`);
  await run('ssh-keygen', ['-H', '-f', path]);
  const hashed = await readFile(path, 'utf8');
  t.match(hashed, /^\|1\|[^|]+\|[^ ]+ ssh-ed25519 /, 'the file is hashed');
  t.notMatch(hashed, '127.0.0.1');
  const conn = await openConnection(spec({ knownHostsFile: path }));
  await conn.close();
  t.pass('connected');
});

t.test('host keys: a comma list with the [host]:port form matches', async (t) => {
  const path = await knownHosts(`somewhere.example.org,[127.0.0.1]:${server.port} ${server.hostPublicKey}\n`);
  const conn = await openConnection(spec({ knownHostsFile: path }));
  await conn.close();
  t.pass('connected');
});

t.test('host keys: the key for another port of the same address does not count', async (t) => {
  const path = await knownHosts(`127.0.0.1 ${server.hostPublicKey}\n`);
  const error = await refusal(spec({ knownHostsFile: path }));
  t.equal(error.details.reason, 'host-key-unknown');
});

t.test('login: a key the server does not accept gives a ConnectionError naming host and user', async (t) => {
  const stranger = join(server.dir, 'stranger_key');
  await keygen(stranger);
  const error = await refusal(spec({ identityFile: stranger }));
  t.type(error, ConnectionError);
  t.equal(error.details.reason, 'authentication');
  t.match(error.message, `fixture (${server.user}@127.0.0.1:${server.port})`);
  t.match(error.message, `key ${stranger}`);
});

t.test('login: an identity file that does not exist is reported before connecting', async (t) => {
  const error = await refusal(spec({ identityFile: join(server.dir, 'nope') }));
  t.equal(error.details.reason, 'authentication');
  t.match(error.message, 'does not exist');
});

t.test('login: a closed port is reported as refused', async (t) => {
  const error = await refusal(spec({ port: 1 }));
  t.equal(error.details.reason, 'refused');
  t.match(error.message, 'port 1');
});

/** Set an environment variable for one test; homedir() and the agent lookup read it at connect time. */
function withEnv(t: Test, name: string, value: string | undefined): void {
  const saved = process.env[name];
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
  t.teardown(() => {
    if (saved === undefined) delete process.env[name];
    else process.env[name] = saved;
  });
}

t.test('login: without an identity file, the key comes from ssh-agent (SSH_AUTH_SOCK)', async (t) => {
  const socket = join(server.dir, 'agent.sock');
  const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
  t.teardown(() => {
    agent.kill();
  });
  for (let i = 0; i < 100 && !(await access(socket).then(() => true, () => false)); i++) await sleep(20);
  await run('ssh-add', ['-q', server.identityFile], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
  withEnv(t, 'SSH_AUTH_SOCK', socket);
  withEnv(t, 'HOME', join(server.dir, 'empty-home'));
  const conn = await openConnection(withoutIdentityFile());
  t.teardown(() => conn.close());
  t.equal((await conn.run(trusted('echo ok'))).stdout, 'ok\n');
});

t.test('login: with neither identity file nor agent, ~/.ssh/id_ed25519 is used', async (t) => {
  const home = join(server.dir, 'home-with-key');
  await mkdir(join(home, '.ssh'), { recursive: true });
  await copyFile(server.identityFile, join(home, '.ssh', 'id_ed25519'));
  withEnv(t, 'SSH_AUTH_SOCK', undefined);
  withEnv(t, 'HOME', home);
  const conn = await openConnection(withoutIdentityFile());
  t.teardown(() => conn.close());
  t.equal((await conn.run(trusted('echo ok'))).stdout, 'ok\n');
});

t.test('login: with no key anywhere, the error says where keys are looked for', async (t) => {
  withEnv(t, 'SSH_AUTH_SOCK', undefined);
  withEnv(t, 'HOME', join(server.dir, 'empty-home'));
  const error = await refusal(withoutIdentityFile());
  t.equal(error.details.reason, 'authentication');
  t.match(error.message, 'no key to offer');
  t.match(error.message, 'ssh-agent');
});
