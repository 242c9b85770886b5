import t from 'tap';
import { Skip } from '../../lib/module/skip.ts';
import { NixExpr } from '../../lib/nixos/value.ts';
import { packages, repo } from '../../modules/index.ts';
import { renderTask } from '../support/nixos-samples.ts';

t.test('nixos packages: present and latest become pkgs attributes in environment.systemPackages', async (t) => {
  t.same(renderTask(packages({ present: ['htop', 'python3Packages.requests'], latest: ['openssl'] })), {
    environment: { systemPackages: [NixExpr.pkgs('htop'), NixExpr.pkgs('python3Packages.requests'), NixExpr.pkgs('openssl')] },
  });
});

t.test('nixos packages: a name that is not an identifier is quoted, not glued', async (t) => {
  const fragment = renderTask(packages({ present: ['libstdc++'] })) as { environment: { systemPackages: NixExpr[] } };
  t.equal(fragment.environment.systemPackages[0]?.text, 'pkgs."libstdc++"');
});

t.test('nixos packages: repository options are ignored, the packages still render', async (t) => {
  t.same(renderTask(packages({ present: ['tailscale'], disableRepos: ['*'], enableRepos: ['tailscale-stable'] })), { environment: { systemPackages: [NixExpr.pkgs('tailscale')] } });
});

t.test('nixos packages: a task that only removes packages is skipped with the reason', async (t) => {
  t.throws(() => renderTask(packages({ absent: ['telnet'] })), new Skip('on nixos a package is absent when no module lists it: remove it from the playbook that installs it'));
  t.same(renderTask(packages({ present: ['htop'], absent: ['telnet'] })), { environment: { systemPackages: [NixExpr.pkgs('htop')] } }, 'with something to install, the removals are dropped');
});

t.test('nixos packages: dnf-only specs are refused with what to do instead', async (t) => {
  t.throws(() => renderTask(packages({ present: ['/usr/bin/restic'] })), /"\/usr\/bin\/restic" is a file path, which has no meaning on nixos: name the nixpkgs attribute/);
  t.throws(() => renderTask(packages({ present: ['perl(JSON)'] })), /is a virtual provide/);
  t.throws(() => renderTask(packages({ present: ['nginx-1.20.1'] })), /is a version pin/);
  t.throws(() => renderTask(packages({ latest: ['bash-0:5.1.8-6.el9'] })), /is a version pin/);
  t.throws(() => renderTask(packages({ present: ['nginx.x86_64'] })), /an rpm with its architecture/);
});

t.test('nixos packages: repo has no nixos renderer, so it is "not applicable on nixos"', async (t) => {
  t.equal(repo({ name: 'x', baseurl: 'https://example.org/x' }).module.backends.nixos, undefined);
});
