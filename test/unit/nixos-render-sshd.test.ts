import t from 'tap';
import { Skip } from '../../lib/module/skip.ts';
import { sshd } from '../../modules/index.ts';
import { renderTask } from '../support/nixos-samples.ts';

t.test('nixos sshd: typed options land in services.openssh.settings with the types NixOS declares', async (t) => {
  t.same(
    renderTask(
      sshd.config({
        options: {
          PermitRootLogin: 'prohibit-password',
          PasswordAuthentication: false,
          KbdInteractiveAuthentication: false,
          X11Forwarding: false,
          MaxAuthTries: 3,
          AllowUsers: ['alice', 'deploy'],
          AllowGroups: ['wheel'],
          Ciphers: ['aes256-gcm@openssh.com'],
          LogLevel: 'VERBOSE',
          ClientAliveInterval: 300,
        },
      }),
    ),
    {
      services: {
        openssh: {
          enable: true,
          settings: {
            PermitRootLogin: 'prohibit-password',
            PasswordAuthentication: false,
            KbdInteractiveAuthentication: false,
            X11Forwarding: false,
            MaxAuthTries: 3,
            AllowUsers: ['alice', 'deploy'],
            AllowGroups: ['wheel'],
            Ciphers: ['aes256-gcm@openssh.com'],
            LogLevel: 'VERBOSE',
            ClientAliveInterval: 300,
          },
        },
      },
    },
  );
});

t.test('nixos sshd: NixOS spellings, enum strings for booleans, and joined lists where NixOS takes none', async (t) => {
  t.same(renderTask(sshd.config({ options: { MACs: ['hmac-sha2-512-etm@openssh.com'], UseDNS: false, PermitRootLogin: false, GatewayPorts: true, HostKeyAlgorithms: ['ssh-ed25519', 'rsa-sha2-512'], AuthenticationMethods: ['publickey', 'password'], AllowTcpForwarding: 'local' } })), {
    services: {
      openssh: {
        enable: true,
        settings: {
          Macs: ['hmac-sha2-512-etm@openssh.com'],
          UseDns: false,
          PermitRootLogin: 'no',
          GatewayPorts: 'yes',
          HostKeyAlgorithms: 'ssh-ed25519,rsa-sha2-512',
          AuthenticationMethods: 'publickey password',
          AllowTcpForwarding: 'local',
        },
      },
    },
  });
});

t.test('nixos sshd: Port, ListenAddress and AuthorizedKeysFile use their own options; extra keywords go to extraConfig', async (t) => {
  t.same(renderTask(sshd.config({ name: 'net', order: 10, options: { Port: [22, 2222], ListenAddress: ['0.0.0.0', '[::]:2222'], AuthorizedKeysFile: ['.ssh/authorized_keys2'] }, extra: { VersionAddendum: 'none', Ciphers: 'aes256-ctr' } })), {
    services: {
      openssh: {
        enable: true,
        ports: [22, 2222],
        listenAddresses: [{ addr: '0.0.0.0' }, { addr: '[::]:2222' }],
        authorizedKeysFiles: ['.ssh/authorized_keys2'],
        extraConfig: 'Ciphers aes256-ctr\nVersionAddendum none\n',
      },
    },
  });
  t.same(renderTask(sshd.config({ options: { Port: 2222 } })), { services: { openssh: { enable: true, ports: [2222] } } }, 'one port is a list of one');
});

t.test('nixos sshd: an absent drop-in is skipped with the reason', async (t) => {
  const skip = t.throws(() => renderTask(sshd.config({ name: 'sftp', order: 10, state: 'absent' }))) as Skip;
  t.type(skip, Skip);
  t.match(skip.note, /on nixos an sshd setting goes back to its default when no module sets it/);
});
