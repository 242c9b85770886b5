import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { HostEntry } from '../../lib/inventory/types.ts';
import type { Profile } from './config.ts';
import { sshExec } from './ssh.ts';
import type { ExecResult } from './ssh.ts';

/** What an inventory needs to reach a test host; a HostEntry with every connection field set. */
export interface TestHostInventoryEntry extends HostEntry {
  readonly address: string;
  readonly port: number;
  readonly user: 'root';
  readonly identityFile: string;
  readonly knownHostsFile: string;
  readonly connection: 'ssh';
  readonly platform: 'el9';
}

export interface BootTimings {
  /** From start to the first successful ssh login. */
  readonly sshMs: number;
  /** From start until systemd reported the boot finished (running or degraded). */
  readonly bootedMs: number;
}

/**
 * One disposable el9-like host (a Debian trixie userland with RHEL 9's tools, not RHEL). Root, `admin`
 * (passwordless sudo) and `pwuser` (sudo asks for the password `hostform-test`) all log in with identityFile.
 */
export class TestHost {
  readonly user = 'root' as const;

  readonly name: string;
  readonly profile: Profile;
  readonly address: string;
  readonly port: number;
  readonly identityFile: string;
  readonly knownHostsFile: string;
  readonly knownHostsLine: string;
  readonly timings: BootTimings;

  constructor(
    name: string,
    profile: Profile,
    address: string,
    port: number,
    identityFile: string,
    knownHostsFile: string,
    knownHostsLine: string,
    timings: BootTimings,
  ) {
    this.name = name;
    this.profile = profile;
    this.address = address;
    this.port = port;
    this.identityFile = identityFile;
    this.knownHostsFile = knownHostsFile;
    this.knownHostsLine = knownHostsLine;
    this.timings = timings;
  }

  inventoryEntry(): TestHostInventoryEntry {
    return {
      address: this.address,
      port: this.port,
      user: this.user,
      identityFile: this.identityFile,
      knownHostsFile: this.knownHostsFile,
      connection: 'ssh',
      platform: 'el9',
    };
  }

  /**
   * Seconds of CPU the host has used since it booted: its cgroup's cpu.stat (usage_usec), every
   * process on the host included. A container's is read on this machine (the payload cgroup
   * systemd-nspawn makes), so measuring costs the host nothing; a VM's is read over ssh, and that
   * session's own work on the host counts in the figure.
   */
  async cpuSeconds(): Promise<number> {
    const root = existsSync('/sys/fs/cgroup/cgroup.controllers') ? '/sys/fs/cgroup' : '/sys/fs/cgroup/unified';
    const local = `${root}/hostform-test-${this.name}/payload/cpu.stat`;
    const text = existsSync(local) ? await readFile(local, 'utf8') : await this.sh('cat /sys/fs/cgroup/cpu.stat');
    const usec = /^usage_usec (\d+)$/m.exec(text)?.[1];
    if (usec === undefined) throw new Error(`no usage_usec in the cpu.stat of ${this.name}`);
    return Number(usec) / 1e6;
  }

  /** Runs a shell command on the host over ssh, as root unless opts.user says otherwise. Never throws on a non-zero exit. */
  exec(cmd: string, opts: { user?: 'root' | 'admin' | 'pwuser'; input?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
    return sshExec(this, cmd, opts);
  }

  /** Runs a shell command as exec does and returns its standard output; a non-zero exit throws, naming the command, the code and stderr. */
  async sh(cmd: string, opts: { user?: 'root' | 'admin' | 'pwuser'; input?: string; timeoutMs?: number } = {}): Promise<string> {
    const r = await this.exec(cmd, opts);
    if (r.code !== 0) throw new Error(`${cmd}\nexit ${r.code}: ${r.stderr}`);
    return r.stdout;
  }
}
