import { Skip } from '../../lib/module/skip.ts';
import { nixosRenderer } from '../../lib/nixos/renderer.ts';
import type { NixAttrs } from '../../lib/nixos/value.ts';
import type { WantedSudoers } from './params.ts';

/**
 * security.sudo.extraRules, one rule per command: NixOS writes a rule's
 * commands on one line, where sudo would carry one command's tags over to
 * the next. Commands are escaped for sudoers as on el9 (NixOS copies them
 * into the file as they are).
 *
 *   sudoers({ name: 'deploy', rules: [{ users: ['deploy'], commands: [{ command: '/usr/bin/systemctl restart app', options: ['NOPASSWD'] }] }] })
 *   →  security.sudo.extraRules = [ { users = [ "deploy" ]; groups = [ ]; host = "ALL"; runAs = "root"; commands = [ { command = "/usr/bin/systemctl restart app"; options = [ "NOPASSWD" ]; } ]; } ];
 */
export const nixosSudoers = nixosRenderer<WantedSudoers>((w): NixAttrs => {
  if (w.content === null) throw new Skip('on nixos a sudo rule goes away when no module declares it: remove the task that declares it');
  return {
    security: {
      sudo: {
        extraRules: w.lines.map((line) => ({ users: line.users, groups: line.groups, host: 'ALL', runAs: line.runAs, commands: [{ command: line.command, options: line.tags }] })),
      },
    },
  };
});
