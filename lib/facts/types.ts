import type { Platform } from '../inventory/types.ts';

/** Gathered once per host when it connects, in one round trip. */
export interface Facts {
  /** Parsed /etc/os-release (ID, VERSION_ID, PRETTY_NAME, ...). */
  readonly osRelease: Readonly<Record<string, string>>;
  /** The platform whose module backends this host uses: inventory override, else detected. */
  readonly platform: Platform;
  readonly kernel: string;
  readonly arch: string;
  readonly hostname: string;
  /** The login user and whether they are root. */
  readonly user: string;
  readonly uid: number;
  /** True when `sudo -n true` works (or the user is root). */
  readonly canBecome: boolean;
}
