// The 17-task workload of issue 10, for hostform: two users with exact SSH
// keys, a directory, ten templated files, a service and a timer unit, the
// timer enabled and started, firewalld's http service. bench/ansible/first-run.yml
// is the same workload for Ansible; both leave the same files, accounts,
// units and firewall behind.
import type { Step } from '../lib/playbook.ts';
import { file, firewalld, service, unit, user } from '../modules/index.ts';

export const USERS = ['alice', 'bob'] as const;
export const CONFIG_DIR = '/srv/app';
export const CONFIG_FILES = 10;

/** A fixed public key per user: the bench compares hosts byte for byte. */
export const keyOf = (name: string) => `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${name.padEnd(43, 'x').slice(0, 43)} ${name}@bench`;

export const configText = (i: number, hostName: string) => `# managed by the bench\nhost = ${hostName}\nindex = ${i}\n${`setting_${i} = value\n`.repeat(20)}`;

export const SERVICE_UNIT = `[Unit]
Description=bench report

[Service]
Type=oneshot
ExecStart=/usr/bin/true
`;

export const TIMER_UNIT = `[Unit]
Description=bench report timer

[Timer]
OnCalendar=daily
RandomizedDelaySec=1h

[Install]
WantedBy=timers.target
`;

export function firstRunWorkload(): Step[] {
  return [
    ...USERS.map((name) => user({ name, shell: '/bin/bash', authorizedKeys: [keyOf(name)] })),
    file({ path: CONFIG_DIR, state: 'directory', mode: '0755' }),
    ...Array.from({ length: CONFIG_FILES }, (_, k) =>
      file({ path: `${CONFIG_DIR}/app${k + 1}.conf`, template: (host) => configText(k + 1, host.name), mode: '0640', owner: 'alice', group: 'alice' }),
    ),
    unit({ name: 'bench-report.service', content: SERVICE_UNIT }),
    unit({ name: 'bench-report.timer', content: TIMER_UNIT }),
    service({ name: 'bench-report.timer', enabled: true, state: 'started' }),
    firewalld.service({ service: 'http' }),
  ];
}
