import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { HARNESS_DIR, hostsDir, runLockFile } from './config.ts';
import type { Profile } from './config.ts';
import { run } from './run.ts';

/**
 * The registry of running hosts, shared by every process on the machine: hostsDir()/NAME holds the host's
 * files, record.json, and users/PID-START for each process using it. Changes happen under the run lock;
 * teardown.sh removes a host when its last user is gone (released, or dead: found by the next sweep).
 */
export interface HostRecord {
  readonly name: string;
  readonly profile: Profile;
  /** 'registry': the site images' registry (site-registry.ts), torn down like a host when its last user goes. */
  readonly kind: 'container' | 'vm' | 'registry';
  readonly address: string;
  readonly port: number;
  readonly imageKey: string;
}

function processStart(pid: number): string {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Field 22 (starttime), counted after the command name, which may itself contain spaces.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
}

/** This process as a user of hosts: pid and start time, so that a reused pid is never taken for us. */
export const SELF_USER = `${process.pid}-${processStart(process.pid)}`;

export const hostDir = (name: string): string => path.join(hostsDir(), name);

export function readRecords(): HostRecord[] {
  if (!fs.existsSync(hostsDir())) return [];
  const records: HostRecord[] = [];
  for (const name of fs.readdirSync(hostsDir())) {
    try {
      records.push(JSON.parse(fs.readFileSync(path.join(hostDir(name), 'record.json'), 'utf8')) as HostRecord);
    } catch {
      // Half created or half removed; the next sweep deals with it.
    }
  }
  return records;
}

/** Creates the host's directory with its record and this process as its user. Callers hold the run lock. */
export function registerHost(record: HostRecord): void {
  const dir = hostDir(record.name);
  fs.mkdirSync(path.join(dir, 'users'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'record.json'), JSON.stringify(record, null, 2) + '\n');
  addUser(record.name);
}

export function addUser(name: string): void {
  fs.writeFileSync(path.join(hostDir(name), 'users', SELF_USER), '');
}

function teardownArgs(action: 'sweep' | 'release', names: readonly string[]): string[] {
  const lock = runLockFile();
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const args = action === 'release' ? [...SELF_USER.split('-'), ...names] : [];
  return ['--exclusive', lock, 'bash', path.join(HARNESS_DIR, 'teardown.sh'), hostsDir(), action, ...args];
}

/** Drops this process's use of the hosts; the ones nobody else uses are torn down. Synchronous for exit handlers. */
export function releaseSync(names: readonly string[]): void {
  if (names.length === 0) return;
  spawnSync('flock', teardownArgs('release', names), { stdio: ['ignore', 'ignore', 'inherit'] });
}

export async function release(names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  await run('flock', teardownArgs('release', names));
}

/** Tears down hosts left by processes that died (a killed earlier run). Callers must NOT hold the run lock. */
export async function sweep(): Promise<void> {
  await run('flock', teardownArgs('sweep', []));
}

/** The sweep's script, for callers that already hold the run lock. */
export async function sweepLocked(): Promise<void> {
  await run('bash', [path.join(HARNESS_DIR, 'teardown.sh'), hostsDir(), 'sweep']);
}
