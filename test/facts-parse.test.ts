import t from 'tap';
import { detectPlatform, parseFacts, parseOsRelease } from '../lib/facts/gather.ts';

const MARK = '@@hostform-fact';

function output(osRelease: string, overrides: Partial<Record<string, string>> = {}): string {
  const values = { kernel: '5.14.0-427.el9.x86_64', arch: 'x86_64', hostname: 'web1', user: 'deploy', uid: '1000', sudo: 'yes', ...overrides };
  return [
    `${MARK} os-release`,
    osRelease,
    '',
    ...['kernel', 'arch', 'hostname', 'user', 'uid', 'sudo'].flatMap((k) => [`${MARK} ${k}`, values[k as keyof typeof values] ?? '']),
    `${MARK} end`,
    '',
  ].join('\n');
}

const rocky9 = `NAME="Rocky Linux"
VERSION="9.4 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.4"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"`;

const nixos = `BUILD_ID="24.05.20240901.abcdef"
ID=nixos
NAME=NixOS
PRETTY_NAME="NixOS 24.05 (Uakari)"
VERSION_ID="24.05"`;

t.test('facts: captured output from a Rocky 9 host parses into every fact', async (t) => {
  const facts = parseFacts(output(rocky9));
  if (facts instanceof Error) throw facts;
  t.same(facts, {
    osRelease: {
      NAME: 'Rocky Linux',
      VERSION: '9.4 (Blue Onyx)',
      ID: 'rocky',
      ID_LIKE: 'rhel centos fedora',
      VERSION_ID: '9.4',
      PLATFORM_ID: 'platform:el9',
      PRETTY_NAME: 'Rocky Linux 9.4 (Blue Onyx)',
    },
    platform: 'el9',
    kernel: '5.14.0-427.el9.x86_64',
    arch: 'x86_64',
    hostname: 'web1',
    user: 'deploy',
    uid: 1000,
    canBecome: true,
  });
});

t.test('facts: NixOS is detected by its ID', async (t) => {
  const facts = parseFacts(output(nixos, { user: 'root', uid: '0' }));
  if (facts instanceof Error) throw facts;
  t.equal(facts.platform, 'nixos');
  t.equal(facts.uid, 0);
});

t.test('facts: the inventory platform wins over detection', async (t) => {
  const facts = parseFacts(output(rocky9), 'linux');
  t.equal(facts instanceof Error ? facts : facts.platform, 'linux');
});

t.test('facts: a user whose sudo needs a password cannot become', async (t) => {
  const facts = parseFacts(output(rocky9, { sudo: 'no' }));
  t.equal(facts instanceof Error ? facts : facts.canBecome, false);
});

t.test('facts: a host without os-release is plain linux', async (t) => {
  const facts = parseFacts(output(''));
  if (facts instanceof Error) throw facts;
  t.same(facts.osRelease, {});
  t.equal(facts.platform, 'linux');
});

t.test('facts: truncated output is an error that names the missing parts', async (t) => {
  const cut = output(rocky9).split(`${MARK} uid`)[0] ?? '';
  const result = parseFacts(cut);
  t.type(result, Error);
  t.match(result instanceof Error ? result.message : '', /missing: uid, sudo, end/);
});

t.test('facts: EL 9 clones and CentOS Stream are el9; EL 8, Fedora and Debian are linux', async (t) => {
  t.equal(detectPlatform({ ID: 'almalinux', ID_LIKE: 'rhel centos fedora', VERSION_ID: '9.3' }), 'el9');
  t.equal(detectPlatform({ ID: 'centos', ID_LIKE: 'rhel fedora', VERSION_ID: '9' }), 'el9');
  t.equal(detectPlatform({ ID: 'rhel', ID_LIKE: 'fedora', VERSION_ID: '9.4' }), 'el9');
  t.equal(detectPlatform({ ID: 'rocky', ID_LIKE: 'rhel centos fedora', VERSION_ID: '8.9' }), 'linux');
  t.equal(detectPlatform({ ID: 'fedora', VERSION_ID: '40' }), 'linux');
  t.equal(detectPlatform({ ID: 'debian', VERSION_ID: '12' }), 'linux');
});

t.test('facts: os-release values lose their quotes and shell escapes', async (t) => {
  t.same(parseOsRelease(`A="say \\"hi\\" for \\$5"\nB='single'\nC=bare\n# comment\nnot a line`), {
    A: 'say "hi" for $5',
    B: 'single',
    C: 'bare',
  });
});
