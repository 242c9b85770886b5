import t from 'tap';
import { candidateCheck, parseEffective } from '../../modules/sshd/apply.ts';
import { authorizedKeysFiles, lockoutReasons, matchPattern, matchUser } from '../../modules/sshd/lockout.ts';
import { parseLogin, type LoginView } from '../../modules/sshd/login.ts';
import { resolveDropIn } from '../../modules/sshd/params.ts';

// `sshd -T -C user=root,...` on a test host (OpenSSH 10.0), the keywords the lock-out check reads.
const DEFAULTS = `port 22
listenaddress [::]:22
listenaddress 0.0.0.0:22
maxsessions 10
permitrootlogin without-password
pubkeyauthentication yes
usedns no
forcecommand none
authorizedkeyscommand none
authorizedkeysfile .ssh/authorized_keys .ssh/authorized_keys2
authenticationmethods any
`;
const root: LoginView = parseLogin({ code: 0, stderr: '', stdout: '10.213.0.1 50358 10.213.0.2 22\nroot\n0\nroot\n/root\n' });
const admin: LoginView = { ...root, user: 'admin', uid: 1000, groups: ['admin', 'wheel'], home: '/home/admin' };

/** The defaults with some lines replaced (same keyword) or added. */
function effective(changed: string): Map<string, string[]> {
  const lines = changed.split('\n').filter(Boolean);
  const keywords = new Set(lines.map((l) => l.split(' ')[0]));
  return parseEffective([...DEFAULTS.split('\n').filter((l) => l && !keywords.has(l.split(' ')[0])), ...lines].join('\n'));
}

t.test('sshd lock-out: the login probe gives the user, groups, home and both ends of the connection as the host saw them', async (t) => {
  t.same(root, { user: 'root', uid: 0, groups: ['root'], home: '/root', clientAddress: '10.213.0.1', serverAddress: '10.213.0.2', serverPort: 22 });
  t.throws(() => parseLogin({ code: 0, stderr: '', stdout: '\nroot\n0\nroot\n/root\n' }), /unexpected output from the login probe/, 'no SSH_CONNECTION: not an SSH login');
});

t.test('sshd lock-out: the defaults let hostform in', async (t) => {
  t.same(lockoutReasons(effective(''), root), []);
  t.same(lockoutReasons(effective(''), admin), []);
});

t.test('sshd lock-out: each setting that turns hostform away is named with the reason', async (t) => {
  const cases: [string, LoginView, RegExp][] = [
    ['listenaddress 127.0.0.1:22\nlistenaddress [::1]:22', root, /sshd would listen on 127\.0\.0\.1:22, \[::1\]:22, and hostform's connection arrives at 10\.213\.0\.2 port 22 \(Port, ListenAddress\)/],
    ['listenaddress 0.0.0.0:2222', root, /listen on 0\.0\.0\.0:2222/],
    ['listenaddress [::]:22', root, /listen on \[::\]:22,? and/],
    ['listenaddress 10.213.0.3:22', root, /listen on 10\.213\.0\.3:22/],
    ['pubkeyauthentication no', root, /^PubkeyAuthentication no/],
    ['authenticationmethods password publickey,password', root, /^AuthenticationMethods password publickey,password: no list/],
    ['permitrootlogin no', root, /^PermitRootLogin no: hostform logs in as root$/],
    ['permitrootlogin forced-commands-only', root, /^PermitRootLogin forced-commands-only/],
    ['maxsessions 0', root, /^MaxSessions 0/],
    ['forcecommand /bin/false', root, /^ForceCommand \/bin\/false/],
    ['allowusers admin', root, /^AllowUsers admin does not include root from 10\.213\.0\.1/],
    ['allowusers root@192.0.2.1\nallowusers admin@10.213.0.1', root, /^AllowUsers root@192\.0\.2\.1 admin@10\.213\.0\.1 does not include root/],
    ['denyusers r*', root, /^DenyUsers r\* matches root from 10\.213\.0\.1/],
    ['denyusers *@10.213.0.0/16', root, /^DenyUsers \*@10\.213\.0\.0\/16/],
    ['allowgroups sudo', root, /^AllowGroups sudo includes no group of root \(root\)/],
    ['denygroups wh??l', admin, /^DenyGroups wh\?\?l matches a group of admin \(admin wheel\)/],
  ];
  for (const [lines, login, reason] of cases) {
    const reasons = lockoutReasons(effective(lines), login);
    t.equal(reasons.length, 1, `${lines}: ${reasons.join(' | ')}`);
    t.match(reasons[0], reason, lines);
  }
});

t.test('sshd lock-out: what still lets hostform in is not refused', async (t) => {
  for (const lines of [
    'listenaddress 10.213.0.2:22',
    'listenaddress 0.0.0.0:22\nlistenaddress 0.0.0.0:2222',
    'authenticationmethods publickey password',
    'authenticationmethods publickey,publickey',
    'permitrootlogin yes',
    'permitrootlogin prohibit-password',
    'allowusers admin\nallowusers ro?t',
    'allowusers root@10.213.0.0/16',
    'allowusers root@10.213.*',
    'allowusers *@192.0.2.1,10.213.0.1',
    'denyusers root@192.0.2.0/24',
    'denyusers admin',
    'allowgroups ro*',
    // With UseDNS the client's name decides, which only the login after the reload can tell.
    'usedns yes\nallowusers root@*.example.org',
  ]) {
    t.same(lockoutReasons(effective(lines), root), [], lines);
  }
  t.same(lockoutReasons(effective('permitrootlogin no'), admin), [], 'PermitRootLogin does not concern other users');
});

t.test("sshd lock-out: user patterns follow sshd's match_user, host lists with CIDR, wildcards and negation", async (t) => {
  const from = (address: string, dnsNames = false) => ({ address, dnsNames });
  t.equal(matchUser('root', from('10.1.2.3'), 'root'), true);
  t.equal(matchUser('root', from('10.1.2.3'), 'Root'), false, 'user names are case-sensitive');
  t.equal(matchUser('root', from('10.1.2.3'), 'root@10.0.0.0/8'), true);
  t.equal(matchUser('root', from('10.1.2.3'), 'root@10.0.0.0/8,!10.1.2.3'), false, 'a negated entry wins');
  t.equal(matchUser('root', from('10.1.2.3'), 'root@10.1.2.?'), true);
  t.equal(matchUser('root', from('10.1.2.3'), 'root@192.0.2.1'), false);
  t.equal(matchUser('user@corp', from('10.1.2.3'), 'user@corp@10.1.2.3'), true, 'the host part starts after the last @');
  t.equal(matchUser('root', from('2001:db8::5'), 'root@2001:db8::/32'), true);
  t.equal(matchUser('root', from('2001:db8::5'), 'root@2001:db9::/32'), false);
  t.equal(matchUser('root', from('10.1.2.3', true), 'root@host.example.org'), undefined, 'a DNS name needs the lookup sshd makes');
  t.equal(matchUser('root', from('10.1.2.3', true), 'root@!10.1.2.3,*'), false);
  t.ok(matchPattern('a.b', 'a.?') && !matchPattern('axb', 'a.b') && matchPattern('', '*'), 'only * and ? are special');
});

t.test('sshd lock-out: AuthorizedKeysFile is expanded as sshd does, and a command may stand in for files', async (t) => {
  t.same(authorizedKeysFiles(effective(''), root), ['/root/.ssh/authorized_keys', '/root/.ssh/authorized_keys2']);
  t.same(authorizedKeysFiles(effective('authorizedkeysfile /etc/ssh/keys/%u %h/k %U%%'), admin), ['/etc/ssh/keys/admin', '/home/admin/k', '/home/admin/1000%']);
  t.same(authorizedKeysFiles(effective('authorizedkeysfile none'), root), []);
  t.equal(authorizedKeysFiles(effective('authorizedkeyscommand /usr/bin/sss_ssh_authorizedkeys %u'), root), undefined);
});

t.test("sshd lock-out: the candidate check asks sshd -T -C for the values that apply to hostform's login", async (t) => {
  const script = candidateCheck(resolveDropIn({ options: { MaxAuthTries: 3 } }), root).text;
  t.match(script, /sshd -T -f "\$tmp\/sshd_config" \|\| exit \$\?\necho '?@@hostform-login'?\nsshd -T -f "\$tmp\/sshd_config" -C '?user=root,host=10\.213\.0\.1,addr=10\.213\.0\.1,laddr=10\.213\.0\.2,lport=22'?$/);
  t.notMatch(candidateCheck(resolveDropIn({ options: { MaxAuthTries: 3 } })).text, /-C/, 'without a login (a local host) there is nothing to ask');
});
