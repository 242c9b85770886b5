import t from 'tap';
import { file } from '../modules/file/index.ts';
import { quadlet } from '../modules/quadlet/index.ts';
import { user } from '../modules/users/index.ts';
import { dropIn, unit } from '../modules/systemd/index.ts';
import { hosts, type TestHost } from './hosts/index.ts';
import { errors, runTasks, statuses, tasksOf } from './support/run-tasks.ts';

/**
 * Issue 17, item 1: an unprivileged user on a managed host replaces
 * directories that root writes into on their behalf with symlinks into
 * root's own configuration, then waits for the admin's next run. Each chain
 * below gave that user root before root stopped following their links: root
 * now works in a user's directory as that user, so the links lead where the
 * user could write anyway (nowhere that matters).
 */
const [h] = (await hosts.up(1, 'el9')) as [TestHost];
t.teardown(() => hosts.down());
const USER = 'alice';
const IMAGE = 'localhost/busybox:latest';

const sh = (cmd: string) => h.sh(cmd, { timeoutMs: 120_000 });
const asAlice = (cmd: string) => sh(`cd / && runuser -u ${USER} -- sh -c '${cmd}'`);
/** Files in root's directories that belong to alice: none may ever appear. */
const aliceFilesIn = (dir: string) => sh(`find ${dir} -user ${USER} 2>/dev/null | sort`);

await sh(`useradd --create-home ${USER} && loginctl enable-linger ${USER} && for i in $(seq 100); do [ -S /run/user/$(id -u ${USER})/systemd/private ] && break; sleep 0.1; done`);

t.test('path safety: a user unit into ~/.config/systemd/user, which alice made a link to /etc/systemd/system, is never written there', async (t) => {
  await asAlice('mkdir -p ~/.config/systemd && ln -s /etc/systemd/system ~/.config/systemd/user');
  const task = unit({ name: 'sync.service', scope: { user: USER }, sections: { Service: { ExecStart: '/usr/bin/true' } } });
  const report = await runTasks(h.inventoryEntry(), [task], 'apply');
  t.same(taskStatuses(report), ['failed'], 'the run fails instead of writing through the link');
  t.match(errors(report), /Permission denied/);
  t.match(errors(report), /this ran as alice, who controls \/home\/alice\/\.config\/systemd\/user: root does not act through a directory another user can change/, 'the error says why');
  t.notMatch(errors(report), /hf_controller\(\)/, 'the error shows the command without the path guard’s functions');
  t.equal(await sh('test -e /etc/systemd/system/sync.service && echo present || echo absent'), 'absent\n', 'no unit appeared in the system manager’s directory');
  t.equal(await aliceFilesIn('/etc/systemd/system'), '');
  await asAlice('rm ~/.config/systemd/user');
});

t.test('path safety: a user drop-in into a directory alice linked to /etc/tmpfiles.d never lands there (the sudoers chain)', async (t) => {
  await asAlice('mkdir -p ~/.config/systemd/user && ln -s /etc/tmpfiles.d ~/.config/systemd/user/sync.service.d');
  const tasks = [
    unit({ name: 'sync.service', scope: { user: USER }, sections: { Service: { ExecStart: '/usr/bin/true' } } }),
    dropIn({ unit: 'sync.service', name: 'limits', scope: { user: USER }, sections: { Service: { Nice: 5 } } }),
  ];
  const report = await runTasks(h.inventoryEntry(), tasks, 'apply');
  t.same(taskStatuses(report), ['changed', 'failed'], errors(report));
  t.equal(await sh('ls -A /etc/tmpfiles.d | grep -c limits || true'), '0\n', 'nothing named for the drop-in appeared in /etc/tmpfiles.d');
  t.equal(await aliceFilesIn('/etc/tmpfiles.d'), '');
  t.equal(await sh(`stat -c %U /home/${USER}/.config/systemd/user/sync.service`), `${USER}\n`, 'her own unit is written, as her');
});

t.test('path safety: removing a user unit through a planted link removes nothing of root’s', async (t) => {
  await sh(`printf '[Service]\\nExecStart=/usr/bin/true\\n' > /etc/systemd/system/keep.service`);
  await asAlice('rm -rf ~/.config/systemd/user && ln -s /etc/systemd/system ~/.config/systemd/user');
  const report = await runTasks(h.inventoryEntry(), [unit({ name: 'keep.service', scope: { user: USER }, state: 'absent' })], 'apply');
  t.same(taskStatuses(report), ['failed'], errors(report));
  t.equal(await sh('cat /etc/systemd/system/keep.service'), '[Service]\nExecStart=/usr/bin/true\n', 'the system unit is still there');
  await asAlice('rm ~/.config/systemd/user');
});

t.test('path safety: a rootless quadlet into ~/.config/containers/systemd, linked to /etc/containers/systemd, is never written there (the root container chain)', async (t) => {
  // The image alice's container would use, so that nothing but the write can stop the run.
  await sh(`bb=$(mktemp -d) && chmod 755 "$bb" && mkdir "$bb/bin" && cp /usr/bin/busybox "$bb/bin/" && ln -s busybox "$bb/bin/sh" &&
command -v newuidmap >/dev/null || sed -i '/^${USER}:/d' /etc/subuid /etc/subgid
if [ "$(stat -f -c %T /home/${USER})" = overlayfs ]; then runuser -u ${USER} -- mkdir -p /home/${USER}/.config/containers && printf '[storage]\\ndriver = "vfs"\\n' > /home/${USER}/.config/containers/storage.conf && chown ${USER} /home/${USER}/.config/containers/storage.conf; fi
tar -C "$bb" -c . | (cd / && runuser -u ${USER} -- env -u XDG_RUNTIME_DIR podman import --quiet - ${IMAGE}) >/dev/null && rm -rf "$bb"`);
  await asAlice('mkdir -p ~/.config/containers && ln -s /etc/containers/systemd ~/.config/containers/systemd');
  await sh('mkdir -p /etc/containers/systemd');
  const task = quadlet.container({ name: 'evil', scope: { user: USER }, image: IMAGE, pull: 'never', exec: ['sleep', '1000'], network: 'host' });
  const report = await runTasks(h.inventoryEntry(), [task], 'apply');
  t.same(taskStatuses(report), ['failed'], errors(report));
  t.equal(await sh('ls -A /etc/containers/systemd | grep -c evil || true'), '0\n', 'no quadlet appeared where root’s containers are defined');
  t.equal(await aliceFilesIn('/etc/containers'), '');
});

t.test('path safety: a file task in alice’s home follows none of her links as root', async (t) => {
  await asAlice('ln -s /etc/sudoers.d ~/app');
  // A directory below her link: root would create it in /etc/sudoers.d, owned by her.
  const dir = await runTasks(h.inventoryEntry(), [file({ path: `/home/${USER}/app/conf.d`, state: 'directory', owner: USER, mode: '0755' })], 'apply');
  t.same(statuses(dir), ['failed'], errors(dir));
  t.equal(await sh('test -e /etc/sudoers.d/conf.d && echo present || echo absent'), 'absent\n', 'no directory appeared in /etc/sudoers.d');
  // A file inside: root would create /etc/sudoers.d/alice.
  const inside = await runTasks(h.inventoryEntry(), [file({ path: `/home/${USER}/app/alice`, content: `${USER} ALL=(ALL) NOPASSWD: ALL\n`, owner: USER })], 'apply');
  t.same(statuses(inside), ['failed'], errors(inside));
  t.equal(await sh('test -e /etc/sudoers.d/alice && echo present || echo absent'), 'absent\n', 'no sudoers rule appeared');
  // A file owned by root in her home cannot be written safely at all: refused, with the reason.
  const foreign = await runTasks(h.inventoryEntry(), [file({ path: `/home/${USER}/motd`, content: 'hi\n', owner: 'root' })], 'apply');
  t.same(statuses(foreign), ['failed']);
  t.match(errors(foreign), new RegExp(`refusing to write /home/${USER}/motd owned by root: ${USER} controls /home/${USER}`));
  // Her own files are still managed, as her.
  const own = await runTasks(h.inventoryEntry(), [file({ path: `/home/${USER}/.profile-hf`, content: 'export A=1\n', mode: '0600' })], 'apply');
  t.same(statuses(own), ['changed'], errors(own));
  t.equal(await sh(`stat -c '%U %a' /home/${USER}/.profile-hf`), `${USER} 600\n`);
});

t.test('path safety: check mode never shows a root-only file that alice’s link leads to', async (t) => {
  await sh('echo "root-only canary 7f3a" > /root/canary && chmod 600 /root/canary');
  await asAlice('ln -s /root ~/private');
  const report = await runTasks(h.inventoryEntry(), [file({ path: `/home/${USER}/private/canary`, content: 'notes\n' })], 'check');
  t.notMatch(JSON.stringify(report), /canary 7f3a/, 'the canary is nowhere in the report');
  t.match(tasksOf(report)[0]?.changes[0]?.summary, /^create \/home\/alice\/private\/canary/, 'read as alice, the path shows nothing: the file is planned as new');
  const apply = await runTasks(h.inventoryEntry(), [file({ path: `/home/${USER}/private/canary`, content: 'notes\n' })], 'apply');
  t.same(statuses(apply), ['failed'], 'and writing it as alice is refused by the kernel');
  t.equal(await sh('cat /root/canary'), 'root-only canary 7f3a\n', 'root’s file is untouched');
});

t.test('path safety: a home directory inside a directory alice controls is never made by root through her links', async (t) => {
  await asAlice('mkdir -p ~/homes && ln -s /etc ~/homes/link');
  const report = await runTasks(h.inventoryEntry(), [user({ name: 'carol', home: `/home/${USER}/homes/link/carol`, createHome: true })], 'apply');
  t.same(taskStatuses(report), ['failed'], errors(report));
  t.match(errors(report), new RegExp(`refusing to create the home /home/${USER}/homes/link/carol: ${USER} controls`));
  t.equal(await sh('test -e /etc/carol && echo present || echo absent'), 'absent\n', 'no home appeared in /etc');
  t.equal(await sh('getent passwd carol >/dev/null && echo yes || echo no'), 'no\n', 'and no account was made');

  // An existing account whose missing home hostform is asked to make: the same rule, as its controller.
  await sh(`useradd --no-create-home --home-dir /home/${USER}/homes/link/dave dave`);
  const mkhome = await runTasks(h.inventoryEntry(), [user({ name: 'dave', home: `/home/${USER}/homes/link/dave`, createHome: true })], 'apply');
  t.same(statuses(mkhome), ['failed'], errors(mkhome));
  t.equal(await sh('test -e /etc/dave && echo present || echo absent'), 'absent\n');
});

/** The playbook's own tasks' statuses: the engine's deferred actions owed by changes before a failure still run after it (docs/reliability.md). */
function taskStatuses(report: Parameters<typeof statuses>[0]): string[] {
  return tasksOf(report).filter((x) => x.module !== 'engine').map((x) => x.status);
}

t.test('path safety: the one-stat shortcut agrees with the walk, and declines every path that is not plainly root’s', async (t) => {
  await sh(
    `mkdir -p /srv/plain/a /srv/shared /srv/gw /srv/real/b && chmod 1777 /srv/shared && chmod 775 /srv/gw && ln -sfn /srv/real /srv/linked && ` +
      `install -d -o ${USER} /srv/plain/${USER}-dir && mkdir -p /srv/shared/tmpd`,
  );
  const { PATH_GUARD } = await import('../lib/shell/path-guard.ts');
  // For each directory: does the shortcut accept it; what the walk alone says (exit code and output); what hf_controller says.
  const probe = (dir: string) =>
    sh(
      `${PATH_GUARD.text}\nd='${dir}'\n` +
        `if hf_root_only "$d"; then fast=yes; else fast=no; fi\n` +
        `both=$(hf_controller "$d" 2>&1; echo "rc=$?")\n` +
        `hf_root_only() { return 1; }\nwalk=$(hf_controller "$d" 2>&1; echo "rc=$?")\n` +
        `printf '%s|%s|%s\\n' "$fast" "$(echo $both)" "$(echo $walk)"`,
    );
  const cases: [string, 'yes' | 'no'][] = [
    ['/', 'yes'],
    ['/etc', 'yes'],
    ['/srv/plain/a', 'yes'],
    ['/srv/plain//a', 'no'],
    ['/srv/plain/../plain/a', 'no'],
    ['/srv/linked/b', 'no'],
    ['/srv/shared/tmpd', 'no'],
    ['/srv/gw', 'no'],
    [`/srv/plain/${USER}-dir`, 'no'],
    ['/srv/plain/missing/x', 'no'],
    [`/home/${USER}`, 'no'],
  ];
  for (const [dir, fast] of cases) {
    const [gotFast, both, walk] = (await probe(dir)).trim().split('|');
    t.equal(gotFast, fast, `${dir}: shortcut ${fast === 'yes' ? 'taken' : 'declined'}`);
    t.equal(both, walk, `${dir}: the answer is the walk's (${walk})`);
    if (gotFast === 'yes') t.equal(walk, 'rc=0', `${dir}: the walk too finds root alone controls it`);
  }
  t.match((await probe(`/srv/plain/${USER}-dir`)).trim(), new RegExp(`^no\\|${await sh(`id -u ${USER}`).then((s) => s.trim())} \\d+ rc=0\\|`), 'a user’s directory is that user’s');
  t.match((await probe('/srv/gw')).trim(), /^no\|hostform: refusing to work as root through \/srv\/gw: .* rc=1\|/, 'a group-writable directory is refused');
});
