import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { HOMEASSISTANT_IMAGE, MONITORING_IMAGES, PLEX_IMAGE, RESTIC_IMAGE, TRAEFIK_IMAGE } from '../roles/index.ts';
import { hosts, type TestHost } from './hosts/index.ts';
import { ADMIN_LOGIN, asRoot, curlFrom, failures, httpsTo, named, runSite, writeSiteInventory } from './support/site.ts';

/**
 * Disaster recovery of the home server: the site converged on a host, a backup taken, the host destroyed,
 * a fresh one booted and the site run with `restore: true`. The services come back with the data of the
 * last backup: Home Assistant's configuration directory (its installation id) and Prometheus's samples
 * from before the backup. The repository would be on a NAS (NFS, SFTP); the container test hosts have no
 * NFS, so the test carries the repository directory from the old host to the new one (tar over ssh),
 * which is what the NAS would hold. Timings go to the test's comments and bench/RESULTS.md.
 */

/** Every image the site runs: the roles' pinned defaults and the finance API of the test inventory. */
const IMAGES_OF_THE_SITE = [...Object.values(MONITORING_IMAGES), TRAEFIK_IMAGE, HOMEASSISTANT_IMAGE, PLEX_IMAGE, RESTIC_IMAGE, 'ghcr.io/miraclemax/finance-api:1.4.0'];

let scratch: string;
t.teardown(async () => {
  await hosts.down();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

/** Prometheus's samples of its own `up` in the minute before `at` (unix seconds), asked from the LAN host with the admin login Traefik asks for. */
async function samplesBefore(lan: TestHost, site: TestHost, at: number): Promise<number> {
  const body = await curlFrom(lan, httpsTo(site, 'prometheus', `/api/v1/query?query=count_over_time(up%7Bjob%3D%22prometheus%22%7D%5B1m%5D)&time=${at}`, `-u ${ADMIN_LOGIN}`));
  const result = (JSON.parse(body) as { data: { result: { value: [number, string] }[] } }).data.result;
  return result.length === 0 ? 0 : Number(result[0]!.value[1]);
}

t.test('disaster recovery: a fresh host running the site with restore on comes back with the data of the last backup', async (t) => {
  scratch = await mkdtemp(join(tmpdir(), 'hostform-site-dr-'));
  const inventory = join(scratch, 'inventory.yml');
  let [old, lan] = (await hosts.up(2, 'el9', { registry: true })) as [TestHost, TestHost];
  await writeSiteInventory(inventory, old);
  const first = await runSite(inventory, 'apply');
  t.same(failures(first.report), [], 'the site converges on the old host');
  // Prometheus scrapes every 5 s: a minute of samples, then the backup.
  await new Promise((r) => setTimeout(r, 30_000));
  const before = Math.floor(Date.now() / 1000) - 5;
  t.ok((await samplesBefore(lan, old, before)) > 0, 'the old host has samples before the backup');
  const uuid = await asRoot(old, 'cat /srv/homeassistant/.storage/core.uuid');
  await asRoot(old, 'systemctl start site-backup.service', 300_000);
  const repository = await asRoot(old, 'tar -C /srv/backup -cz restic | base64 -w0', 300_000);
  t.comment(`repository: ${Math.round((repository.length * 3) / 4 / 1024)} KiB`);

  // The old host is gone; so is the LAN host (hosts.down() stops every host of this process).
  await hosts.down();
  const booted = Date.now();
  [old, lan] = (await hosts.up(2, 'el9', { registry: true })) as [TestHost, TestHost];
  const fresh = old;
  const bootSeconds = seconds(booted);
  const put = await fresh.exec('mkdir -p /srv/backup && base64 -d | tar -C /srv/backup -xz', { input: repository, timeoutMs: 300_000 });
  t.equal(put.code, 0, `the repository is where the NAS would mount it: ${put.stderr}`);

  const pulls = Date.now();
  await asRoot(fresh, IMAGES_OF_THE_SITE.map((image) => `podman pull -q ${image} >/dev/null`).join(' && '), 600_000);
  const pullSeconds = seconds(pulls);
  await writeSiteInventory(inventory, fresh, { restore: true });
  const started = Date.now();
  const rebuild = await runSite(inventory, 'apply');
  const runSeconds = seconds(started);
  t.same(failures(rebuild.report), [], rebuild.stderr.slice(-3000));
  t.ok(named(rebuild.report, 'changed').some((n) => n.endsWith('restore : restore the latest snapshot')), 'the restore ran');
  t.match(await curlFrom(lan, httpsTo(fresh, 'ha', '/manifest.json')), /Home Assistant/);
  const rto = seconds(pulls);

  t.equal(await asRoot(fresh, 'cat /srv/homeassistant/.storage/core.uuid'), uuid, "Home Assistant's configuration directory is the old host's");
  t.ok((await samplesBefore(lan, fresh, before)) > 0, "Prometheus has the old host's samples from before the backup");
  const again = await runSite(inventory, 'apply');
  t.same(named(again.report, 'changed'), [], 'a second run with restore still on changes nothing (the restore ran once)');
  t.comment(`boot ${bootSeconds} s; image pulls ${pullSeconds} s; site run with restore ${runSeconds} s; restored service (pulls + run + first answer) ${rto} s`);
});
