import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { Task } from '../lib/module/types.ts';
import { isNixosRenderer } from '../lib/nixos/renderer.ts';
import { file, nixos, quadlet, timer, user } from '../modules/index.ts';
import { registeredModules } from '../modules/registry.ts';
import { literalValue } from '../modules/systemd/sections.ts';
import { base, hardening, homeassistant } from '../roles/index.ts';
import { assertNixosOptions, evaluated, evaluateModules, evaluateModuleText, evaluateTasks, evaluationSummary, including, matching, NixosEvalError, renderPlay, type OptionPath } from './support/nixos-eval.ts';
import { SAMPLE_PLAYS } from './support/nixos-samples.ts';

// Every NixOS rendering the tests make is evaluated here with the real NixOS
// module system of 2024-08 (nixos/ and lib/ vendored in test/support/nixos-eval,
// stub packages; see its README), down to config.system.build.toplevel, and
// its options are read back: an option that does not exist, a wrong type, a
// conflict or a failed assertion fails the test, and so does a value that does
// not mean what the task asked. Nothing is built and no NixOS host runs.

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0example alice@laptop';
const samples = (name: string) => SAMPLE_PLAYS[name] ?? [];

t.test('nixos eval: every module with a NixOS renderer has a sample play that is evaluated', async (t) => {
  const sampled = new Set(Object.values(SAMPLE_PLAYS).flatMap((tasks) => tasks.map((task) => task.module.name)));
  const renderers = registeredModules.filter((m) => isNixosRenderer(m.definition.backends.nixos)).map((m) => m.definition.name);
  t.ok(renderers.length >= 20, `${renderers.length} modules render on NixOS`);
  t.same(
    renderers.filter((name) => !sampled.has(name)),
    [],
    'add a task of each to test/support/nixos-samples.ts',
  );
});

t.test('nixos eval: files render to environment.etc and tmpfiles rules that NixOS accepts as meant', async (t) => {
  await assertNixosOptions(t, samples('files'), {
    'environment.etc.motd.text': 'Welcome ${USER} "home"\n',
    'environment.etc.motd.mode': '0644',
    'environment.etc."app/config.toml".text': 'host = "nix1"\n',
    'environment.etc."app/config.toml".mode': 'symlink',
    'environment.etc."app/owned.conf".user': 'nobody',
    'environment.etc."app/owned.conf".group': 'nogroup',
    'systemd.tmpfiles.rules': including(['R /srv/old', 'L+ /srv/current - - - - /srv/backup', 'd /srv/backup 0750 root - -', 'f+ /srv/app/banner - - - - \\x20\\x20indented, 100%%\\n']),
  });
});

t.test('nixos eval: packages become environment.systemPackages', async (t) => {
  const result = await evaluateTasks(samples('packages'), { values: ['environment.systemPackages'] });
  const names = (result.values['environment.systemPackages'] as string[]).map((path) => path.replace(/^\/nix\/store\/[a-z0-9]{32}-/, ''));
  t.has(names, ['htop', 'requests', 'libstdc++', 'openssl'], 'the four packages come first, from the pkgs attributes named');
  evaluated.values += 1;
});

t.test('nixos eval: users and groups become users.users and users.groups', async (t) => {
  await assertNixosOptions(t, samples('users'), {
    'users.users.alice.openssh.authorizedKeys.keys': [KEY],
    'users.users.alice.isNormalUser': true,
    'users.users.alice.uid': 1001,
    'users.users.alice.extraGroups': ['wheel', 'media'],
    'users.users.alice.description': 'Alice "A" ${x}',
    'users.users.zed.hashedPassword': '!',
    'users.users.backup.isSystemUser': true,
    'users.users.backup.group': 'backup',
    'users.users.backup.home': '/var/lib/backup',
    'users.users.backup.shell': '/run/current-system/sw/bin/nologin',
    'users.groups.media.gid': 1500,
    'users.groups.media.members': ['alice', 'zed'],
    'programs.zsh.enable': true,
  });
});

t.test('nixos eval: systemd units, drop-ins, services and timers mean what the tasks said', async (t) => {
  await assertNixosOptions(t, samples('systemd'), {
    'systemd.timers.backup.timerConfig': { OnCalendar: 'daily', Persistent: true, RandomizedDelaySec: '30m' },
    'systemd.timers.backup.wantedBy': ['timers.target'],
    'systemd.services.backup.serviceConfig': { ExecStart: '/usr/local/bin/backup --quiet', Nice: 10, Type: 'oneshot', User: 'backup' },
    'systemd.services.backup.environment': matching({ RESTIC_REPOSITORY: '/srv/backup' }),
    'systemd.units."app.service".text': '[Unit]\nDescription=App ${HOME}\nAfter=network-online.target\n\n[Service]\nExecStart=/usr/local/bin/app --port 8080\nEnvironment="A=b c"\n\n[Install]\nWantedBy=multi-user.target\n',
    'systemd.units."app.service".wantedBy': ['multi-user.target'],
    'systemd.services.nginx.serviceConfig': { ExecStart: ['', '/usr/bin/nginx -g "daemon off;"'], LimitNOFILE: '65536' },
    'systemd.services."getty@tty2".serviceConfig': { Environment: '"TERM=vt100"' },
    'systemd.services."getty@tty2".overrideStrategy': 'asDropin',
    'systemd.units."cups.service".enable': false,
  });
});

t.test('nixos eval: containers become oci-containers run by podman', async (t) => {
  const result = await assertNixosOptions(t, samples('containers'), {
    'virtualisation.oci-containers.backend': 'podman',
    'virtualisation.oci-containers.containers.web.image': 'docker.io/library/nginx:1.27',
    'virtualisation.oci-containers.containers.web.ports': ['8080:80'],
    'virtualisation.oci-containers.containers.web.autoStart': true,
    'virtualisation.oci-containers.containers.web.environment': { GREETING: 'say "hi" ${USER}', TZ: 'Europe/Berlin' },
    'virtualisation.oci-containers.containers.web.extraOptions': ['--health-cmd=curl -f http://localhost/ || exit 1', '--cap-add=NET_BIND_SERVICE'],
    'systemd.services.podman-web.serviceConfig': matching({ Restart: 'on-failure', TimeoutStartSec: 900 }),
    'virtualisation.oci-containers.containers.job.autoStart': false,
    'virtualisation.oci-containers.containers.job.user': '1000:1000',
    'virtualisation.oci-containers.containers.job.cmd': ['/job', '--once'],
  });
  t.ok(result.drvPath?.endsWith('.drv'));
});

t.test('nixos eval: firewall ports become networking.firewall', async (t) => {
  await assertNixosOptions(t, samples('firewall'), {
    'networking.firewall.allowedTCPPorts': [22, 53, 80, 443, 8080],
    'networking.firewall.allowedUDPPorts': [53],
    'networking.firewall.allowedTCPPortRanges': [{ from: 8000, to: 8010 }],
    'networking.firewall.allowedUDPPortRanges': [{ from: 60000, to: 61000 }],
  });
});

t.test('nixos eval: fail2ban jails, filters and actions become services.fail2ban and its files', async (t) => {
  await assertNixosOptions(t, samples('fail2ban'), {
    'services.fail2ban.enable': true,
    'services.fail2ban.jails.sshd.enabled': true,
    'services.fail2ban.jails.sshd.settings': { bantime: '1h', 'bantime.factor': 2, 'bantime.increment': true, 'bantime.maxtime': '1w', ignoreip: '192.0.2.0/24', maxretry: 3 },
    'services.fail2ban.jails.myapp.settings': { action: '%(action_)s\n         log-ban', backend: 'auto', filter: 'myapp', logpath: '/var/log/myapp/a.log\n          /var/log/myapp/b.log', port: 'http,https' },
    'environment.etc."fail2ban/filter.d/myapp.local".text': matching(/failregex = \^Login failed for \.\* from <HOST>\$\n {12}\^Bad token from <HOST> "\$\{x\}"\$\n/),
    'environment.etc."fail2ban/action.d/log-ban.local".text': matching(/actionban = logger -t fail2ban "ban <ip> in <name>"\n/),
  });
});

t.test('nixos eval: sshd settings become services.openssh', async (t) => {
  await assertNixosOptions(t, samples('sshd'), {
    'services.openssh.enable': true,
    'services.openssh.ports': [22, 2222],
    'services.openssh.settings': matching({
      AllowGroups: ['wheel'],
      KbdInteractiveAuthentication: false,
      LoginGraceTime: '30s',
      Macs: ['hmac-sha2-512-etm@openssh.com'],
      MaxAuthTries: 3,
      PasswordAuthentication: false,
      PermitRootLogin: 'prohibit-password',
      UseDns: false,
      X11Forwarding: false,
    }),
    'services.openssh.extraConfig': matching(/\nVersionAddendum none\n$/),
  });
});

t.test('nixos eval: nixos.options sets services hostform has no module for', async (t) => {
  await assertNixosOptions(t, samples('options'), {
    'services.prometheus.port': 9090,
    'services.prometheus.scrapeConfigs': matching([{ job_name: 'node', static_configs: [{ targets: ['localhost:9100'] }] }]),
    'services.prometheus.exporters.node.enabledCollectors': ['systemd'],
    'services.loki.configuration': { auth_enabled: false, server: { http_listen_port: 3100 } },
    'services.tailscale.useRoutingFeatures': 'client',
    'services.tailscale.package': matching(/-tailscale$/),
    'system.autoUpgrade.dates': '04:40',
    'systemd.timers.nixos-upgrade.timerConfig': matching({ OnCalendar: ['04:40'] }),
    'nix.gc.options': '--delete-older-than 30d',
    'networking.firewall.allowedTCPPorts': [9090],
  });
});

t.test('nixos eval: every sample play together, one module per play as on a host, is one NixOS system', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hostform-nixos-plays-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const files = Object.entries(SAMPLE_PLAYS).map(([name, tasks]) => {
    const path = join(dir, `${name}.nix`);
    writeFileSync(path, renderPlay(tasks, { name }).module ?? '');
    return path;
  });
  const result = await evaluateModules(files, { values: ['networking.firewall.allowedTCPPorts'] });
  t.match(result.drvPath, /^\/nix\/store\/\w{32}-nixos-system-[\w.-]+\.drv$/);
  t.same(result.values['networking.firewall.allowedTCPPorts'], [22, 53, 80, 443, 2222, 8080, 9090], 'every play opens its ports; sshd opens its own');
  evaluated.values += 1;
});

t.test('nixos eval: a rendering that uses an option NixOS does not have fails the evaluation', async (t) => {
  const play = renderPlay([nixos.options({ services: { openssh: { settingz: { PermitRootLogin: 'no' } } } })]);
  await t.rejects(evaluateModuleText(play.module ?? ''), { name: 'NixosEvalError', stderr: /The option `services\.openssh\.settingz' does not exist/ });
  await t.rejects(evaluateModuleText(renderPlay([nixos.options({ networking: { firewall: { allowedTCPPorts: ['http'] } } })]).module ?? ''), NixosEvalError, 'nor one of the wrong type');
});

// ── the five defects of issue 15, each evaluated ─────────────────────────

t.test('nixos eval: a container wanted by default.target starts at boot (autoStart)', async (t) => {
  await assertNixosOptions(t, [quadlet.container({ name: 'desk', image: 'localhost/desk:1', wantedBy: ['default.target'] })], {
    'virtualisation.oci-containers.containers.desk.autoStart': true,
  });
});

t.test('nixos eval: a file under /etc with an owner but no mode is copied with that owner, mode 0644', async (t) => {
  await assertNixosOptions(t, [file({ path: '/etc/app.conf', content: 'x\n', owner: 'nobody' }), file({ path: '/etc/app2.conf', content: 'y\n', group: 'nogroup' })], {
    'environment.etc."app.conf".mode': '0644',
    'environment.etc."app.conf".user': 'nobody',
    'environment.etc."app2.conf".mode': '0644',
    'environment.etc."app2.conf".group': 'nogroup',
  });
});

t.test("nixos eval: a container's extra [Service] keys win over oci-containers' own, and lists add to them", async (t) => {
  await assertNixosOptions(t, samples('containers'), {
    'systemd.services.podman-desk.serviceConfig': matching({ TimeoutStopSec: 30, Environment: ['PODMAN_SYSTEMD_UNIT=podman-desk.service', 'A=1'] }),
    'virtualisation.oci-containers.containers.desk.autoStart': true,
  });
});

/** The file systemd-tmpfiles makes from each `f+` rule of an evaluated configuration, under a scratch root. */
function tmpfilesResult(rules: readonly string[], paths: readonly string[]): Map<string, Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'hostform-tmpfiles-'));
  try {
    mkdirSync(join(dir, 'root', 'srv'), { recursive: true });
    writeFileSync(join(dir, 'hostform.conf'), `${rules.join('\n')}\n`);
    const run = spawnSync('systemd-tmpfiles', ['--create', `--root=${join(dir, 'root')}`, join(dir, 'hostform.conf')], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`systemd-tmpfiles failed (${run.status ?? run.error?.message}): ${run.stderr}`);
    return new Map(paths.map((path) => [path, readFileSync(join(dir, 'root', path))]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

t.test('nixos eval: a file outside /etc keeps spaces at either end of its content through systemd-tmpfiles', async (t) => {
  const contents = ['  two leading spaces', 'two trailing spaces  ', ' ', '', ' both \n', '\ttab and 100% and \\ backslash\r\n'];
  const tasks = contents.map((content, i) => file({ path: `/srv/f${i}`, content }));
  const result = await evaluateTasks(tasks, { values: ['systemd.tmpfiles.rules'] });
  const rules = (result.values['systemd.tmpfiles.rules'] as string[]).filter((r) => r.startsWith('f+ /srv/'));
  t.equal(rules.length, contents.length, 'every file is a rule NixOS keeps');
  const made = tmpfilesResult(rules, contents.map((_, i) => `/srv/f${i}`));
  contents.forEach((content, i) => t.equal(made.get(`/srv/f${i}`)?.toString('utf8'), content, JSON.stringify(content)));
  evaluated.values += contents.length;
});

// ── generated adversarial strings ────────────────────────────────────────

/** A small seeded generator, so a failure names a string that can be made again. */
function strings(seed: number, count: number): string[] {
  const pieces = ['"', '\\', '${', '$${', "''", "''${", "'''", '$', '{', '}', '\n', '\t', '\r', '#', ';', '/*', '*/', 'é', '🦀', '\u2028', ' ', '%', '%%', '%n', '\\n', '\\${', '\x01', '\x7f', 'a', 'x y', '=', ':', '`', 'if', 'let', '<', '>', '[', ']'];
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state;
  };
  return Array.from({ length: count }, () => Array.from({ length: 1 + (next() % 8) }, () => pieces[next() % pieces.length]).join(''));
}

const SEED = 15;

t.test(`nixos eval: generated adversarial strings reach NixOS options unchanged through every renderer (seed ${SEED})`, async (t) => {
  const all = strings(SEED, 60);
  const tasks: Task[] = [];
  const expected: [OptionPath, unknown][] = [];
  const add = (task: Task, path: OptionPath, value: unknown) => {
    // A string a module refuses before rendering (a GECOS field with ':') is that module's rule, not the renderer's.
    if (renderPlay([task]).problems.length > 0) return;
    tasks.push(task);
    expected.push([path, value]);
  };
  all.forEach((s, i) => {
    add(file({ path: `/etc/adversarial/${i}`, content: s }), ['environment', 'etc', `adversarial/${i}`, 'text'], s);
    add(user({ name: `u${i}`, comment: s }), ['users', 'users', `u${i}`, 'description'], s);
    add(quadlet.container({ name: `c${i}`, image: 'localhost/x:1', environment: { VALUE: s } }), ['virtualisation', 'oci-containers', 'containers', `c${i}`, 'environment', 'VALUE'], s);
    add(timer({ name: `t${i}`, onCalendar: 'daily', service: { execStart: '/bin/true', environment: { VALUE: s } } }), ['systemd', 'services', `t${i}`, 'environment', 'VALUE'], literalValue(s));
    add(nixos.options({ environment: { etc: { [`opt/${i}/${s}`]: { text: s } } } }), ['environment', 'etc', `opt/${i}/${s}`, 'text'], s);
  });
  t.ok(expected.length >= all.length * 4, `${expected.length} values from ${all.length} strings`);
  await assertNixosOptions(t, tasks, expected);
});

// ── the site's roles on a NixOS host ─────────────────────────────────────

t.test("nixos eval: the site's base, hardening and homeassistant roles render for a NixOS host and evaluate", async (t) => {
  const roles = [
    base({ admin: { name: 'admin', authorizedKeys: [KEY] }, timezone: 'Europe/Berlin' }),
    hardening({ fail2ban: { ignoreip: ['192.168.1.0/24'] } }),
    // NixOS has no quadlet .network units: Home Assistant on the host's network there.
    homeassistant({ timezone: 'Europe/Berlin', hostNetwork: true }),
  ];
  await assertNixosOptions(t, roles, {
    'users.users.admin.openssh.authorizedKeys.keys': [KEY],
    'services.openssh.settings': matching({ PasswordAuthentication: false }),
    'services.fail2ban.jails.sshd.settings': matching({ ignoreip: '192.168.1.0/24' }),
    'virtualisation.oci-containers.containers.homeassistant.environment': matching({ TZ: 'Europe/Berlin' }),
  });
});

t.test('nixos eval: the evaluation ran (not skipped), and the count is in the log', async (t) => {
  t.ok(evaluated.configurations >= 15, `${evaluated.configurations} configurations`);
  t.ok(evaluated.values >= 300, `${evaluated.values} values`);
  t.comment(evaluationSummary());
});
