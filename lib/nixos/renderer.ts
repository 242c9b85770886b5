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
}

export function nixosRenderer<Resolved>(render: (params: Resolved, host: HostView) => NixAttrs): NixosRenderer<Resolved> {
  return { kind: 'nixos-renderer', render };
}

export function isNixosRenderer(backend: unknown): backend is NixosRenderer<unknown> {
  return typeof backend === 'object' && backend !== null && (backend as { kind?: unknown }).kind === 'nixos-renderer';
}
