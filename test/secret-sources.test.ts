import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import { quote } from '../lib/shell/quote.ts';
import { hosts, type TestHost } from './hosts/index.ts';
import { runPlay, writePlaybook } from './support/play.ts';

/**
 * Every source of secrets, end to end: read on the control machine, written
 * to a file on an el9 test host, never printed. `pass` (with a throwaway GPG
 * key) and `age` are the real programs, from Debian; Debian bookworm ships no
 * `sops`, `op` or `vault`, so those are stand-in scripts, named as such,
 * that check the exact arguments hostform gives the real program.
 */
const VALUES = {
  env: 'hf-src-env-1a2b',
  file: 'hf-src-file-3c4d',
  pass: 'hf-src-pass-5e6f',
  age: 'hf-src-age-7a8b',
  sops: 'hf-src-sops-9c0d',
  op: 'hf-src-op-1e2f',
  vault: 'hf-src-vault-3a4b',
  command: 'hf-src-cmd-5c6d',
} as const;

let h: TestHost;
let dir: string;
let inventory: string;
const lib = new URL('../lib/index.ts', import.meta.url).pathname;

const run = (program: string, args: string[], input?: string) => execFileSync(program, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });

/** A script standing in for a program Debian does not ship: it answers exactly the arguments hostform must give the real one. */
const standIn = (program: string, args: readonly string[], value: string) => `#!/bin/sh
# Stand-in for ${program} (Debian bookworm does not ship it): it prints the secret only for the exact arguments the real ${program} takes.
if [ "$#" = ${args.length} ] && [ "$*" = ${quote(args.join(' '))} ]; then printf '%s\\n' ${quote(value)}; exit 0; fi
echo "${program} stand-in: unexpected arguments: $*" >&2; exit 2
`;

t.before(async () => {
  [h] = (await hosts.up(1, 'el9')) as [TestHost];
  dir = await mkdtemp(join(tmpdir(), 'hf-src-'));
  inventory = join(dir, 'inventory.yml');
  await writeFile(inventory, stringify({ hosts: { th: h.inventoryEntry() } }));

  // pass, with a throwaway GPG key that has no passphrase; a multi-line entry (pass's first line is the password).
  process.env['GNUPGHOME'] = join(dir, 'gnupg');
  process.env['PASSWORD_STORE_DIR'] = join(dir, 'store');
  await rm(process.env['GNUPGHOME'], { recursive: true, force: true });
  run('mkdir', ['-m', '0700', process.env['GNUPGHOME']]);
  run('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', 'hostform test <test@example.invalid>', 'default', 'default', 'never']);
  run('pass', ['init', 'test@example.invalid']);
  run('pass', ['insert', '--multiline', 'homeserver/restic'], `${VALUES.pass}\nuser: backup\n`);

  // age: a key pair, and a file encrypted to it.
  run('age-keygen', ['-o', join(dir, 'age-key.txt')]);
  const recipient = run('age-keygen', ['-y', join(dir, 'age-key.txt')]).trim();
  run('age', ['--encrypt', '--recipient', recipient, '--output', join(dir, 'token.age')], `${VALUES.age}\n`);

  // Stand-ins for sops, op and vault, first on PATH.
  const bin = join(dir, 'bin');
  run('mkdir', [bin]);
  await writeFile(join(bin, 'sops'), standIn('sops', ['--decrypt', '--extract', '["smtp"]["password"]', 'secrets.yaml'], VALUES.sops), { mode: 0o755 });
  await writeFile(join(bin, 'op'), standIn('op', ['read', 'op://Home/SMTP/password'], VALUES.op), { mode: 0o755 });
  await writeFile(join(bin, 'vault'), standIn('vault', ['kv', 'get', '-field=dns_token', 'secret/homeserver'], VALUES.vault), { mode: 0o755 });
  process.env['PATH'] = `${bin}:${process.env['PATH']}`;

  await writeFile(join(dir, 'grafana-admin'), `${VALUES.file}\n`, { mode: 0o600 });
  await writeFile(join(dir, 'open'), 'readable-by-all\n', { mode: 0o644 });
  await chmod(join(dir, 'open'), 0o644);
  process.env['HF_SRC_TOKEN'] = VALUES.env;
});
t.teardown(async () => {
  // The gpg-agent this test's gpg started for its throwaway home.
  try {
    run('gpgconf', ['--kill', 'gpg-agent']);
  } catch {
    // Already gone.
  }
  await hosts.down();
  await rm(dir, { recursive: true, force: true });
});

const play = async (tasks: string, ...flags: string[]) => {
  const file = await writePlaybook(dir, `sources${Math.random().toString(36).slice(2, 8)}`, `import { secret } from ${JSON.stringify(lib)};\nexport default playbook({ name: 'sources', hosts: 'all', tasks: [${tasks}] });`);
  const r = await runPlay([file, '-i', inventory, ...flags]);
  return { ...r, all: r.stdout + r.stderr };
};

const SOURCES: Record<keyof typeof VALUES, string> = {
  env: `secret.env('HF_SRC_TOKEN')`,
  file: `secret.file(${JSON.stringify('')} + process.env['HF_SRC_DIR'] + '/grafana-admin')`,
  pass: `secret.pass('homeserver/restic')`,
  age: `secret.age(process.env['HF_SRC_DIR'] + '/token.age', { identity: process.env['HF_SRC_DIR'] + '/age-key.txt' })`,
  sops: `secret.sops('secrets.yaml', '["smtp"]["password"]')`,
  op: `secret.op('op://Home/SMTP/password')`,
  vault: `secret.vault('secret/homeserver', 'dns_token')`,
  command: `secret.command(['printf', '%s', ${JSON.stringify(VALUES.command)}])`,
};

t.test('each source gives its value to a file on the host, printed nowhere', async (t) => {
  process.env['HF_SRC_DIR'] = dir;
  const tasks = Object.entries(SOURCES).map(([name, source]) => `file({ path: '/etc/hf-src-${name}', content: ${source} })`).join(',\n');
  for (const flags of [['--check', '--diff'], ['--diff', '--verbose'], ['--json']]) {
    const r = await play(tasks, ...flags);
    t.equal(r.code, flags.includes('--check') ? 2 : 0, `${flags.join(' ')}: ${r.stderr.split('\n').slice(-3).join(' ')}`);
    for (const [name, value] of Object.entries(VALUES)) t.notOk(r.all.includes(value), `${flags.join(' ')}: the ${name} value is not printed`);
  }
  for (const [name, value] of Object.entries(VALUES)) {
    t.equal((await h.exec(`cat /etc/hf-src-${name}`)).stdout, value, `${name}: the value, its last line break dropped (pass: the first line only)`);
  }
  t.equal((await h.exec(`stat -c %a ${Object.keys(VALUES).map((n) => `/etc/hf-src-${n}`).join(' ')}`)).stdout, '600\n'.repeat(8), 'each secret file is 0600');
});

t.test('a source that cannot be read stops the run before the host is touched, naming the source, with no fallback', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['an unset variable', `secret.env('HF_SRC_UNSET')`, /secret from environment variable HF_SRC_UNSET: the variable is not set/],
    ['a file others can read', `secret.file(process.env['HF_SRC_DIR'] + '/open')`, /secret from file \S+\/open: group or others have access to it \(mode 0644\): make it yours alone with chmod 600/],
    ['a missing pass entry', `secret.pass('homeserver/nope')`, /secret from pass show homeserver\/nope: pass exited with code 1: Error: homeserver\/nope is not in the password store\./],
    ['age with the wrong identity', `secret.age(process.env['HF_SRC_DIR'] + '/token.age', { identity: process.env['HF_SRC_DIR'] + '/grafana-admin' })`, /secret from age --decrypt --identity \S+ \S+token\.age: age exited with code 1: .*/],
    ['vault asked for another field', `secret.vault('secret/homeserver', 'other')`, /secret from vault kv get -field=other secret\/homeserver: vault exited with code 2: vault stand-in: unexpected arguments/],
  ];
  for (const [what, source, message] of cases) {
    const r = await play(`file({ path: '/etc/hf-src-failed', content: ${source} })`, '--json');
    t.equal(r.code, 64, `${what}: bad usage, nothing changed`);
    const [record] = (JSON.parse(r.stdout) as { errors: { kind: string; message: string }[] }).errors;
    t.equal(record?.kind, 'secret', what);
    t.match(record?.message, message, what);
  }
  t.equal((await h.exec('test -e /etc/hf-src-failed')).code, 1, 'no file was written');
});
