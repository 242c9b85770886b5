import t from 'tap';
import type { ExecResult } from '../../lib/connection/types.ts';
import type { ApplyContext } from '../../lib/module/types.ts';
import type { ShellScript } from '../../lib/shell/quote.ts';
import { parsePathProbe } from '../../modules/file/observe.ts';
import { parseFirewallProbe } from '../../modules/firewalld/observe.ts';
import { parsePackagesProbe } from '../../modules/packages/observe.ts';
import { resolvePackages } from '../../modules/packages/params.ts';
import { podman } from '../../modules/quadlet/observe.ts';
import { parseGuarded } from '../../modules/selinux/observe.ts';
import { asUser, homeOf } from '../../modules/shared/account.ts';
import { BECOME_HINT, probeFailure } from '../../modules/shared/become.ts';
import { asList } from '../../modules/shared/list.ts';
import { applyService, applyTimer } from '../../modules/systemd/apply.ts';
import { parseUnitFiles, parseUnitState, unitFilesProbe, unitStateProbe } from '../../modules/systemd/observe.ts';
import { resolveService, resolveTimer } from '../../modules/systemd/params.ts';
import { systemctl, SYSTEM } from '../../modules/systemd/scope.ts';

const refused = (stderr: string): ExecResult => ({ code: 1, stdout: '', stderr });
const message = (f: () => unknown): string => {
  try {
    f();
  } catch (error) {
    return (error as Error).message;
  }
  return '(no error)';
};

t.test('a probe the host refused for want of root says the same in every module: needs root, set become: true', async (t) => {
  const hint = ` (needs root: ${BECOME_HINT})`;
  const files = { scope: SYSTEM, files: [{ file: 'a.service', content: 'x' }], verify: { files: true } } as const;
  const failures = {
    file: message(() => parsePathProbe('/root/x', refused('sha256sum: Permission denied'))),
    packages: message(() => parsePackagesProbe(resolvePackages({ present: ['nginx'] }), refused('error: rpmdb: Permission denied'))),
    unitFiles: message(() => parseUnitFiles(files, refused('base64: /etc/systemd/system/a.service: Permission denied'))),
    unitState: message(() => parseUnitState(SYSTEM, 'a.service', refused('Failed to get properties: Access denied'))),
    firewalld: message(() => parseFirewallProbe({ code: 1, stdout: '@mode online\n', stderr: 'Authorization failed.' })),
    selinux: message(() => parseGuarded({ code: 1, stdout: 'selinux: enabled\n', stderr: 'ValueError: SELinux policy is not managed or store cannot be accessed.' }, 'SELinux booleans')),
  };
  for (const [module, text] of Object.entries(failures)) t.ok(text.endsWith(hint), `${module}: ${text}`);
  t.equal(probeFailure('cannot read /srv/x', 'No such file or directory').message, 'cannot read /srv/x: No such file or directory', 'no hint where root would not help');
});

t.test("a user's manager and a user's podman are reached the same way, and a user's home is found the same way", async (t) => {
  const alice = { kind: 'user', user: 'alice' } as const;
  const prefix = asUser('alice').text;
  t.match(prefix, /^runuser -u alice -- sh -c '.*if \[ -d "\$d" \]; then export XDG_RUNTIME_DIR="\$d"; else unset XDG_RUNTIME_DIR; fi; exec "\$@"' sh$/);
  t.ok(systemctl(alice, ['start', 'x.service']).text.startsWith(`${prefix} systemctl --user`), 'systemctl --user');
  t.equal(podman(alice).text, `cd / && ${prefix} podman`, 'podman');
  const home = homeOf('alice').text;
  t.equal(home, '"$(getent passwd alice | cut -d: -f6)"');
  t.ok(unitFilesProbe({ scope: alice, files: [{ file: 'a.service', content: 'x' }], verify: { files: true } }).text.includes(`dir=${home}/.config/systemd/user`), 'unit files');
  t.ok(unitStateProbe(alice, 'a.service').text.includes(`${home}/.config/systemd/user`), 'unit state');
});

t.test('service and timer run their systemctl verbs in the one order, whatever order the plan found them in', async (t) => {
  const ran: string[] = [];
  const context = {
    run: async (script: ShellScript) => (ran.push(script.text), { code: 0, stdout: '', stderr: '' }),
    defer: () => undefined,
    // The verbs go with the daemon-reload they may need, in one command.
    runDeferred: async (_id: string, then?: ShellScript) => void (then && ran.push(then.text)),
  } as unknown as ApplyContext;
  const action = (verb: 'start' | 'enable' | 'unmask') => ({ summary: verb, action: { verb, reload: false } });
  await applyService(resolveService({ name: 'app', state: 'started' }), [action('start'), action('enable'), action('unmask')], context);
  const timer = resolveTimer({ name: 'job', onCalendar: 'daily', service: { execStart: '/bin/true' } });
  await applyTimer(timer, [action('start'), action('enable')].map((c) => ({ ...c, action: { control: c.action } })), context);
  t.same(
    ran.map((script) => [...script.matchAll(/systemctl (\w+) --/g)].map((m) => m[1])),
    [
      ['unmask', 'enable', 'start'],
      ['enable', 'start'],
    ],
  );
});

t.test('a parameter of one value or several reads as a list', async (t) => {
  t.same(asList('a'), ['a']);
  t.same(asList(['a', 'b']), ['a', 'b']);
  t.same(asList(undefined), []);
  t.same(asList(0), [0], 'a falsy value is still a value');
});
