/**
 * What the fleet tests (issue 16) serve to test hosts that have no internet:
 *
 * - hostform itself, packed from this checkout (`npm pack`: the package a user installs);
 * - a site repository, as a user would keep it: package.json depending on hostform, the
 *   package-lock.json npm would write for it, an .npmrc naming the site's own npm registry,
 *   playbooks and an inventory;
 * - `git daemon` on the test bridge, serving that repository read-only over git://;
 * - an npm registry mirror on the test bridge, for `npm ci` on the hosts: a plain HTTP
 *   server that answers the tarball requests npm makes for a locked tree, with the
 *   tarballs from this machine's npm cache (where the repository's own install left them)
 *   and hostform's packed tarball. With a lockfile that records every package's address
 *   and integrity, `npm ci` asks for nothing else (no package metadata), so this is what
 *   an air-gapped site's registry mirror (Verdaccio, Nexus, Artifactory) answers to it;
 *   npm rewrites the lockfile's registry.npmjs.org addresses to the registry .npmrc names
 *   (its replace-registry-host setting), so the lockfile stays the one npm writes.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BRIDGE_ADDRESS } from '../hosts/config.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface PackedHostform {
  readonly tarball: string;
  readonly integrity: string;
  readonly version: string;
  readonly manifest: Record<string, unknown>;
}

/** `npm pack` of this checkout (which builds dist/) into `dir`. */
export function packHostform(dir: string): PackedHostform {
  const packed = spawnSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: repoRoot, encoding: 'utf8' });
  if (packed.status !== 0) throw new Error(`npm pack failed: ${packed.stdout}\n${packed.stderr}`);
  const [pack] = JSON.parse(packed.stdout) as [{ filename: string; integrity: string; version: string }];
  const tarball = join(dir, pack.filename);
  const manifest = JSON.parse(spawnSync('tar', ['xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }).stdout) as Record<string, unknown>;
  return { tarball, integrity: pack.integrity, version: pack.version, manifest };
}

interface LockEntry {
  readonly version?: string;
  readonly resolved?: string;
  readonly integrity?: string;
  readonly dev?: boolean;
  readonly [key: string]: unknown;
}

const registryAddress = (name: string, version: string) => `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${version}.tgz`;

/**
 * The site's package-lock.json, as `npm install hostform` would write it: hostform from the
 * registry, and every package this checkout's own lockfile installs for hostform's dependencies
 * (its entries not marked dev), at the same versions and places.
 */
export function siteLock(packed: PackedHostform): { readonly lockfileVersion: number; readonly packages: Record<string, LockEntry> } {
  const own = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const m = packed.manifest;
  const packages: Record<string, LockEntry> = {
    '': { name: 'site', dependencies: { hostform: packed.version } },
    'node_modules/hostform': {
      version: packed.version,
      resolved: registryAddress('hostform', packed.version),
      integrity: packed.integrity,
      license: m['license'],
      dependencies: m['dependencies'],
      peerDependencies: m['peerDependencies'],
      peerDependenciesMeta: m['peerDependenciesMeta'],
      bin: m['bin'],
      engines: m['engines'],
    },
  };
  for (const [path, entry] of Object.entries(own.packages)) {
    if (path === '' || entry.dev === true) continue;
    const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    packages[path] = { ...entry, resolved: entry.resolved ?? registryAddress(name, entry.version ?? '') };
  }
  return { lockfileVersion: 3, packages };
}

export interface NpmMirror {
  /** `http://10.213.0.1:PORT/`: what the site's .npmrc names as its registry. */
  readonly url: string;
  /** Every request, `GET /path 200`, in order. */
  readonly requests: string[];
  /** Bytes of tarballs served. */
  bytes: number;
  close(): Promise<void>;
}

/** npm's content-addressed cache holds a tarball under its sha512. */
function cachedTarball(integrity: string): string | undefined {
  const sha512 = /^sha512-(.+)$/.exec(integrity.split(' ')[0] ?? '')?.[1];
  if (!sha512) return undefined;
  const hex = Buffer.from(sha512, 'base64').toString('hex');
  const path = join(homedir(), '.npm', '_cacache', 'content-v2', 'sha512', hex.slice(0, 2), hex.slice(2, 4), hex.slice(4));
  return existsSync(path) ? path : undefined;
}

/** The mirror on the bridge: every tarball of `lock`, hostform's from the packed file. */
export async function startNpmMirror(packed: PackedHostform, lock: ReturnType<typeof siteLock>): Promise<NpmMirror> {
  const files = new Map<string, string>();
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!entry.resolved || !entry.integrity) continue;
    const file = path === 'node_modules/hostform' ? packed.tarball : cachedTarball(entry.integrity);
    if (file) files.set(new URL(entry.resolved).pathname, file);
  }
  const mirror: NpmMirror = {
    url: '',
    requests: [],
    bytes: 0,
    close: async () => undefined,
  };
  const server: Server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://mirror').pathname);
    const file = request.method === 'GET' ? files.get(path) : undefined;
    mirror.requests.push(`${request.method} ${path} ${file ? 200 : 404}`);
    if (!file) {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    const size = statSync(file).size;
    mirror.bytes += size;
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
    createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, BRIDGE_ADDRESS, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return Object.assign(mirror, {
    url: `http://${BRIDGE_ADDRESS}:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

export interface GitDaemon {
  /** `git://10.213.0.1:PORT/<name>` */
  url(name: string): string;
  /** upload-pack requests served so far (one per fetch). */
  fetches(): number;
  /** CPU seconds used so far by the daemon and the upload-pack processes it has reaped (user + system). */
  cpuSeconds(): number;
  close(): Promise<void>;
}

/** `git daemon` on the bridge, serving the repositories under `base` read-only. */
export async function startGitDaemon(base: string): Promise<GitDaemon> {
  const port = await freePort();
  // git-daemon itself, not `git daemon`: the git wrapper would wait for it as a child, and the CPU time of
  // the upload-packs it reaps would show in the wrapper's /proc stat only when the daemon exits.
  const gitDaemon = join(spawnSync('git', ['--exec-path'], { encoding: 'utf8' }).stdout.trim(), 'git-daemon');
  const child: ChildProcess = spawn(gitDaemon, ['--verbose', '--reuseaddr', '--export-all', `--base-path=${base}`, `--listen=${BRIDGE_ADDRESS}`, `--port=${port}`, base], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const ticks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  for (let i = 0; i < 100 && !log.includes('Ready to rumble'); i++) await new Promise((r) => setTimeout(r, 100));
  if (!log.includes('Ready to rumble')) throw new Error(`git daemon did not start: ${log}`);
  return {
    url: (name) => `git://${BRIDGE_ADDRESS}:${port}/${name}`,
    fetches: () => log.match(/Request upload-pack/g)?.length ?? 0,
    cpuSeconds: () => {
      // Fields 14-17 of /proc/PID/stat: its own user and system time, and that of the children it has waited for.
      const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
      return fields.slice(11, 15).reduce((sum, f) => sum + Number(f), 0) / ticks;
    },
    close: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject).listen(0, BRIDGE_ADDRESS, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A site repository's files, written under `dir` (paths relative to it). */
export async function writeFiles(dir: string, files: Readonly<Record<string, string>>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
}

/** Run git in `dir`; throws with its output when it fails. */
export function git(dir: string, args: readonly string[], env: Record<string, string> = {}): string {
  const r = spawnSync('git', ['-C', dir, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stdout}\n${r.stderr}`);
  return r.stdout.trim();
}

/**
 * Run a program to its end without blocking this process: the git daemon's log and the npm mirror
 * live in it, and must go on serving the hosts while it waits.
 */
export function exec(program: string, args: readonly string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}
