import { Skip } from '../../lib/module/skip.ts';
import { nixosRenderer } from '../../lib/nixos/renderer.ts';
import { NixExpr, type NixAttrs } from '../../lib/nixos/value.ts';
import type { PackageSpec, WantedPackages } from './params.ts';

/** dnf's architecture suffixes: `nginx.x86_64` names an rpm, not the attribute `nginx.x86_64`. */
const ARCHES = new Set(['x86_64', 'aarch64', 'i686', 'noarch', 'ppc64le', 's390x', 'src']);

/**
 * Packages on NixOS: every present or latest spec is a nixpkgs attribute
 * path (`htop`, `python3Packages.requests`) in environment.systemPackages.
 * `latest` is the same as `present`: the version is whatever the system's
 * nixpkgs (channel or flake input) holds, and it moves when that is updated.
 *
 * A spec that only means something to dnf (a version pin, a file path, a
 * virtual provide, an architecture) is refused, not skipped: the play would
 * otherwise converge without the package it asked for. Repository options are
 * ignored, since every package comes from nixpkgs.
 *
 *   packages({ present: ['htop', 'python3Packages.requests'] })  →  environment.systemPackages = [ pkgs.htop pkgs.python3Packages.requests ]
 */
export const nixosPackages = nixosRenderer<WantedPackages>((wanted): NixAttrs => {
  const installed = [...wanted.present, ...wanted.latest];
  if (installed.length === 0) {
    throw new Skip('on nixos a package is absent when no module lists it: remove it from the playbook that installs it');
  }
  return { environment: { systemPackages: installed.map((s) => NixExpr.pkgs(attributePath(s))) } };
});

function attributePath(spec: PackageSpec): string {
  const refuse = (what: string) =>
    new Error(`package ${JSON.stringify(spec.spec)} is ${what}, which has no meaning on nixos: name the nixpkgs attribute instead (search.nixos.org), or keep this task off nixos hosts with when: (host) => host.facts.platform !== 'nixos'`);
  if (spec.spec.startsWith('/')) throw refuse('a file path');
  if (/[()]/.test(spec.spec)) throw refuse('a virtual provide');
  if (spec.spec.includes(':') || spec.pins.length > 0) throw refuse('a version pin (on nixos the version comes from the nixpkgs revision; some versions have their own attribute, like postgresql_16)');
  const parts = spec.spec.split('.');
  if (parts.some((p) => p === '')) throw refuse('not an attribute path');
  if (parts.length > 1 && ARCHES.has(parts[parts.length - 1]!)) throw refuse('an rpm with its architecture');
  return spec.spec;
}
