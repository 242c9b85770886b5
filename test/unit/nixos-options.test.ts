import t from 'tap';
import { parameterProblems } from '../../lib/module/validate.ts';
import { renderingConflicts } from '../../lib/nixos/conflicts.ts';
import { forced, NixExpr, renderNix } from '../../lib/nixos/value.ts';
import { file, nixos, service, sshd } from '../../modules/index.ts';
import { renderPlay } from '../support/nixos-eval.ts';
import { renderTask } from '../support/nixos-samples.ts';

t.test('nixos.options: options render as given, packages as pkgs attributes, forced values as lib.mkForce', async (t) => {
  const fragment = renderTask(
    nixos.options({
      services: { tailscale: { enable: true, package: { $pkgs: 'tailscale' }, extraUpFlags: ['--ssh'] } },
      nix: { gc: { automatic: true, dates: 'weekly' } },
      environment: { systemPackages: [{ $pkgs: 'python3Packages.requests' }, { $pkgs: 'libstdc++' }] },
      networking: { hostName: { $force: 'nas' } },
    }),
  );
  t.same(fragment, {
    services: { tailscale: { enable: true, package: NixExpr.pkgs('tailscale'), extraUpFlags: ['--ssh'] } },
    nix: { gc: { automatic: true, dates: 'weekly' } },
    environment: { systemPackages: [NixExpr.pkgs('python3Packages.requests'), NixExpr.pkgs('libstdc++')] },
    networking: { hostName: forced('nas') },
  });
  const text = renderNix(fragment);
  t.match(text, /package = pkgs\.tailscale;/);
  t.match(text, /pkgs\."libstdc\+\+"/);
  t.match(text, /hostName = \{\n\s+_type = "override";\n\s+content = "nas";\n\s+priority = 50;/, 'exactly what lib.mkForce "nas" is');
});

t.test('nixos.options: what is not an option value is refused before any host is touched', async (t) => {
  const problems = (params: object) => parameterProblems(nixos.options(params as never)).map((p) => p.message);
  t.match(problems({ imports: ['/etc/x.nix'] }), [/key "imports" that is not valid: must be an option name \(not imports, options, config/]);
  t.match(problems({ config: { a: 1 } }), [/key "config"/]);
  t.match(problems({ services: { x: { port: 1.5 } } }), [/parameter 'services\.x\.port' = 1\.5: must be a string, a whole number, true\/false, null, a list, an attribute set, \{ \$pkgs: "attr\.path" \} or \{ \$force: value \}/]);
  t.match(problems({ services: { x: { _type: 'override', content: 1 } } }), [/parameter 'services\.x' = /], '_type would make lib.mkOverride by hand');
  t.match(problems({ a: { $pkgs: 'x..y' } }), [/parameter 'a' = /]);
  t.same(problems({}), ["parameter '(parameters)' = {}: must not be empty"]);
  t.same(problems({ services: { loki: { configuration: { server: { http_listen_port: 3100 } } } } }), [], 'any depth');
  t.match(renderPlay([nixos.options({ services: { x: { names: ['a', 'nul\0'] } } })]).problems.map((p) => p.text), [/^parameter 'services\.x\.names\[1\]' holds a NUL byte, which a Nix string cannot hold/]);
});

t.test('nixos.options: on other platforms the task is not applicable', async (t) => {
  t.same(Object.keys(nixos.options.definition.backends), ['nixos']);
});

t.test('nixos.options: an option another task of the play sets differently is reported at plan time, naming both tasks', async (t) => {
  const play = renderPlay([
    sshd.config({ options: { PermitRootLogin: 'no' } }, { name: 'harden ssh' }),
    nixos.options({ services: { openssh: { settings: { PermitRootLogin: 'yes' } } } }, { name: 'let root in' }),
  ]);
  t.equal(play.problems.length, 1);
  t.match(play.problems[0], {
    kind: 'parameter',
    task: 'let root in',
    module: 'nixos.options',
    text: `sets services.openssh.settings.PermitRootLogin to "yes", but task 'harden ssh' (sshd.config) sets it to "no": NixOS would refuse the two definitions, or join them if the option is a text. Set it in one task, or make the one that must win { $force: ... }`,
  });
  t.match(play.problems[0]?.source, { file: /nixos-options\.test\.ts$/ }, 'where the nixos.options task was written');
});

t.test('nixos.options: the same text as another task is reported, since NixOS would join the two', async (t) => {
  const play = renderPlay([file({ path: '/etc/motd', content: 'hi\n' }), nixos.options({ environment: { etc: { motd: { text: 'hi\n' } } } }, { name: 'motd again' })]);
  t.match(play.problems.map((p) => p.text), [/^sets environment\.etc\.motd\.text to "hi\\n", which task 'file \/etc\/motd' \(file\) sets too: NixOS joins two definitions of a text option/]);
});

t.test('nixos.options: lists, equal numbers, forced values and other options do not conflict', async (t) => {
  t.same(
    renderPlay([
      sshd.config({ options: { Port: 22, MaxAuthTries: 3, PermitRootLogin: 'no' } }),
      service({ name: 'cups', masked: true }),
      nixos.options({
        services: { openssh: { ports: [2222], settings: { MaxAuthTries: 3, PermitRootLogin: { $force: 'prohibit-password' } } } },
        systemd: { units: { 'cups.service': { enable: true } } },
        networking: { firewall: { allowedTCPPorts: [9090] } },
      }),
    ]).problems,
    [],
    'a list adds, 3 = 3 merges, a forced value wins over a plain one, a masked unit is already forced',
  );
});

t.test('nixos.options: two forced values conflict, and two nixos.options tasks are compared once', async (t) => {
  const conflicts = renderingConflicts([
    { name: 'a', module: 'nixos.options', fragment: { x: forced(1) }, checked: true },
    { name: 'b', module: 'nixos.options', fragment: { x: forced(2) }, checked: true },
  ]);
  t.match(conflicts, [{ task: 1, text: /^sets x to 2, but task 'a' \(nixos\.options\) sets it to 1: NixOS would refuse/ }]);
  t.equal(conflicts.length, 1, 'reported once, on the later task');
  t.same(renderingConflicts([{ name: 'a', module: 'file', fragment: { x: 1 }, checked: false }, { name: 'b', module: 'sshd.config', fragment: { x: 2 }, checked: false }]), [], 'tasks hostform renders are left to NixOS');
});
