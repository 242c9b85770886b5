import t, { type Test } from 'tap';
import { Skip } from '../../lib/module/skip.ts';
import { forced } from '../../lib/nixos/value.ts';
import { dropIn, service, timer, unit } from '../../modules/index.ts';
import { parseUnitText } from '../../modules/systemd/nixos.ts';
import { renderTask } from '../support/nixos-samples.ts';

const skipNote = (t: Test, fn: () => unknown): string => {
  const error = t.throws(fn) as Skip;
  t.type(error, Skip, 'skipped, not failed');
  return error.note;
};

t.test('nixos systemd: a unit is its el9 text in systemd.units', async (t) => {
  t.same(
    renderTask(unit({ name: 'app.service', sections: { Unit: { Description: 'App' }, Service: { ExecStart: '/usr/local/bin/app', Restart: 'on-failure' }, Install: { WantedBy: 'multi-user.target' } } })),
    { systemd: { units: { 'app.service': { text: '[Unit]\nDescription=App\n\n[Service]\nExecStart=/usr/local/bin/app\nRestart=on-failure\n\n[Install]\nWantedBy=multi-user.target\n' } } } },
  );
  t.same(renderTask(unit({ name: 'data.mount', content: '[Mount]\nWhat=/dev/sdb1\nWhere=/data\n' })), { systemd: { units: { 'data.mount': { text: '[Mount]\nWhat=/dev/sdb1\nWhere=/data\n' } } } });
  t.match(skipNote(t, () => renderTask(unit({ name: 'old.service', state: 'absent' }))), /a unit is removed when no module declares it/);
  t.match(skipNote(t, () => renderTask(unit({ name: 'sync.service', content: '[Service]\nExecStart=/bin/true\n', scope: { user: 'alice' } }))), /unit sync\.service of user alice: nixos declares user units for every user at once/);
});

t.test('nixos systemd: a drop-in becomes the unit type\'s structured settings; single values forced, repeated ones appended', async (t) => {
  t.same(renderTask(dropIn({ unit: 'nginx.service', name: 'limits', sections: { Unit: { After: 'x.service' }, Service: { LimitNOFILE: 65536, ExecStart: ['', '/usr/bin/nginx -g "daemon off;"'] } } })), {
    systemd: {
      services: {
        nginx: {
          unitConfig: { After: forced('x.service') },
          serviceConfig: { LimitNOFILE: forced('65536'), ExecStart: ['', '/usr/bin/nginx -g "daemon off;"'] },
        },
      },
    },
  });
  t.same(forced('x'), { _type: 'override', priority: 50, content: 'x' }, 'forced is what lib.mkForce returns');
  t.same(renderTask(dropIn({ unit: 'backup.timer', name: 'later', content: '[Timer]\nRandomizedDelaySec=1h\n' })), { systemd: { timers: { backup: { timerConfig: { RandomizedDelaySec: forced('1h') } } } } });
});

t.test('nixos systemd: a drop-in for a template instance is declared as a drop-in, not a unit', async (t) => {
  t.same(renderTask(dropIn({ unit: 'getty@tty2.service', name: 'env', content: '[Service]\nEnvironment="TERM=vt100"\n' })), {
    systemd: { services: { 'getty@tty2': { overrideStrategy: 'asDropin', serviceConfig: { Environment: forced('"TERM=vt100"') } } } },
  });
});

t.test('nixos systemd: drop-ins NixOS has no form for fail with what to do', async (t) => {
  t.throws(() => renderTask(dropIn({ unit: 'app.service', name: 'install', sections: { Install: { WantedBy: 'multi-user.target' } } })), /nixos does not read \[Install\]; enable the unit with service\(\{ name: 'app.service', enabled: true \}\)/);
  t.throws(() => renderTask(dropIn({ unit: 'app.service', name: 'odd', sections: { Timer: { OnCalendar: 'daily' } } })), /a service unit has no \[Timer\] section/);
  t.throws(() => renderTask(dropIn({ unit: 'data.mount', name: 'opts', sections: { Mount: { Options: 'noatime' } } })), /nixos has no per-name options for mount units/);
  t.match(skipNote(t, () => renderTask(dropIn({ unit: 'app.service', name: 'old', state: 'absent' }))), /a drop-in's settings go away when no module declares them/);
});

t.test('nixos systemd: unit text parses into sections with repeated keys in order', async (t) => {
  const parsed = parseUnitText('# comment\n[Service]\nExecStart=\nExecStart=/bin/a \\\n  --flag\n; other\nUser = app\n');
  t.same([...parsed.entries()].map(([s, keys]) => [s, [...keys.entries()]]), [['Service', [['ExecStart', ['', '/bin/a    --flag']], ['User', ['app']]]]]);
  t.throws(() => parseUnitText('Key=value\n'), /not a unit file line/);
});

t.test('nixos systemd: enabling or starting a unit puts it in its boot target\'s wants', async (t) => {
  t.same(renderTask(service({ name: 'nginx', state: 'started', enabled: true })), { systemd: { units: { 'nginx.service': { wantedBy: ['multi-user.target'] } } } });
  t.same(renderTask(service({ name: 'nginx', state: 'started' })), { systemd: { units: { 'nginx.service': { wantedBy: ['multi-user.target'] } } } }, 'started alone: NixOS starts what boot wants');
  t.same(renderTask(service({ name: 'backup.timer', enabled: true })), { systemd: { units: { 'backup.timer': { wantedBy: ['timers.target'] } } } });
  t.same(renderTask(service({ name: 'app.socket', enabled: true, masked: false })), { systemd: { units: { 'app.socket': { wantedBy: ['sockets.target'] } } } });
});

t.test('nixos systemd: masking forces the unit\'s enable option off', async (t) => {
  t.same(renderTask(service({ name: 'cups', state: 'stopped', enabled: false, masked: true })), { systemd: { units: { 'cups.service': { enable: forced(false) } } } });
  t.throws(() => renderTask(service({ name: 'cups', enabled: true, masked: true })), /masked and enabled at once/);
});

t.test('nixos systemd: service states with no declarative form are skipped with the reason', async (t) => {
  t.equal(skipNote(t, () => renderTask(service({ name: 'app', state: 'restarted' }))), 'on nixos, nixos-rebuild switch restarts units whose definition changed');
  t.equal(skipNote(t, () => renderTask(service({ name: 'app', state: 'reloaded' }))), 'on nixos, nixos-rebuild switch reloads or restarts units whose definition changed');
  t.match(skipNote(t, () => renderTask(service({ name: 'app', state: 'stopped', enabled: false }))), /stopped and disabled when no module wants it/);
  t.match(skipNote(t, () => renderTask(service({ name: 'app', masked: false }))), /unmasked unless a module sets its enable option to false/);
  t.match(skipNote(t, () => renderTask(service({ name: 'app', state: 'started', enabled: false }))), /'started' but not enabled has no declarative form/);
  t.match(skipNote(t, () => renderTask(service({ name: 'sync', state: 'started', scope: { user: 'alice' } }))), /service sync\.service of user alice/);
});

t.test('nixos systemd: a timer is systemd.timers and systemd.services with structured options', async (t) => {
  t.same(
    renderTask(
      timer({
        name: 'backup',
        onCalendar: ['Mon *-*-* 03:00:00', 'Thu *-*-* 03:00:00'],
        persistent: true,
        randomizedDelaySec: '30m',
        service: { execStart: ['/usr/local/bin/backup --quiet', '/usr/local/bin/prune'], user: 'backup', group: 'backup', workingDirectory: '/srv', environment: { RESTIC_REPOSITORY: '/srv/backup' }, options: { Nice: 10 } },
      }),
    ),
    {
      systemd: {
        timers: {
          backup: {
            description: 'backup (hostform timer)',
            wantedBy: ['timers.target'],
            timerConfig: { OnCalendar: ['Mon *-*-* 03:00:00', 'Thu *-*-* 03:00:00'], Persistent: true, RandomizedDelaySec: '30m' },
          },
        },
        services: {
          backup: {
            description: 'backup (hostform timer)',
            environment: { RESTIC_REPOSITORY: '/srv/backup' },
            serviceConfig: { Type: 'oneshot', ExecStart: ['/usr/local/bin/backup --quiet', '/usr/local/bin/prune'], User: 'backup', Group: 'backup', WorkingDirectory: '/srv', Nice: 10 },
          },
        },
      },
    },
  );
  t.match(skipNote(t, () => renderTask(timer({ name: 'sync', onBootSec: '5m', service: { execStart: '/bin/true' }, scope: { user: 'alice' } }))), /timer sync of user alice/);
});
