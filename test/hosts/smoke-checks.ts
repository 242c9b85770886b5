import type { Profile } from './config.ts';
import type { TestHost } from './test-host.ts';

/**
 * The tools every hostform module relies on, checked on a real host. Each check names the piece it proves,
 * so a failure says what is missing.
 */
export interface SmokeCheck {
  readonly name: string;
  /** Shell run as root; it must exit 0. Its output tail becomes the failure message otherwise. */
  readonly script: string;
  readonly user?: 'root' | 'admin' | 'pwuser';
  /** For checks that must fail (pwuser's sudo): the expected exit code and a text stderr must contain. */
  readonly expectFailure?: { readonly stderr: string };
}

const common: SmokeCheck[] = [
  { name: 'systemd is PID 1 and finished booting', script: 'test "$(ps -p 1 -o comm=)" = systemd && systemctl is-system-running | grep -Ex "running|degraded"' },
  { name: 'sshd runs (sshd.service)', script: 'systemctl is-active sshd.service' },
  { name: 'sudo: admin has passwordless sudo', user: 'admin', script: 'sudo -n true' },
  { name: 'sudo: pwuser needs a password', user: 'pwuser', script: 'sudo -n true', expectFailure: { stderr: 'password is required' } },
  { name: 'useradd, usermod, userdel', script: 'useradd -m hf-smoke && usermod -c smoke -s /bin/sh hf-smoke && getent passwd hf-smoke | grep -q :smoke: && userdel -r hf-smoke' },
  {
    name: 'dnf and rpm install from the local repository',
    script:
      'dnf -q -y install hostform-test-a hostform-test-tool >/dev/null && rpm -q hostform-test-a && hostform-test-tool ' +
      '&& dnf -q -y remove hostform-test-a hostform-test-tool >/dev/null && ! rpm -q hostform-test-a >/dev/null',
  },
  { name: 'dnf sees two versions of hostform-test-b', script: 'dnf -q --showduplicates list available hostform-test-b | grep -c "hostform-test-b" | grep -qx 2' },
  { name: 'systemctl list-timers', script: 'systemctl list-timers --all --no-legend | grep -q .timer' },
  { name: 'python3', script: 'python3 -c "import sys; assert sys.version_info >= (3, 9)"' },
  { name: 'curl', script: 'curl -sSf file:///etc/os-release >/dev/null' },
];

const containerTools: SmokeCheck[] = [
  { name: 'firewalld runs and firewall-cmd answers', script: 'firewall-cmd --state && firewall-cmd --get-default-zone' },
  { name: 'firewall-offline-cmd', script: 'firewall-offline-cmd --get-default-zone' },
  { name: 'nftables (nft sees firewalld\'s table)', script: 'nft list tables | grep -q firewalld' },
  { name: 'fail2ban starts and fail2ban-client answers', script: 'systemctl start fail2ban && for i in $(seq 50); do fail2ban-client ping 2>/dev/null | grep -q pong && ok=1 && break; sleep 0.2; done; systemctl stop fail2ban; test -n "$ok"' },
  { name: 'podman runs the imported busybox image', script: 'podman run --rm localhost/busybox:latest echo podman-ok | grep -qx podman-ok' },
  {
    name: 'quadlet: a .container becomes a running service',
    script:
      'test -x /usr/lib/systemd/system-generators/podman-system-generator && mkdir -p /etc/containers/systemd && ' +
      'printf "[Container]\\nImage=localhost/busybox:latest\\nExec=sleep 600\\n" >/etc/containers/systemd/hf-smoke.container && ' +
      'systemctl daemon-reload && systemctl start hf-smoke.service && systemctl is-active hf-smoke.service && ' +
      'systemctl stop hf-smoke.service && rm /etc/containers/systemd/hf-smoke.container && systemctl daemon-reload',
  },
];

/**
 * semanage and setsebool -P do not wait for libsemanage's lock; the VM is shared by every test process,
 * so a check retries while another process holds it.
 */
const retryLocked =
  'retry() { for i in $(seq 90); do out=$("$@" 2>&1) && { printf "%s\\n" "$out"; return 0; }; case $out in *"get direct"*) sleep 2;; *) echo "$out" >&2; return 1;; esac; done; echo "$out" >&2; return 1; }; ';

const selinuxChecks: SmokeCheck[] = [
  { name: 'SELinux: getenforce says Permissive', script: 'getenforce | grep -qx Permissive' },
  { name: 'SELinux: files are labelled', script: 'ls -Z /etc/shadow | grep -q shadow_t' },
  { name: 'SELinux: semanage boolean and setsebool -P', script: 'semanage boolean -l >/tmp/booleans && grep -q ^ssh_sysadm_login /tmp/booleans && setsebool -P ssh_sysadm_login on && getsebool ssh_sysadm_login | grep -q on$ && setsebool -P ssh_sysadm_login off' },
  { name: 'SELinux: semanage fcontext and restorecon', script: 'mkdir -p /srv/hf-smoke && semanage fcontext -a -t httpd_sys_content_t "/srv/hf-smoke(/.*)?" && restorecon -R /srv/hf-smoke && ls -dZ /srv/hf-smoke | grep -q httpd_sys_content_t && semanage fcontext -d "/srv/hf-smoke(/.*)?" && rm -r /srv/hf-smoke' },
  { name: 'SELinux: semanage port', script: 'semanage port -a -t http_port_t -p tcp 8123 && semanage port -l | grep http_port_t | grep -q 8123 && semanage port -d -t http_port_t -p tcp 8123' },
  { name: 'SELinux: semodule -l', script: 'semodule -l | grep -q .' },
  { name: 'SELinux: setenforce 1 and back', script: 'setenforce 1 && getenforce | grep -qx Enforcing; rc=$?; setenforce 0; exit $rc' },
];

const selinux: SmokeCheck[] = selinuxChecks.map((c) => ({
  ...c,
  script: retryLocked + c.script.replace(/\b(semanage|setsebool -P|semodule)\b/g, 'retry $1'),
}));

export function smokeChecks(profile: Profile): SmokeCheck[] {
  return profile === 'el9' ? [...common, ...containerTools] : [...common, ...selinux];
}

export interface SmokeResult {
  readonly check: SmokeCheck;
  readonly ok: boolean;
  readonly ms: number;
  readonly detail: string;
}

export async function runSmokeCheck(host: TestHost, check: SmokeCheck): Promise<SmokeResult> {
  const started = Date.now();
  // SELinux policy rebuilds under TCG take minutes on a busy machine.
  const r = await host.exec(check.script, { user: check.user ?? 'root', timeoutMs: host.profile === 'el9' ? 120_000 : 600_000 });
  const ms = Date.now() - started;
  const tail = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-5).join('\n');
  if (check.expectFailure) {
    const ok = r.code !== 0 && r.code !== 255 && r.stderr.includes(check.expectFailure.stderr);
    return { check, ok, ms, detail: ok ? '' : `expected a failure mentioning "${check.expectFailure.stderr}", got exit ${r.code}: ${tail}` };
  }
  return { check, ok: r.code === 0, ms, detail: r.code === 0 ? '' : `exit ${r.code}: ${tail}` };
}
