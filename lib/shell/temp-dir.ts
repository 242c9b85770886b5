import { trusted, type ShellScript } from './quote.ts';

/**
 * Script lines that make a private temporary directory and set `$<name>` to
 * it, removed however the script ends: normally, on an error, or when the
 * control machine goes away (the channel closes: SIGHUP, or SIGPIPE at the
 * next write) or the script is interrupted.
 *
 * Scripts put copies of what they check here (unit files, sshd drop-ins,
 * probe outputs), and those may hold secrets. So the directory is 0700 and,
 * for root, under /run (memory, root-only, gone at reboot) rather than /tmp;
 * other users get their own runtime directory when they have one. Only a
 * SIGKILL of the script itself can leave it behind, and then only there.
 */
export function privateTempDir(name: string): ShellScript {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`privateTempDir(): '${name}' is not a shell variable name`);
  return trusted(`${name}=$(umask 077
  if [ "$(id -u)" = 0 ] && mkdir -p -m 0700 /run/hostform 2>/dev/null; then base=/run/hostform
  elif [ -d "/run/user/$(id -u)" ] && [ -w "/run/user/$(id -u)" ]; then base=/run/user/$(id -u)
  else base=\${TMPDIR:-/tmp}; fi
  mktemp -d "$base/hostform.XXXXXXXX") || exit 1
trap 'rm -rf -- "$${name}"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 141' PIPE
trap 'exit 143' TERM`);
}

/** Matches a directory made by privateTempDir in a program's message, to show the real path instead. */
export const PRIVATE_TEMP_DIR = /(?:\/[^\s'"():/]+)*\/hostform\.[A-Za-z0-9]{8}/g;
