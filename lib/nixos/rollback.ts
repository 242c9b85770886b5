import { defineModule } from '../module/define.ts';
import type { Backend } from '../module/types.ts';
import { sh } from '../shell/quote.ts';

interface Generations {
  readonly current?: number;
  readonly previous?: number;
}

/**
 * `play rollback`: switch a NixOS host back to the generation before the
 * current one (`nixos-rebuild switch --rollback`). Check mode shows which
 * generation it would activate.
 */
const backend: Backend<Record<string, never>, Generations, null> = {
  probes: () => ({ generations: { script: sh`nix-env --list-generations -p /nix/var/nix/profiles/system` } }),
  parse: (_p, outputs) => parseGenerations(outputs['generations']?.stdout ?? ''),
  plan: (_p, g) => {
    if (g.current === undefined || g.previous === undefined) {
      throw new Error('no earlier system generation to roll back to (nix-env --list-generations -p /nix/var/nix/profiles/system)');
    }
    return [{ summary: `switch from generation ${g.current} to ${g.previous}`, diff: `- generation ${g.current}\n+ generation ${g.previous}`, action: null }];
  },
  apply: async (_p, _changes, context) => {
    await context.run(sh`nixos-rebuild switch --rollback`);
  },
};

/** Parse `nix-env --list-generations`: "  41   2026-11-20 10:00:01   (current)". */
export function parseGenerations(text: string): Generations {
  const rows = text
    .split('\n')
    .map((line) => /^\s*(\d+)\s.*?(\(current\))?\s*$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ number: Number(m[1]), current: m[2] !== undefined }));
  const index = rows.findIndex((r) => r.current);
  if (index < 0) return {};
  return { current: rows[index]?.number, ...(index > 0 ? { previous: rows[index - 1]?.number } : {}) } as Generations;
}

export const nixosRollback = defineModule<Record<string, never>, Record<string, never>>({
  name: 'nixos.rollback',
  schema: { type: 'object', additionalProperties: false },
  capabilities: { checkMode: true, diff: true, changes: ['transaction'], validates: 'none: the previous generation was built and booted before' },
  describe: () => 'roll back to the previous NixOS generation',
  resolve: (p) => p,
  backends: { nixos: backend },
});
