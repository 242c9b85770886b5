import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { nixString } from '../lib/nixos/value.ts';
import { renderSample, SAMPLE_PLAYS } from './support/nixos-samples.ts';

// Every sample play module, rendered as hostform would, must (1) parse as Nix
// and (2), when HOSTFORM_NIXOS_TREE points at a nixpkgs checkout (with
// nixos/ and lib/), evaluate inside a full NixOS configuration far enough to
// instantiate config.system.build.toplevel: no building, no network.

const tree = process.env['HOSTFORM_NIXOS_TREE'];
const dir = mkdtempSync(join(tmpdir(), 'hostform-nixos-eval-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

for (const [play, tasks] of Object.entries(SAMPLE_PLAYS)) {
  const path = join(dir, `${play}.nix`);
  writeFileSync(path, renderSample(play, tasks));

  t.test(`nixos: the ${play} sample module parses`, async (t) => {
    t.doesNotThrow(() => execFileSync('nix-instantiate', ['--parse', path], { stdio: 'pipe' }));
  });

  t.test(`nixos: the ${play} sample module evaluates in a full NixOS configuration`, { skip: tree ? false : 'HOSTFORM_NIXOS_TREE is not set: no nixpkgs tree to evaluate against (see docs/nixos.md)' }, async (t) => {
    const expression = `
      let
        system = import ${nixString(`${tree}/nixos/lib/eval-config.nix`)} {
          system = "x86_64-linux";
          modules = [
            ${path}
            { boot.loader.grub.enable = false; fileSystems."/" = { device = "/dev/sda1"; fsType = "ext4"; }; system.stateVersion = "24.05"; }
          ];
        };
      in system.config.system.build.toplevel.drvPath`;
    const out = execFileSync('nix-instantiate', ['--eval', '-I', `nixpkgs=${tree}`, '-E', expression], { encoding: 'utf8', stdio: 'pipe' });
    t.match(out, /\/nix\/store\/.*\.drv/);
  });
}
