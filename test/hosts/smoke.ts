/**
 * `npm run hosts:smoke`: builds or reuses the image, boots one host of each profile, checks every tool the
 * modules need, prints each check with its time, tears everything down. Exits 0 only if all passed.
 */
import { PROFILES } from './config.ts';
import type { Profile } from './config.ts';
import { ensureImage } from './image.ts';
import { hosts } from './index.ts';
import { runSmokeCheck, smokeChecks } from './smoke-checks.ts';

const profiles: Profile[] = process.argv.length > 2 ? (process.argv.slice(2) as Profile[]) : [...PROFILES];
const secs = (ms: number): string => `${(ms / 1000).toFixed(2).padStart(6)} s`;
let failed = 0;
const line = (ok: boolean, ms: number, text: string): void => {
  if (!ok) failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${secs(ms)}  ${text}`);
};

async function smoke(profile: Profile): Promise<void> {
  const started = Date.now();
  let host;
  try {
    [host] = await hosts.up(1, profile);
  } catch (err) {
    line(false, Date.now() - started, `[${profile}] boot: ${(err as Error).message}`);
    return;
  }
  line(true, host!.timings.sshMs, `[${profile}] ${host!.name} accepts ssh (${host!.address}:${host!.port})`);
  line(true, host!.timings.bootedMs, `[${profile}] ${host!.name} finished booting`);
  for (const check of smokeChecks(profile)) {
    const r = await runSmokeCheck(host!, check);
    line(r.ok, r.ms, `[${profile}] ${check.name}${r.ok ? '' : `\n       missing or broken: ${r.detail.replace(/\n/g, '\n       ')}`}`);
  }
}

try {
  const started = Date.now();
  const { image, built } = await ensureImage((l) => console.log(`[hosts] ${l}`));
  line(true, Date.now() - started, `image ${image.key} ${built ? 'built' : 'reused'}`);
  // The VM boots slowly under TCG, so both profiles boot at once.
  await Promise.all(profiles.map((p) => smoke(p)));
} catch (err) {
  line(false, 0, (err as Error).message);
} finally {
  const started = Date.now();
  await hosts.down();
  line(true, Date.now() - started, 'every host torn down');
}
console.log(failed === 0 ? 'hosts:smoke: every check passed' : `hosts:smoke: ${failed} check(s) failed`);
process.exit(failed === 0 ? 0 : 1);
