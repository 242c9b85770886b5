import type { ExecResult } from '../../lib/connection/types.ts';
import { sh, type ShellScript } from '../../lib/shell/quote.ts';
import { probeFailure } from '../shared/become.ts';
import type { ObservedUnitFiles, UnitState } from '../systemd/observe.ts';
import { HELPERS, type WantedMount } from './params.ts';

/** What is mounted at the path now, as findmnt reports it (the top one when mounts are stacked), automount points apart. */
export interface MountedNow {
  readonly source: string;
  readonly fstype: string;
  readonly options: string;
}

export interface ObservedMountPoint {
  /** The file system mounted there now (not the automount point). */
  readonly mounted?: MountedNow;
  /** An autofs (automount) point is there. */
  readonly autofs: boolean;
  /** The helper the type needs (mount.nfs) is installed; true when the type needs none. */
  readonly helper: boolean;
  /** /etc/fstab lines for the same path: systemd would make a unit of them too. */
  readonly fstab: readonly string[];
}

export interface ObservedMount {
  readonly files: ObservedUnitFiles;
  readonly mount: UnitState;
  readonly automount: UnitState;
  readonly point: ObservedMountPoint;
}

/** findmnt's view of the path, whether the helper is installed, and fstab lines for the path. */
export function mountPointProbe(w: WantedMount): ShellScript {
  const helper = w.type !== undefined ? HELPERS[w.type] : undefined;
  const helperCheck = helper
    ? sh`if command -v ${helper.program} >/dev/null 2>&1 || [ -x /usr/sbin/${helper.program} ] || [ -x /sbin/${helper.program} ]; then echo helper=yes; else echo helper=no; fi`
    : sh`echo helper=yes`;
  // fstab writes a space in a path as \040.
  const fstabWhere = w.where.replace(/ /g, '\\040');
  return sh`command -v findmnt >/dev/null 2>&1 || { echo 'findmnt is not installed (it is part of util-linux)' >&2; exit 1; }
${helperCheck}
if [ -r /etc/fstab ]; then awk -v w=${fstabWhere} '$1 !~ /^#/ && $2 == w { print "fstab=" $0 }' /etc/fstab; fi
findmnt -n -P -o SOURCE,FSTYPE,OPTIONS --mountpoint ${w.where} | sed 's/^/mounted=/'
exit 0`;
}

export function parseMountPoint(result: ExecResult): ObservedMountPoint {
  if (result.code !== 0) throw probeFailure('cannot read the mount point', result.stderr.trim() || `exit code ${result.code}`);
  let helper: boolean | undefined;
  const fstab: string[] = [];
  const mounts: MountedNow[] = [];
  for (const line of result.stdout.split('\n')) {
    if (line.startsWith('helper=')) helper = line === 'helper=yes';
    else if (line.startsWith('fstab=')) fstab.push(line.slice('fstab='.length));
    else if (line.startsWith('mounted=')) {
      const fields = pairs(line.slice('mounted='.length));
      mounts.push({ source: fields.get('SOURCE') ?? '', fstype: fields.get('FSTYPE') ?? '', options: fields.get('OPTIONS') ?? '' });
    }
  }
  if (helper === undefined) throw new Error(`unexpected output of the mount point probe: ${JSON.stringify(result.stdout.slice(0, 200))}`);
  const real = mounts.filter((m) => m.fstype !== 'autofs');
  const top = real.at(-1);
  return { ...(top ? { mounted: top } : {}), autofs: mounts.some((m) => m.fstype === 'autofs'), helper, fstab };
}

/** findmnt -P: `KEY="value"` pairs, with `\xNN` escapes for quotes, spaces and control characters. */
export function pairs(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/([A-Z_-]+)="((?:[^"\\]|\\.)*)"/g)) {
    out.set(m[1] ?? '', (m[2] ?? '').replace(/\\x([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))));
  }
  return out;
}
