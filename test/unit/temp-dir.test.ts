import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import t from 'tap';
import { privateTempDir } from '../../lib/shell/temp-dir.ts';

const script = (body: string) => `${privateTempDir('d').text}\necho "$d"\n${body}`;
const run = (body: string) => spawnSync('sh', ['-c', script(body)], { encoding: 'utf8' });

t.test('temp dir: private while the script runs, gone when it ends normally or with an error', async (t) => {
  const ok = run('stat -c %a "$d"; touch "$d/x"');
  const [dir = '', mode] = ok.stdout.trim().split('\n');
  t.equal(mode, '700');
  t.notOk(existsSync(dir), 'removed after a normal end');
  const failed = run('touch "$d/secret"; exit 3');
  t.equal(failed.status, 3, 'the exit code is kept');
  t.notOk(existsSync(failed.stdout.trim()), 'removed after exit 3');
  const errexit = run('set -e; touch "$d/secret"; false; echo unreachable');
  t.notOk(existsSync(errexit.stdout.trim()), 'removed after set -e stops the script');
});

for (const signal of ['SIGHUP', 'SIGTERM', 'SIGINT'] as const) {
  t.test(`temp dir: removed when the script gets ${signal} (the control machine went away)`, async (t) => {
    const child = spawn('sh', ['-c', script('touch "$d/secret"; echo ready; sleep 30 >/dev/null & wait')], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: string[] = [];
    await new Promise<void>((resolve) => child.stdout.on('data', (c: Buffer) => { lines.push(...c.toString().trim().split('\n')); if (lines.includes('ready')) resolve(); }));
    const dir = lines[0] ?? '';
    t.ok(existsSync(`${dir}/secret`), 'the file exists while the script runs');
    child.kill(signal);
    await new Promise((resolve) => child.on('close', resolve));
    t.notOk(existsSync(dir), `removed after ${signal}`);
  });
}

t.test('temp dir: removed when the reader of its output is gone (SIGPIPE at the next write)', async (t) => {
  const dirFile = spawnSync('mktemp', { encoding: 'utf8' }).stdout.trim();
  spawnSync('sh', ['-c', `(${script(`echo "$d" > ${dirFile}; touch "$d/secret"; sleep 0.3; while :; do echo more; done`)}) | head -c 1 >/dev/null`]);
  const dir = spawnSync('cat', [dirFile], { encoding: 'utf8' }).stdout.trim();
  t.match(dir, /hostform\./);
  t.notOk(existsSync(dir), 'removed after SIGPIPE');
});

t.test('temp dir: root gets it under /run/hostform, not /tmp', { skip: process.getuid?.() !== 0 && 'needs root' }, async (t) => {
  const dir = run('true').stdout.trim();
  t.match(dir, /^\/run\/hostform\/hostform\.[A-Za-z0-9]{8}$/);
  t.equal((statSync('/run/hostform').mode & 0o777).toString(8), '700');
});

t.test('temp dir: a variable name that is not one is refused', async (t) => {
  t.throws(() => privateTempDir('a; rm -rf /'), /not a shell variable name/);
});
