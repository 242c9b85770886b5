import { PathResource } from '../../lib/module/resources.ts';
import type { PlanContext } from '../../lib/module/types.ts';
import { observedFromPlanned, type ObservedPath } from '../file/observe.ts';

/**
 * The text of a configuration file a task writes whole (a sysctl.d file, a
 * sudoers.d file, a drop-in), as an earlier task of this run leaves it in
 * check mode, else as the host has it; undefined when there is none. A
 * directory, link or special file there, or a file too large to compare,
 * is an error saying what to do: the task would not replace it blindly.
 */
export function ownedFileText(path: string, onHost: ObservedPath, context: PlanContext): string | undefined {
  const planned = context.planned.get(PathResource, path);
  const observed = planned ? observedFromPlanned(planned) : onHost;
  if (observed.type === 'absent') return undefined;
  if (observed.type === 'link') throw new Error(`${path} is a symbolic link (to ${observed.target}), not a file; remove it so hostform can write the file there`);
  if (observed.type !== 'file') throw new Error(`${path} is a ${observed.type === 'other' ? observed.description : observed.type}, not a file; remove it so hostform can write the file there`);
  if (!observed.content) throw new Error(`${path} is larger than hostform compares (64 KiB), so it is not a file hostform wrote: move it away or choose another name`);
  return observed.content.toString('utf8');
}
