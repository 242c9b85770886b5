import { ResourceKind } from '../../lib/module/resources.ts';

/**
 * What earlier SELinux tasks of a run will have set, so later tasks plan
 * against it in check mode (where nothing was applied).
 */

/** A boolean's value, runtime and persistent alike; keyed by boolean name. */
export const BooleanResource = new ResourceKind<boolean>('selinux-boolean');

/** A local file-context mapping's type, or undefined when removed; keyed by fcontextKey. */
export const FileContextResource = new ResourceKind<{ readonly type: string | undefined }>('selinux-fcontext');

/** A mapping is one per regex and file type ('all files', 'directory', as semanage lists them). */
export function fcontextKey(target: string, fileType: string): string {
  return `${fileType}: ${target}`;
}

/** A local port mapping's type, or undefined when removed; keyed by `proto/low-high`. */
export const PortResource = new ResourceKind<{ readonly type: string | undefined }>('selinux-port');
