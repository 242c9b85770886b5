import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

// The package as a user gets it (issue 9): `npm pack` (which builds dist/), installed into a
// scratch project outside the repository, then used there the three ways a user does: `npx play`
// on a playbook with a role, a plain .mjs under node, and the project's own `tsc --noEmit` with the
// settings `tsc --init` writes, which must report the user's mistakes and nothing of hostform's.

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const npmMissing = spawnSync('npm', ['--version']).error !== undefined;

interface PackResult {
  readonly filename: string;
  readonly integrity: string;
  readonly files: readonly { readonly path: string }[];
}

interface LockEntry {
  readonly version?: string;
  readonly resolved?: string;
  readonly dev?: boolean;
  readonly [key: string]: unknown;
}

/**
 * The scratch project's lockfile: hostform from the tarball, and every package the repository's own
 * lockfile installs for hostform's dependencies (its entries not marked dev), at the same versions and
 * places. With a `resolved` address and an integrity for each, `npm ci` needs no registry metadata and
 * takes the tarballs from npm's cache, where the repository's own install left them; only a tarball
 * missing from the cache is downloaded. A dependency the package needs but does not declare is not
 * in this tree, so the scratch project fails to load it.
 */
function scratchLock(tarball: string, integrity: string, manifest: Record<string, unknown>): unknown {
  const repoLock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const packages: Record<string, unknown> = {
    '': { name: 'scratch', dependencies: { hostform: `file:${tarball}` } },
    'node_modules/hostform': {
      version: manifest['version'],
      resolved: `file:${tarball}`,
      integrity,
      dependencies: manifest['dependencies'],
      peerDependencies: manifest['peerDependencies'],
      peerDependenciesMeta: manifest['peerDependenciesMeta'],
      bin: manifest['bin'],
      engines: manifest['engines'],
    },
  };
  for (const [path, entry] of Object.entries(repoLock.packages)) {
    if (path === '' || entry.dev === true) continue;
    const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const resolved = entry.resolved ?? `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${entry.version}.tgz`;
    packages[path] = { ...entry, resolved };
  }
  return { name: 'scratch', lockfileVersion: 3, requires: true, packages };
}

/** Runs a command to its end; its output and exit code, for the assertions to show. */
function run(command: string, args: readonly string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', CI: 'true' } });
}

const said = (r: SpawnSyncReturns<string>) => `exit ${r.status}\n${r.stdout}\n${r.stderr}`;

t.test('the packed hostform works in a project of its own', { skip: npmMissing ? 'npm is not installed: nothing to pack or install with' : false }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hostform-package-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const packDir = join(dir, 'pack');
  const scratch = join(dir, 'scratch');
  mkdirSync(packDir);
  mkdirSync(join(scratch, 'roles'), { recursive: true });

  const packed = run('npm', ['pack', '--json', '--pack-destination', packDir], repo);
  if (packed.status !== 0) throw new Error(`npm pack failed: ${said(packed)}`);
  const [pack] = JSON.parse(packed.stdout) as [PackResult];
  const tarball = join(packDir, pack.filename);
  const files = pack.files.map((f) => f.path);

  t.test('the tarball holds the compiled package and no tests, benchmarks or TypeScript sources', async (t) => {
    t.same(files.filter((f) => /^(test|bench)\//.test(f)), [], 'no test/ or bench/');
    t.same(files.filter((f) => /\.(ts|mts|cts)$/.test(f) && !/\.d\.ts$/.test(f)), [], 'no .ts but .d.ts');
    for (const f of ['bin/play.js', 'bin/hostform.js', 'dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/modules/index.d.ts', 'dist/roles/index.d.ts', 'dist/modules/selinux/read-store.py', 'dist/schema/inventory.json', 'schema/inventory.json']) {
      t.ok(files.includes(f), `${f} is in the tarball`);
    }
  });

  const manifest = JSON.parse(execFileSync('tar', ['xzOf', tarball, 'package/package.json'], { encoding: 'utf8' })) as Record<string, unknown>;
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module', dependencies: { hostform: `file:${tarball}` } }, null, 2));
  writeFileSync(join(scratch, 'package-lock.json'), JSON.stringify(scratchLock(tarball, pack.integrity, manifest), null, 2));
  // Install scripts are skipped: hostform has none, and those of its dependencies (ssh2's optional native
  // crypto, esbuild's binary check) only make the install slower.
  const installed = run('npm', ['ci', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund'], scratch);
  if (installed.status !== 0) throw new Error(`npm ci of the tarball failed: ${said(installed)}`);

  writeFileSync(join(scratch, 'inventory.yml'), 'hosts:\n  laptop:\n    connection: local\n');
  writeFileSync(
    join(scratch, 'roles', 'motd.ts'),
    `import { role } from 'hostform';
import { file } from 'hostform/modules';

export const motd = role('motd', (options: { text: string }) => [
  file({ path: ${JSON.stringify(join(scratch, 'motd'))}, content: options.text, mode: '0644' }),
]);
`,
  );
  writeFileSync(
    join(scratch, 'site.ts'),
    `import { playbook } from 'hostform';
import { motd } from './roles/motd.js';

export default playbook({ name: 'site', hosts: 'all', roles: [motd({ text: 'Welcome\\n' })] });
`,
  );

  t.test('npx play runs a TypeScript playbook with a role from the installed package', async (t) => {
    const r = run('npx', ['--no', 'play', 'site.ts', '-i', 'inventory.yml', '--check'], scratch);
    t.equal(r.status, 2, `drift found, nothing failed: ${said(r)}`);
    t.match(r.stderr, /laptop: motd : file \S+\/scratch\/motd \(would change\)/);
    t.match(r.stderr, /\+Welcome/);
  });

  t.test('a plain .mjs imports hostform and hostform/modules under node', async (t) => {
    writeFileSync(
      join(scratch, 'plain.mjs'),
      `import { createRequire } from 'node:module';
import { playbook } from 'hostform';
import { file, service } from 'hostform/modules';
const site = playbook({ name: 'plain', hosts: 'all', tasks: [file({ path: '/etc/motd', content: 'hi\\n' }), service({ name: 'nginx', state: 'started' })] });
const schema = createRequire(import.meta.url)('hostform/schema/inventory.json');
console.log(JSON.stringify({ kind: site.kind, tasks: site.tasks.length, schema: typeof schema.properties }));
`,
    );
    const r = run(process.execPath, ['plain.mjs'], scratch);
    t.equal(r.status, 0, said(r));
    t.same(JSON.parse(r.stdout), { kind: 'playbook', tasks: 2, schema: 'object' });
  });

  t.test("the project's tsc reports the user's three mistakes and nothing inside hostform", async (t) => {
    const init = run(process.execPath, [tsc, '--init'], scratch);
    t.equal(init.status, 0, said(init));
    t.match(readFileSync(join(scratch, 'tsconfig.json'), 'utf8'), /"module": "nodenext"/, 'tsc --init writes module nodenext');
    writeFileSync(
      join(scratch, 'mistakes.ts'),
      `import { playbook } from 'hostform';
import { file, service } from 'hostform/modules';

export default playbook({
  name: 'mistakes',
  hosts: 'all',
  tasks: [
    file({ path: '/etc/motd', content: 'hi\\n', mode: 644 }),
    file({ path: '/etc/issue', contnet: 'hi\\n' }),
    service({ name: 'nginx', state: 'runing' }),
  ],
});
`,
    );
    const errors = (r: SpawnSyncReturns<string>) => r.stdout.split('\n').filter((line) => /error TS\d+/.test(line));
    const checked = run(process.execPath, [tsc, '--noEmit', '-p', '.'], scratch);
    const reported = errors(checked);
    t.equal(reported.length, 3, `three errors: ${checked.stdout}`);
    t.match(reported[0], /^mistakes\.ts\(8,\d+\): error TS\d+/, 'the mode given as a number');
    t.match(checked.stdout, /mistakes\.ts\(8,\d+\): error [^\n]*\n(\s+[^\n]*\n)*?\s+Type 'number' is not assignable to type 'string'/, 'mode: 644 is a number, not a string');
    t.match(reported[1], /^mistakes\.ts\(9,\d+\): error TS2353: .*'contnet' does not exist/, 'the misspelt key');
    t.match(reported[2], /^mistakes\.ts\(10,\d+\): error TS2322: Type '"runing"' is not assignable/, 'the misspelt state');

    // tsc --init skips checking .d.ts files; checking them too shows that hostform's own types are
    // sound under the user's settings (strict, exactOptionalPropertyTypes, "types": []), not just unread.
    const deep = run(process.execPath, [tsc, '--noEmit', '-p', '.', '--skipLibCheck', 'false'], scratch);
    t.same(errors(deep).filter((line) => !line.startsWith('mistakes.ts(')), [], `no error outside the user's file: ${deep.stdout}`);
  });
});
