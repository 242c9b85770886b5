import { generateKeyPairSync } from 'node:crypto';
import t from 'tap';
import {
  checkHostKey,
  entryMatchesHost,
  fingerprint,
  hashedHostField,
  knownHostsLine,
  knownHostsName,
  parseKnownHosts,
  preferredHostKeyAlgorithms,
} from '../../lib/connection/known-hosts.ts';

/** An ed25519 public key blob in SSH wire format, as a server presents it. */
function ed25519Blob(): Buffer {
  const der = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' });
  const raw = der.subarray(der.length - 32);
  const string = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return Buffer.concat([string(Buffer.from('ssh-ed25519')), string(raw)]);
}

const keyA = ed25519Blob();
const keyB = ed25519Blob();
const a64 = keyA.toString('base64');
const b64 = keyB.toString('base64');

t.test('known_hosts: port 22 is looked up by bare name, other ports as [host]:port, lower-cased', async (t) => {
  t.equal(knownHostsName('Web1.Example.org', 22), 'web1.example.org');
  t.equal(knownHostsName('10.0.0.5', 2222), '[10.0.0.5]:2222');
});

t.test('known_hosts: comments, blank lines, unknown markers and broken lines are skipped', async (t) => {
  const entries = parseKnownHosts(
    [
      '# a comment',
      '',
      `web1 ssh-ed25519 ${a64} comment words`,
      `@weird web2 ssh-ed25519 ${a64}`,
      'web3 ssh-ed25519',
      `web4 ssh-rsa ${a64}`,
      `web5 ssh-ed25519 not*base64`,
    ].join('\n'),
  );
  t.same(
    entries.map((e) => [e.line, e.hosts]),
    [[3, 'web1']],
    'only the valid line, with its line number; a key whose blob names another type is rejected',
  );
});

t.test('known_hosts: a plain entry, a comma list and a [host]:port entry all match', async (t) => {
  const [plain, list, bracket] = parseKnownHosts(
    [`web1 ssh-ed25519 ${a64}`, `db1,10.0.0.7 ssh-ed25519 ${a64}`, `[10.0.0.5]:2222 ssh-ed25519 ${a64}`].join('\n'),
  );
  if (!plain || !list || !bracket) throw new Error('three entries expected');
  t.ok(entryMatchesHost(plain, 'web1', 22));
  t.ok(entryMatchesHost(plain, 'WEB1', 22), 'host names compare case-insensitively');
  t.notOk(entryMatchesHost(plain, 'web1', 2222), 'a bare name only stands for port 22');
  t.ok(entryMatchesHost(list, '10.0.0.7', 22));
  t.ok(entryMatchesHost(bracket, '10.0.0.5', 2222));
  t.notOk(entryMatchesHost(bracket, '10.0.0.5', 22));
});

t.test('known_hosts: wildcards match and a negated pattern excludes the host', async (t) => {
  const [entry] = parseKnownHosts(`*.example.org,!bad.example.org,web? ssh-ed25519 ${a64}`);
  if (!entry) throw new Error('one entry expected');
  t.ok(entryMatchesHost(entry, 'a.example.org', 22));
  t.ok(entryMatchesHost(entry, 'web7', 22));
  t.notOk(entryMatchesHost(entry, 'bad.example.org', 22));
  t.notOk(entryMatchesHost(entry, 'example.org', 22));
});

t.test('known_hosts: a hashed entry matches its host and port and nothing else', async (t) => {
  const salt = Buffer.from('0123456789abcdefghij');
  const [hashed, hashedPort] = parseKnownHosts(
    [`${hashedHostField('web1', salt)} ssh-ed25519 ${a64}`, `${hashedHostField('[10.0.0.5]:2222', salt)} ssh-ed25519 ${a64}`].join(
      '\n',
    ),
  );
  if (!hashed || !hashedPort) throw new Error('two entries expected');
  t.ok(entryMatchesHost(hashed, 'web1', 22));
  t.notOk(entryMatchesHost(hashed, 'web2', 22));
  t.ok(entryMatchesHost(hashedPort, '10.0.0.5', 2222));
  t.notOk(entryMatchesHost(hashedPort, '10.0.0.5', 22));
});

t.test('known_hosts: the recorded key is known, another key is a changed key, no entry is unknown', async (t) => {
  const entries = parseKnownHosts(`web1 ssh-ed25519 ${a64}\n`);
  t.equal(checkHostKey(entries, 'web1', 22, keyA).kind, 'known');
  const changed = checkHostKey(entries, 'web1', 22, keyB);
  t.equal(changed.kind, 'changed');
  t.same(changed.kind === 'changed' ? changed.expected.map((e) => e.line) : [], [1], 'names the recorded entry');
  t.equal(checkHostKey(entries, 'web2', 22, keyA).kind, 'unknown');
});

t.test('known_hosts: a host with two recorded keys accepts either', async (t) => {
  const entries = parseKnownHosts(`web1 ssh-ed25519 ${a64}\nweb1 ssh-ed25519 ${b64}\n`);
  t.equal(checkHostKey(entries, 'web1', 22, keyB).kind, 'known');
});

t.test('known_hosts: a @revoked key is refused even when also listed as trusted', async (t) => {
  const entries = parseKnownHosts(`web1 ssh-ed25519 ${a64}\n@revoked * ssh-ed25519 ${a64}\n`);
  t.equal(checkHostKey(entries, 'web1', 22, keyA).kind, 'revoked');
});

t.test('known_hosts: @cert-authority lines neither trust nor distrust a plain key', async (t) => {
  const entries = parseKnownHosts(`@cert-authority *.example.org ssh-ed25519 ${b64}\n`);
  t.equal(checkHostKey(entries, 'a.example.org', 22, keyA).kind, 'unknown');
});

t.test('known_hosts: known key types are offered first, RSA as its SHA-2 signature names', async (t) => {
  const rsa = Buffer.concat([Buffer.from([0, 0, 0, 7]), Buffer.from('ssh-rsa'), Buffer.from([0, 0, 0, 1, 1])]);
  const entries = parseKnownHosts(`web1 ssh-rsa ${rsa.toString('base64')}\n`);
  const defaults = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  t.same(preferredHostKeyAlgorithms(entries, 'web1', 22, defaults), [
    'rsa-sha2-512',
    'rsa-sha2-256',
    'ssh-rsa',
    'ssh-ed25519',
    'ecdsa-sha2-nistp256',
  ]);
  t.same(preferredHostKeyAlgorithms(entries, 'web2', 22, defaults), defaults, 'an unknown host gets the defaults');
});

t.test('known_hosts: a recorded line reads back as a matching entry', async (t) => {
  const line = knownHostsLine('10.0.0.5', 2222, keyA);
  t.match(line, /^\[10\.0\.0\.5\]:2222 ssh-ed25519 /);
  t.equal(checkHostKey(parseKnownHosts(line), '10.0.0.5', 2222, keyA).kind, 'known');
});

t.test('known_hosts: fingerprints use the SHA256 base64 form ssh-keygen prints', async (t) => {
  t.match(fingerprint(keyA), /^SHA256:[A-Za-z0-9+/]{43}$/);
});
