/**
 * Turns what ssh2 reports when a connection fails (an error code or a
 * "level") into a reason and a sentence a person can act on.
 */
import type { ConnectionFailureReason } from './error.ts';

export interface ConnectAttempt {
  readonly hostName: string;
  readonly address: string;
  readonly port: number;
  readonly user: string;
  readonly timeoutMs: number;
  /** The credentials offered, for the authentication message ("key ~/.ssh/id_ed25519", "ssh-agent"). */
  readonly credentials: readonly string[];
}

export interface ConnectFailure {
  readonly reason: ConnectionFailureReason;
  readonly message: string;
}

export function connectTarget(attempt: ConnectAttempt): string {
  return `${attempt.hostName} (${attempt.user}@${attempt.address}:${attempt.port})`;
}

export function describeConnectFailure(error: unknown, attempt: ConnectAttempt): ConnectFailure {
  const { code, level, message } = errorFields(error);
  const target = connectTarget(attempt);
  const say = (reason: ConnectionFailureReason, what: string, tryThis: string): ConnectFailure => ({
    reason,
    message: `cannot connect to ${target}: ${what}\n  try: ${tryThis}`,
  });

  if (level === 'client-authentication') {
    const offered = attempt.credentials.length > 0 ? attempt.credentials.join(', ') : 'nothing';
    return say(
      'authentication',
      `the server refused to log in ${attempt.user} (offered: ${offered})`,
      `check the user name (inventory 'user'), that the public key is in ~${attempt.user}/.ssh/authorized_keys on the host, or set 'identityFile' / load the key with ssh-add`,
    );
  }
  if (code === 'ECONNREFUSED') {
    return say(
      'refused',
      `connection refused on port ${attempt.port}`,
      `check that sshd runs on the host and listens on port ${attempt.port} (inventory 'port'), and that no firewall rejects it`,
    );
  }
  if (level === 'client-timeout' || code === 'ETIMEDOUT') {
    return say(
      'timeout',
      `no SSH handshake within ${attempt.timeoutMs} ms`,
      `check that the host is up and that ${attempt.address} is its address; a firewall may be dropping packets`,
    );
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || level === 'client-dns') {
    return say('unresolved', `cannot resolve the name ${attempt.address}`, `check the inventory 'address' and DNS`);
  }
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return say('unreachable', `no route to ${attempt.address}`, `check the network path and the inventory 'address'`);
  }
  if (code === 'ECONNRESET' || level === 'protocol' || level === 'handshake') {
    return say(
      'other',
      `the connection broke during the SSH handshake (${message})`,
      `check that port ${attempt.port} is an SSH server and that its algorithms are not too old for ssh2`,
    );
  }
  return say('other', message, `connect by hand with ssh -p ${attempt.port} ${attempt.user}@${attempt.address} to see more`);
}

function errorFields(error: unknown): { code?: string; level?: string; message: string } {
  if (!(error instanceof Error)) return { message: String(error) };
  const { code, level } = error as Error & { code?: unknown; level?: unknown };
  return {
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof level === 'string' ? { level } : {}),
    message: error.message,
  };
}
