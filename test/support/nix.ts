import { execFileSync } from 'node:child_process';

/** Whether nix-instantiate (Debian's nix-bin, installed by test/setup.sh) is on this machine. */
export const hasNix = (() => {
  try {
    execFileSync('nix-instantiate', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
