import { createHash, randomBytes } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { stringify } from 'yaml';
import { hosts, type TestHost } from './hosts/index.ts';
import { runPlay, writePlaybook } from './support/play.ts';

/**
 * The canary test of issue 12. One secret, read from a file of the user's
 * own (secret.file), goes everywhere a secret can go: a file's content, a
 * file's template, a user's password hash, a command's environment, its
 * guard's environment and its standard input, a dnf repository's password,
 * a Podman secret and the container that reads it. The playbook runs in
 * check mode and applied, with --diff, --verbose and --json, successfully
 * and failing on purpose (a command that echoes it, a role that throws it, a
 * Secret given to a parameter that does not take one). Then the canary must
 * be in none of the output, in no process's argv or environment on the host
 * while the runs went on (sampled from /proc the whole time), in no file
 * left on the host or on the control machine but where it was asked to go,
 * and exactly there, with the mode and owner asked for.
 */
const CANARY = `hfCANARY${randomBytes(6).toString('hex')}`;
const HASH = `$6$hfsalt$${CANARY}`;
const IMAGE = 'localhost/busybox:latest';
const repo = dirname(dirname(fileURLToPath(import.meta.url)));
const modules = join(repo, 'modules/index.ts');
const lib = join(repo, 'lib/index.ts');

let h: TestHost;
let dir: string;
let inventory: string;
/** The user's own secret source: the only file on the control machine that may hold the canary. */
let sources: string[];

const exec = async (cmd: string, input?: string) => {
  const r = await h.exec(cmd, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`${cmd}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
};

t.before(async () => {
  [h] = (await hosts.up(1, 'el9')) as [TestHost];
  dir = await mkdtemp(join(tmpdir(), 'hostform-canary-'));
  inventory = join(dir, 'inventory.yml');
  // admin with sudo: every script also goes through sudo's command line (and its log).
  await writeFile(inventory, stringify({ hosts: { th: { ...h.inventoryEntry(), user: 'admin' } } }));
  sources = [join(dir, 'canary'), join(dir, 'canary-hash')];
  await writeFile(sources[0] as string, `${CANARY}\n`, { mode: 0o600 });
  await writeFile(sources[1] as string, `${HASH}\n`, { mode: 0o600 });
  await exec(`podman image exists ${IMAGE}`);
  await exec('groupadd hfcanary');
});
t.teardown(async () => {
  await hosts.down();
  await rm(dir, { recursive: true, force: true });
});

let books = 0;
const book = (body: string) =>
  writePlaybook(
    dir,
    `canary${books++}`,
    `import { secret, unsafeSecretText } from ${JSON.stringify(lib)};
import { user, repo, timer, quadlet } from ${JSON.stringify(modules)};
const canary = secret.file(${JSON.stringify(sources[0])});
const hash = secret.file(${JSON.stringify(sources[1])});
${body}`,
  );

const EVERYWHERE = `export default playbook({ name: 'canary', hosts: 'all', become: true, tasks: [
  file({ path: '/etc/hf-canary', state: 'directory', mode: '0755' }),
  file({ path: '/etc/hf-canary/token', content: canary, owner: 'root', group: 'hfcanary', mode: '0640' }),
  file({ path: '/etc/hf-canary/app.ini', template: () => '[app]\\ntoken = ' + unsafeSecretText(canary) + '\\n' }),
  user({ name: 'hfcanary', group: 'hfcanary', passwordHash: hash }),
  command({
    shell: 'sleep 2; [ "$HF_TOKEN" = "$(cat /etc/hf-canary/token)" ] && [ "$(cat)" = "$HF_TOKEN" ] && echo ok > /etc/hf-canary/command-saw-it',
    env: { HF_TOKEN: canary, HF_ASKED: '1' }, stdin: canary, creates: '/etc/hf-canary/command-saw-it',
  }),
  command({ shell: 'echo ok > /etc/hf-canary/guarded', env: { HF_TOKEN: canary, HF_ASKED: '1' }, unless: { shell: '[ "$HF_TOKEN" = "$(cat /etc/hf-canary/token)" ] && test -e /etc/hf-canary/guarded' } }),
  repo({ name: 'hf-canary', baseurl: 'file:///srv/hf-canary', enabled: false, username: 'me', password: canary }),
  quadlet.secret({ name: 'hfcanary', value: canary }),
  quadlet.container({ name: 'hfcanary', image: ${JSON.stringify(IMAGE)}, pull: 'never', exec: ['sleep', '100000'], secret: ['hfcanary,type=env,target=HF_TOKEN'], environment: { HF_ASKED: '1' }, podmanArgs: ['--stop-timeout', '1'] }),
] });`;

const FAILING_COMMAND = `export default playbook({ name: 'canary-fails', hosts: 'all', become: true, tasks: [
  command({ shell: 'echo "leaking $HF_TOKEN" >&2; exit 3', env: { HF_TOKEN: canary, HF_ASKED: '1' } }),
] });`;

const THROWING_ROLE = `const leaky = role('leaky', () => { throw new Error('cannot use ' + unsafeSecretText(canary)); });
export default playbook({ name: 'canary-throws', hosts: 'all', become: true, roles: [leaky()] });`;

const SECRET_WHERE_NOT_TAKEN = `export default playbook({ name: 'canary-refused', hosts: 'all', become: true, tasks: [
  timer({ name: 'hf-canary', onCalendar: 'daily', service: { execStart: '/bin/true', environment: { TOKEN: canary as never } } }),
] });`;

/** Watches every process of the host for the canary in its argv or environment, from before the first run to after the last. */
const SAMPLER = `import os, sys, time
pat = (sys.argv[1] + sys.argv[2]).encode()
me = os.getpid()
scans = 0
seen = set()
def read(pid, what):
    try:
        with open('/proc/%s/%s' % (pid, what), 'rb') as f:
            return f.read()
    except OSError:
        return b''
while not os.path.exists('/root/hf-sampler.stop'):
    for pid in os.listdir('/proc'):
        if not pid.isdigit() or int(pid) == me:
            continue
        cmdline, environ = read(pid, 'cmdline'), read(pid, 'environ')
        for kind, data in (('cmdline', cmdline), ('environ', environ)):
            if pat in data:
                asked = b'HF_ASKED=1' in environ.split(b'\\0')
                line = '%s %s %s %s' % (kind, pid, 'asked' if asked else 'not-asked', cmdline.replace(b'\\0', b' ').replace(pat, b'<CANARY>').decode('utf8', 'replace'))
                if line not in seen:
                    seen.add(line)
                    print(line, flush=True)
    scans += 1
print('scans %d' % scans, flush=True)
`;

/** The CLI's output for one run; every run's output is searched for the canary. */
const outputs: { what: string; text: string }[] = [];
const play = async (what: string, body: string, ...flags: string[]) => {
  const r = await runPlay([await book(body), '-i', inventory, ...flags]);
  outputs.push({ what: `${what} ${flags.join(' ')}`, text: r.stdout + r.stderr });
  return r;
};

t.test('the canary goes everywhere a secret can go, and shows up nowhere else', async (t) => {
  await exec('rm -f /root/hf-sampler.stop', undefined);
  await exec('cat > /root/hf-sampler.py', SAMPLER);
  const half = Math.floor(CANARY.length / 2);
  await exec(`nohup python3 /root/hf-sampler.py ${CANARY.slice(0, half)} ${CANARY.slice(half)} >/root/hf-sampler.out 2>&1 </dev/null &`);

  const check = await play('check', EVERYWHERE, '--check', '--diff', '--verbose');
  t.equal(check.code, 2, 'check mode finds drift');
  t.match(check.stderr, /create \/etc\/hf-canary\/token \(secret\)/, 'the secret file is planned, shown as secret');
  t.match(check.stderr, /~ content \(secret: not shown\), new sha256 /);
  t.equal((await play('check', EVERYWHERE, '--check', '--json')).code, 2);

  const apply = await play('apply', EVERYWHERE, '--diff', '--verbose');
  t.equal(apply.code, 0, 'applied');
  if (apply.code !== 0) t.comment(apply.stderr);
  t.match(apply.stderr, /create Podman secret hfcanary \(secret: value not shown\)/);
  const again = await play('apply again', EVERYWHERE, '--json');
  t.equal(again.code, 0);
  const report = JSON.parse(again.stdout) as { hosts: { tasks: { name: string; status: string }[] }[] };
  t.same(
    report.hosts[0]?.tasks.filter((task) => task.status !== 'ok').map((task) => task.name),
    [],
    'a second run changes nothing: the Podman secret is compared by the hash in its label',
  );

  for (const flags of [['--json'], ['--diff', '--verbose']]) {
    const failed = await play('a command that echoes it', FAILING_COMMAND, ...flags);
    t.equal(failed.code, 1);
    t.match(failed.stdout + failed.stderr, /leaking \*\*\*/, 'its stderr is shown, masked');
    const thrown = await play('a role that throws it', THROWING_ROLE, ...flags);
    t.equal(thrown.code, 64);
    t.match(thrown.stdout + thrown.stderr, /could not build its tasks: Error: cannot use \*\*\*/);
    const refused = await play('a Secret where none is taken', SECRET_WHERE_NOT_TAKEN, ...flags);
    t.equal(refused.code, 64);
    t.match(refused.stdout + refused.stderr, /parameter 'service\.environment\.TOKEN' is a Secret \(file .*canary\), which it does not take/);
  }

  await exec('touch /root/hf-sampler.stop && while ! grep -q "^scans " /root/hf-sampler.out; do sleep 0.2; done');
  const sampled = (await exec('cat /root/hf-sampler.out; rm -f /root/hf-sampler.out /root/hf-sampler.py /root/hf-sampler.stop')).trim().split('\n');
  const scans = Number(sampled.find((l) => l.startsWith('scans '))?.slice('scans '.length));
  t.ok(scans > 100, `the sampler read every process's argv and environment ${scans} times during the runs`);
  const hits = sampled.filter((l) => !l.startsWith('scans '));
  t.same(hits.filter((l) => l.startsWith('cmdline ')), [], 'no process had the canary in its command line');
  t.same(hits.filter((l) => l.startsWith('environ ') && !l.includes(' asked ')), [], 'no process had it in its environment but those that asked for it');
  t.ok(
    hits.some((l) => l.startsWith('environ ') && l.includes('sleep 2')),
    'the sampler did see it where it was asked to go: the environment of the command given env (so it would have seen any other)',
  );
  t.ok(hits.some((l) => l.startsWith('environ ') && l.includes('sleep 100000')), "and in the container's, from the Podman secret");

  for (const { what, text } of outputs) t.notOk(text.includes(CANARY), `${what}: not in what play printed`);
});

t.test('it is exactly where it was asked to go, with the mode and owner asked for', async (t) => {
  t.equal(await exec('cat /etc/hf-canary/token'), CANARY);
  t.equal(await exec('stat -c "%a %U %G" /etc/hf-canary/token /etc/hf-canary/app.ini /etc/yum.repos.d/hf-canary.repo'), '640 root hfcanary\n600 root root\n600 root root\n');
  t.equal(await exec('cat /etc/hf-canary/app.ini'), `[app]\ntoken = ${CANARY}\n`);
  t.match(await exec('cat /etc/yum.repos.d/hf-canary.repo'), new RegExp(`^password=${CANARY}$`, 'm'));
  t.equal(await exec('getent shadow hfcanary | cut -d: -f2'), `${HASH}\n`);
  t.equal(await exec('cat /etc/hf-canary/command-saw-it /etc/hf-canary/guarded'), 'ok\nok\n', 'the command saw it in its environment and on its standard input');
  t.equal(await exec(`podman secret inspect --format '{{index .Spec.Labels "hostform.sha256"}}' hfcanary`), `${createHash('sha256').update(CANARY).digest('hex')}\n`);
  t.equal(await exec(`podman exec systemd-hfcanary sh -c 'echo "$HF_TOKEN"'`), `${CANARY}\n`, 'the container reads it from the Podman secret');
});

t.test('no file on the host holds it but those, and none on the control machine but its source', async (t) => {
  // /etc/shadow- is shadow-utils' own copy of the shadow file as it was before its last change.
  const expected = ['/etc/hf-canary/token', '/etc/hf-canary/app.ini', '/etc/shadow', '/etc/shadow-', '/etc/yum.repos.d/hf-canary.repo'];
  // podman's store keeps the secret (base64, in its file driver) and the running container's config: where it was asked to go.
  const found = (await exec(`grep -rlsF -f /dev/stdin /tmp /var/tmp /run /dev/shm /root /home /etc /srv /var/log /var/lib --exclude-dir=containers 2>/dev/null; true`, `${CANARY}\n`)).trim().split('\n').filter(Boolean);
  // crun's config.json of the running container holds its environment, the secret included: the container asked for it.
  t.same(found.filter((f) => !expected.includes(f) && !f.startsWith('/run/crun/')).sort(), [], 'no leftover temporary file, log line or stray copy on the host');

  const roots = [tmpdir(), '/var/tmp', '/dev/shm', join(homedir(), '.ssh'), repo];
  const skip = new Set([...sources, join(repo, 'node_modules'), join(repo, '.git'), join(repo, '.tap')]);
  const holders: string[] = [];
  const walk = (path: string): void => {
    if (skip.has(path)) return;
    let info;
    try {
      info = lstatSync(path);
    } catch {
      return;
    }
    if (info.isDirectory()) {
      let entries: string[] = [];
      try {
        entries = readdirSync(path);
      } catch {
        return;
      }
      for (const entry of entries) walk(join(path, entry));
    } else if (info.isFile() && info.size < 64 * 1024 * 1024) {
      try {
        if (readFileSync(path).includes(CANARY)) holders.push(path);
      } catch {
        // Another process's file that went away, or one root may not read (a FUSE mount): not ours.
      }
    }
  };
  for (const root of roots) walk(root);
  t.same(holders, [], `no file on the control machine under ${roots.join(', ')} holds it, but its source`);
});
