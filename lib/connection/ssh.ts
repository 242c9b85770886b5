/**
 * SSH connection: one node-ssh (ssh2) client per host for the whole run.
 * Commands go over exec channels; a file's bytes travel on the standard
 * input of the command that writes it.
 */
import { readFile } from 'node:fs/promises';
import { constants as osConstants, homedir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { NodeSSH } from 'node-ssh';
import ssh2, { type AnyAuthMethod, type Client, type ServerHostKeyAlgorithm } from 'ssh2';
import { argv, type ShellScript } from '../shell/quote.ts';
import { scriptArgv, scriptInput } from './become.ts';
import { writeFileAtomically } from './atomic-write.ts';
import { HostConnectionError } from './error.ts';
import { prepareHostKeyCheck, type HostKeyCheck } from './host-key-check.ts';
import { connectTarget, describeConnectFailure, type ConnectAttempt } from './ssh-failure.ts';
import type { Connection, ConnectionSpec, ExecResult, RunOptions, WriteFileOptions } from './types.ts';
import type { ClientChannel } from 'ssh2';
import { awaitReady } from './hold.ts';
import type { HeldScript, HoldOptions } from './types.ts';

export type SshSpec = Extract<ConnectionSpec, { kind: 'ssh' }>;

const DEFAULT_TIMEOUT_MS = 20_000;
const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];
/** ssh2's own defaults, in its order; known_hosts decides which come first. */
const HOST_KEY_ALGORITHMS: readonly ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

export async function openSsh(spec: SshSpec): Promise<Connection> {
  const knownHostsFile = expandHome(spec.knownHostsFile ?? '~/.ssh/known_hosts');
  const timeoutMs = spec.connectTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const auth = await authMethods(spec);
  const attempt: ConnectAttempt = {
    hostName: spec.hostName,
    address: spec.address,
    port: spec.port,
    user: spec.user,
    timeoutMs,
    credentials: auth.credentials,
  };
  const fail = (reason: HostConnectionError['details']['reason'], message: string, cause?: unknown): never => {
    throw new HostConnectionError(
      message,
      { host: spec.hostName, address: spec.address, port: spec.port, user: spec.user, reason },
      cause === undefined ? undefined : { cause },
    );
  };
  if (auth.methods.length === 0) {
    fail('authentication', `cannot connect to ${connectTarget(attempt)}: no key to offer\n  try: ${auth.problem}`);
  }

  const hostKeys = await prepareHostKeyCheck(
    {
      address: spec.address,
      port: spec.port,
      knownHostsFile,
      acceptNewHostKeys: spec.acceptNewHostKeys ?? false,
    },
    HOST_KEY_ALGORITHMS,
  );
  const ssh = new NodeSSH();
  try {
    await ssh.connect({
      host: spec.address,
      port: spec.port,
      username: spec.user,
      authHandler: auth.methods,
      hostVerifier: verifierFor(hostKeys),
      algorithms: { serverHostKey: hostKeys.algorithms as ServerHostKeyAlgorithm[] },
      readyTimeout: timeoutMs,
      keepaliveInterval: 15_000,
      keepaliveCountMax: 4,
    });
  } catch (error) {
    ssh.dispose();
    const refusal = hostKeys.refusal;
    if (refusal) fail(refusal.reason, `cannot connect to ${connectTarget(attempt)}: ${refusal.message}`, error);
    const failure = describeConnectFailure(error, attempt);
    fail(failure.reason, failure.message, error);
  }
  return new SshConnection(spec, ssh);
}

class SshConnection implements Connection {
  readonly hostName: string;
  readonly loginUser: string;
  roundTrips = 0;
  private readonly client: Client;
  private readonly loginIsRoot: boolean;
  private closed = false;
  /** ssh2 emits 'error' on the client when the connection breaks; kept to explain the next failing call. */
  private lastError: Error | undefined;

  private readonly spec: SshSpec;
  private readonly ssh: NodeSSH;

  constructor(
    spec: SshSpec,
    ssh: NodeSSH,
  ) {
    this.spec = spec;
    this.ssh = ssh;
    this.hostName = spec.hostName;
    this.loginUser = spec.user;
    // A uid-0 account under another name is rare enough to ignore; the facts report the real uid.
    this.loginIsRoot = spec.user === 'root';
    const client = ssh.connection;
    if (!client) throw new Error('node-ssh reported a connection without a client');
    this.client = client;
    // Without a listener, an 'error' after connecting (a reset, a dead peer) would crash the process.
    client.on('error', (error) => {
      this.lastError = error;
    });
    client.on('close', () => {
      this.closed = true;
    });
  }

  async run(script: ShellScript, options: RunOptions = {}): Promise<ExecResult> {
    const command = argv(scriptArgv(script, options, this.loginIsRoot)).text;
    const stdin = scriptInput(script, options);
    this.roundTrips += 1;
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let response;
    try {
      // node-ssh decodes each chunk on its own, which would split multi-byte
      // characters across chunk boundaries; collect the bytes and decode once.
      response = await this.ssh.execCommand(command, {
        noTrim: true,
        onStdout: (chunk) => stdout.push(chunk),
        onStderr: (chunk) => stderr.push(chunk),
        ...(stdin !== undefined ? { stdin: Readable.from([Buffer.from(stdin)]) } : {}),
      });
    } catch (error) {
      throw this.lost(error);
    }
    const code = response.code ?? signalExitCode(response.signal);
    if (code === undefined) throw this.lost(this.lastError);
    return { stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8'), code };
  }

  async writeFile(path: string, content: Buffer | string, options: WriteFileOptions = {}): Promise<void> {
    await writeFileAtomically({ hostName: this.hostName, loginUser: this.loginUser, loginIsRoot: this.loginIsRoot, run: (script, runOptions) => this.run(script, runOptions) }, path, content, options);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const closed = new Promise<void>((resolve) => this.client.once('close', () => resolve()));
    this.ssh.dispose();
    await closed;
  }

  private lost(error: unknown): HostConnectionError {
    const why = error instanceof Error ? error.message : 'the channel closed without an exit status';
    return new HostConnectionError(
      `lost the connection to ${this.hostName} (${this.spec.user}@${this.spec.address}:${this.spec.port}): ${why}\n  try: check the host's network and sshd; run again`,
      { host: this.hostName, address: this.spec.address, port: this.spec.port, user: this.spec.user, reason: 'lost' },
      error === undefined ? undefined : { cause: error },
    );
  }

  /** An exec channel of its own; the script ends when the channel does (its stdin closes), so does what it holds. */
  async hold(script: ShellScript, options: HoldOptions): Promise<HeldScript> {
    // As the login user: a held script that needs root says so itself (sudo -n inside).
    const command = argv(['sh', '-c', '--', script.text]).text;
    this.roundTrips += 1;
    // The exit status is listened for inside exec's callback: a script that ends at once (a lock that is busy) can
    // have its output, exit status and close parsed from one packet read, in the same tick as the callback.
    const { channel, exited } = await new Promise<{ channel: ClientChannel; exited: Promise<number | undefined> }>((resolve, reject) => {
      try {
        this.client.exec(command, (error, stream) => {
          if (error) return reject(this.lost(error));
          let code: number | undefined;
          stream.on('exit', (exitCode: number | null, signal?: string) => {
            code = exitCode ?? signalExitCode(signal ?? null);
          });
          resolve({ channel: stream, exited: new Promise((done) => stream.on('close', () => done(code))) });
        });
      } catch (error) {
        reject(this.lost(error));
      }
    });
    return awaitReady({ stdout: channel, stderr: channel.stderr, endInput: (data) => channel.end(data), exited }, options.ready, () => this.lost(this.lastError));
  }
}

/** A signal-killed remote process reports 128 + the signal number, as a shell does. */
function signalExitCode(signal: string | null): number | undefined {
  if (signal === null) return undefined;
  const name = (signal.startsWith('SIG') ? signal : `SIG${signal}`) as keyof typeof osConstants.signals;
  const number = osConstants.signals[name];
  return number === undefined ? 128 : 128 + number;
}

function verifierFor(check: HostKeyCheck) {
  return (key: Buffer, verify: (valid: boolean) => void): void => {
    check.verify(key).then(verify, () => verify(false));
  };
}

interface AuthPlan {
  readonly methods: AnyAuthMethod[];
  /** What is offered, for messages. */
  readonly credentials: string[];
  /** Why nothing could be offered, with what to do. */
  readonly problem: string;
}

/**
 * Keys to offer, in order: the inventory's identity file, then the agent;
 * with neither, the usual ~/.ssh/id_* files. Encrypted keys need the agent:
 * hostform never prompts for a passphrase.
 */
async function authMethods(spec: SshSpec): Promise<AuthPlan> {
  const methods: AnyAuthMethod[] = [];
  const credentials: string[] = [];
  const username = spec.user;
  if (spec.identityFile !== undefined) {
    const path = expandHome(spec.identityFile);
    const key = await readKey(path);
    if (key.kind !== 'ok') {
      throw new HostConnectionError(
        `cannot connect to ${spec.hostName}: identity file ${path} ${key.kind === 'missing' ? 'does not exist' : 'is encrypted or unreadable'}\n  try: ${key.kind === 'missing' ? "fix 'identityFile' in the inventory" : `load it into the agent with ssh-add ${path} and remove 'identityFile'`}`,
        { host: spec.hostName, address: spec.address, port: spec.port, user: spec.user, reason: 'authentication' },
      );
    }
    methods.push({ type: 'publickey', username, key: key.data });
    credentials.push(`key ${path}`);
  }
  const agent = process.env['SSH_AUTH_SOCK'];
  if (agent) {
    methods.push({ type: 'agent', username, agent });
    credentials.push(`ssh-agent at ${agent}`);
  }
  const skipped: string[] = [];
  if (methods.length === 0) {
    for (const name of DEFAULT_KEYS) {
      const path = join(homedir(), '.ssh', name);
      const key = await readKey(path);
      if (key.kind === 'ok') {
        methods.push({ type: 'publickey', username, key: key.data });
        credentials.push(`key ${path}`);
      } else if (key.kind === 'unusable') {
        skipped.push(`${path} is encrypted or unreadable`);
      }
    }
  }
  const problem = [
    "set 'identityFile' in the inventory, start ssh-agent (SSH_AUTH_SOCK) with the key loaded, or create ~/.ssh/id_ed25519",
    ...skipped,
  ].join('; ');
  return { methods, credentials, problem };
}

async function readKey(path: string): Promise<{ kind: 'ok'; data: Buffer } | { kind: 'missing' } | { kind: 'unusable' }> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? { kind: 'missing' } : { kind: 'unusable' };
  }
  return ssh2.utils.parseKey(data) instanceof Error ? { kind: 'unusable' } : { kind: 'ok', data };
}

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}
