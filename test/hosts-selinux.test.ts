import t from 'tap';
import { hosts } from './hosts/index.ts';
import { runSmokeCheck, smokeChecks } from './hosts/smoke-checks.ts';

t.teardown(() => hosts.down());

t.test('el9-selinux test VM: SELinux tools work, permissive by default, enforcing available', async (t) => {
  const [vm] = await hosts.up(1, 'el9-selinux');
  t.equal(vm!.profile, 'el9-selinux');
  t.equal(vm!.inventoryEntry().platform, 'el9');
  t.comment(`ssh after ${vm!.timings.sshMs} ms, booted after ${vm!.timings.bootedMs} ms`);
  for (const check of smokeChecks('el9-selinux')) {
    const r = await runSmokeCheck(vm!, check);
    t.ok(r.ok, `${check.name} (${r.ms} ms)${r.detail ? `: ${r.detail}` : ''}`);
  }
});
