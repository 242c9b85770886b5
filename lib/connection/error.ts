import { ConnectionError } from '../errors.ts';

export type ConnectionFailureReason =
  | 'host-key-unknown'
  | 'host-key-changed'
  | 'host-key-revoked'
  | 'authentication'
  | 'refused'
  | 'timeout'
  | 'unresolved'
  | 'unreachable'
  | 'lost'
  | 'other';

export interface HostConnectionDetails {
  readonly host: string;
  readonly address: string;
  readonly port: number;
  readonly user: string;
  readonly reason: ConnectionFailureReason;
}

/**
 * A ConnectionError that says which host, where, as whom, and why, so the
 * runner can report it and a JSON report can group unreachable hosts by cause.
 */
export class HostConnectionError extends ConnectionError {
  readonly details: HostConnectionDetails;

  constructor(
    message: string,
    details: HostConnectionDetails,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.details = details;
  }
}
