import type { HostView } from '../module/types.ts';
import type { NixAttrs } from './value.ts';

/**
 * How a module works on NixOS: not by commands, but by contributing one
 * fragment (an attribute set of NixOS options) to the module hostform writes
 * for the play. NixOS' own module system merges the fragments, so two tasks
 * adding packages both land in environment.systemPackages.
 *
 *   backends: { el9: dnfBackend, nixos: nixosRenderer((p) => ({ environment: { systemPackages: p.present.map(NixExpr.pkgs) } })) }
 *
 * `render` is pure; it may throw Skip for a task with no NixOS meaning.
 */
export interface NixosRenderer<Resolved> {
  readonly kind: 'nixos-renderer';
  render(params: Resolved, host: HostView): NixAttrs;
  /**
   * Its options are chosen by the playbook, not by hostform (nixos.options):
   * where they define an option another task of the play also defines with
   * another value, the run stops before anything changes, naming both tasks
   * (see conflicts.ts). Between other tasks, NixOS itself reports a
   * conflict, on the host (check mode's dry-activate, or the switch).
   */
  readonly checkConflicts?: true;
  /**
   * Files the fragment refers to that must never enter the world-readable
   * Nix store (secrets): written to the host out of band, by the task's own
   * step, before the play's switch (see lib/nixos/secrets.ts).
   */
  uploads?(params: Resolved, host: HostView): readonly NixosUpload[];
}

/** A file written to a nixos host outside the Nix store, root-only unless its owner, group and mode say otherwise. */
export interface NixosUpload {
  /** Absolute path, under /var/lib/hostform/secrets. */
  readonly path: string;
  readonly content: Buffer;
  /** Octal, as a string: '0400'. */
  readonly mode: string;
  readonly owner: string;
  readonly group: string;
}

export function nixosRenderer<Resolved>(
  render: (params: Resolved, host: HostView) => NixAttrs,
  options: Pick<NixosRenderer<Resolved>, 'checkConflicts' | 'uploads'> = {},
): NixosRenderer<Resolved> {
  return { kind: 'nixos-renderer', render, ...options };
}

export function isNixosRenderer(backend: unknown): backend is NixosRenderer<unknown> {
  return typeof backend === 'object' && backend !== null && (backend as { kind?: unknown }).kind === 'nixos-renderer';
}
