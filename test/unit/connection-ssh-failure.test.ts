import t from 'tap';
import { describeConnectFailure, type ConnectAttempt } from '../../lib/connection/ssh-failure.ts';

const attempt: ConnectAttempt = {
  hostName: 'web1',
  address: '10.0.0.5',
  port: 2222,
  user: 'deploy',
  timeoutMs: 20000,
  credentials: ['key /home/me/.ssh/id_ed25519'],
};

function ssh2Error(message: string, fields: { code?: string; level?: string }): Error {
  return Object.assign(new Error(message), fields);
}

t.test('connect failure: an authentication failure names host, user and the keys offered', async (t) => {
  const failure = describeConnectFailure(
    ssh2Error('All configured authentication methods failed', { level: 'client-authentication' }),
    attempt,
  );
  t.equal(failure.reason, 'authentication');
  t.match(failure.message, 'web1 (deploy@10.0.0.5:2222)');
  t.match(failure.message, 'key /home/me/.ssh/id_ed25519');
  t.match(failure.message, 'authorized_keys');
});

t.test('connect failure: refused, timed out, unresolved and unreachable each say what to check', async (t) => {
  const cases: [Error, string, string][] = [
    [ssh2Error('connect ECONNREFUSED', { code: 'ECONNREFUSED', level: 'client-socket' }), 'refused', 'port 2222'],
    [ssh2Error('Timed out while waiting for handshake', { level: 'client-timeout' }), 'timeout', '20000 ms'],
    [ssh2Error('getaddrinfo ENOTFOUND nowhere', { code: 'ENOTFOUND', level: 'client-socket' }), 'unresolved', 'DNS'],
    [ssh2Error('connect EHOSTUNREACH', { code: 'EHOSTUNREACH' }), 'unreachable', 'network'],
  ];
  for (const [error, reason, hint] of cases) {
    const failure = describeConnectFailure(error, attempt);
    t.equal(failure.reason, reason, error.message);
    t.match(failure.message, hint);
    t.match(failure.message, /\n {2}try: /);
  }
});

t.test('connect failure: anything else keeps the library message and suggests ssh by hand', async (t) => {
  const failure = describeConnectFailure(new Error('something odd'), attempt);
  t.equal(failure.reason, 'other');
  t.match(failure.message, 'something odd');
  t.match(failure.message, 'ssh -p 2222 deploy@10.0.0.5');
});
