/**
 * Whether a running daemon has read a configuration file since it last
 * changed: the running state that can lag the files (issue 14). A file newer
 * than the daemon's last start or reload is one it does not run, whatever
 * the file says; the task that manages the file then plans a reload even
 * though the file is right. That catches a reload lost before the pending-
 * actions journal existed, or one that a change by hand never made.
 *
 * The daemon's last start or reload is systemd's StateChangeTimestamp of its
 * unit while it is active: `systemctl reload` moves the unit through
 * `reloading` and back, so the timestamp follows. A reload made outside
 * systemd (a plain `kill -HUP`) is not seen, and costs one reload more.
 */
import type { ExecResult } from '../../lib/connection/types.ts';
import { fieldDiff } from '../../lib/diff.ts';
import type { Change, PlanContext } from '../../lib/module/types.ts';
import { sh, type ShellScript } from '../../lib/shell/quote.ts';

export interface DaemonRead {
  /** The unit runs (a stopped daemon reads its files when it starts). */
  readonly active: boolean;
  /** The paths changed since the daemon last started or reloaded; empty when none did, or when that cannot be told. */
  readonly stale: readonly string[];
}

/** Nothing to reload: what a plan sees when a daemon is up to date. */
export const UP_TO_DATE: DaemonRead = { active: true, stale: [] };

/**
 * One read-only probe: the first of `units` that systemd knows, its state
 * and when it last changed, and the modification time of each path (nothing
 * for a path that does not exist). Needs systemd 248 or later for
 * microseconds (`--timestamp=us+utc`); an older one tells nothing, and no
 * reload is planned.
 */
export function daemonReadProbe(units: readonly string[], paths: readonly string[]): ShellScript {
  return sh`out=
for u in ${units}; do
  out=$(systemctl show --timestamp=us+utc -p LoadState,ActiveState,StateChangeTimestamp -- "$u" 2>/dev/null) || { out=; continue; }
  case $out in *LoadState=loaded*) break ;; *) out= ;; esac
done
printf '%s\\n' "$out"
ts=$(printf '%s\\n' "$out" | sed -n 's/^StateChangeTimestamp=//p')
if [ -n "$ts" ]; then echo "Since=$(date -d "$ts" +%s.%N 2>/dev/null)"; fi
for p in ${paths}; do if [ -e "$p" ]; then echo "Mtime=$(stat -c %.9Y -- "$p")"; else echo Mtime=; fi; done`;
}

export function parseDaemonRead(paths: readonly string[], result: ExecResult): DaemonRead {
  const lines = result.stdout.split('\n');
  const value = (key: string) => lines.find((l) => l.startsWith(`${key}=`))?.slice(key.length + 1);
  const active = value('ActiveState') === 'active';
  const since = nanoseconds(value('Since'));
  const mtimes = lines.filter((l) => l.startsWith('Mtime=')).map((l) => nanoseconds(l.slice('Mtime='.length)));
  if (!active || since === undefined || mtimes.length !== paths.length) return { active, stale: [] };
  return { active, stale: paths.filter((_, i) => (mtimes[i] ?? -1n) > since) };
}

/**
 * The files are right, but the running `daemon` was not reloaded since one
 * changed (a lost reload, an edit by hand): plan its reload, unless an
 * earlier task of this run already asked for it (`reloadId`), which reads
 * the file anyway.
 */
export function staleReload<Action>(daemon: string, read: DaemonRead, reloadId: string, context: PlanContext, action: Action): Change<Action>[] {
  const [path] = read.stale;
  if (path === undefined || context.deferred?.has(reloadId)) return [];
  return [
    {
      summary: `reload ${daemon}: it has not read ${path} since it changed (the file is newer than ${daemon}'s last start or reload)`,
      diff: fieldDiff([{ name: `running ${daemon}`, before: `older than ${path}`, after: `reloaded after ${path} changed` }]),
      action,
    },
  ];
}

/** `1796081354.928668000` → nanoseconds since the epoch; undefined for anything else. */
function nanoseconds(text: string | undefined): bigint | undefined {
  const match = /^(\d+)(?:\.(\d{1,9}))?$/.exec(text ?? '');
  if (!match) return undefined;
  return BigInt(match[1] as string) * 1_000_000_000n + BigInt((match[2] ?? '').padEnd(9, '0'));
}
