import t from 'tap';
import { Skip } from '../../lib/module/skip.ts';
import { fail2ban } from '../../modules/index.ts';
import { renderTask } from '../support/nixos-samples.ts';

t.test('nixos fail2ban: a jail enables fail2ban and carries its keys in jails.<name>.settings', async (t) => {
  t.same(renderTask(fail2ban.jail({ name: 'sshd', backend: 'systemd', journalmatch: '_SYSTEMD_UNIT=sshd.service', maxretry: 3, findtime: '10m', bantime: '1h', bantimeIncrement: true })), {
    services: {
      fail2ban: {
        enable: true,
        jails: {
          sshd: {
            enabled: true,
            settings: { backend: 'systemd', journalmatch: '_SYSTEMD_UNIT=sshd.service', maxretry: 3, findtime: '10m', bantime: '1h', 'bantime.increment': true },
          },
        },
      },
    },
  });
});

t.test('nixos fail2ban: lists become the INI text fail2ban reads, per jail, as on el9', async (t) => {
  t.same(
    renderTask(
      fail2ban.jail({
        name: 'nginx-http-auth',
        enabled: false,
        port: ['http', 443, '8000:8100'],
        protocol: 'tcp',
        filter: 'nginx-http-auth[mode=aggressive]',
        logpath: ['/var/log/nginx/error.log', '/var/log/nginx/other.log'],
        bantimeIncrement: { factor: 1.5, maxtime: '1w', overalljails: true },
        ignoreip: ['10.0.0.0/8', '192.0.2.1'],
        banaction: 'nftables-multiport',
        action: ['%(action_)s', '%(action_mw)s'],
        options: { usedns: 'no', mode: 'normal' },
      }),
    ),
    {
      services: {
        fail2ban: {
          enable: true,
          jails: {
            'nginx-http-auth': {
              enabled: false,
              settings: {
                port: 'http,443,8000:8100',
                protocol: 'tcp',
                filter: 'nginx-http-auth[mode=aggressive]',
                logpath: '/var/log/nginx/error.log\n          /var/log/nginx/other.log',
                'bantime.increment': true,
                'bantime.factor': '1.5',
                'bantime.maxtime': '1w',
                'bantime.overalljails': true,
                ignoreip: '10.0.0.0/8 192.0.2.1',
                banaction: 'nftables-multiport',
                action: '%(action_)s\n         %(action_mw)s',
                usedns: 'no',
                mode: 'normal',
              },
            },
          },
        },
      },
    },
  );
});

t.test('nixos fail2ban: filters and actions are their el9 text as .local files in /etc/fail2ban', async (t) => {
  const filter = fail2ban.filter({ name: 'myapp', failregex: '^Login failed for .* from <HOST>$', datepattern: '^%%Y-%%m-%%d %%H:%%M:%%S' });
  const content = (filter.module.resolve(filter.params, { name: 'h', groups: [], vars: {}, facts: {} } as never) as { content: string }).content;
  t.same(renderTask(filter), { environment: { etc: { 'fail2ban/filter.d/myapp.local': { text: content } } } });
  t.match(content, /^failregex = \^Login failed for \.\* from <HOST>\$$/m);
  t.same(Object.keys((renderTask(fail2ban.action({ name: 'log-ban', actionban: 'logger "ban <ip>"' })) as { environment: { etc: object } }).environment.etc), ['fail2ban/action.d/log-ban.local']);
});

t.test('nixos fail2ban: absent jails, filters and actions are skipped with the reason', async (t) => {
  for (const task of [fail2ban.jail({ name: 'old', state: 'absent' }), fail2ban.filter({ name: 'old', state: 'absent' }), fail2ban.action({ name: 'old', state: 'absent' })]) {
    const skip = t.throws(() => renderTask(task)) as Skip;
    t.type(skip, Skip);
    t.match(skip.note, /^on nixos a (jail|filter|action) .*is gone when no module declares it/);
  }
});
