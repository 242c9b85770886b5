import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import { hosts, type TestHost } from './hosts/index.ts';
import { runPlay, writePlaybook } from './support/play.ts';

// Mistakes in a playbook that `play` refuses as bad usage (exit 64) before any
// host is changed, naming the task, the host and what is wrong (issue 17, item 6).
// Each playbook first writes a marker file: it must never be there.

let h: TestHost;
let dir: string;
let inventory: string;
t.before(async () => {
  [h] = (await hosts.up(1, 'el9')) as [TestHost];
  dir = await mkdtemp(join(tmpdir(), 'hostform-refusals-'));
  inventory = join(dir, 'inventory.yml');
  await writeFile(inventory, stringify({ hosts: { box: h.inventoryEntry() } }));
});
t.teardown(async () => {
  await hosts.down();
  await rm(dir, { recursive: true, force: true });
});

const MARKER = '/root/changed-by-play';

/** A playbook whose first task writes MARKER and whose second is `task`; `play` run on it. */
async function playWith(name: string, task: string) {
  const book = await writePlaybook(
    dir,
    name,
    `export default playbook({ name: '${name}', hosts: 'all', tasks: [
      file({ path: '${MARKER}', content: 'changed\\n' }, { name: 'marker' }),
      ${task},
    ] });`,
  );
  return runPlay([book, '-i', inventory]);
}

const markerExists = async () => (await h.exec(`test -e ${MARKER} || test -e /root/assigned`)).code === 0;

t.test('a command whose program starts with a dash is refused, not handed to sh as an option', async (t) => {
  const result = await playWith('dash', `command({ argv: ['-x'] }, { name: 'dash' })`);
  t.equal(result.code, 64, result.stderr);
  t.match(result.stderr, /\/dash\.mts:5: play 'dash', task 'dash' \(command\): parameter 'argv\.0' = "-x" starts with '-', so sh would read it as an option/);
  t.notOk(await markerExists(), 'nothing was changed on the host');
});

t.test('a command whose program looks like NAME=value is refused, not read as an assignment that runs the next word', async (t) => {
  const result = await playWith('assign', `command({ argv: ['MODE=1', 'touch', '/root/assigned'], creates: '/root/assigned' }, { name: 'assign' })`);
  t.equal(result.code, 64, result.stderr);
  t.match(result.stderr, /task 'assign' \(command\): parameter 'argv\.0' = "MODE=\.\.\.": sh would read it as a variable assignment/);
  t.notOk(await markerExists(), 'touch never ran, and nothing else changed');
});

t.test('an exception thrown in when() is a usage error naming the task, the host and the message', async (t) => {
  const result = await playWith('when', `command({ argv: ['true'], creates: '/' }, { name: 'picky', when: (host) => (host.vars as { port: { number: number } }).port.number > 0 })`);
  t.equal(result.code, 64, result.stderr);
  t.match(result.stderr, /^error: the playbook has 1 problem \(nothing was changed on any host\):\n/);
  t.match(result.stderr, /\/when\.mts:5: play 'when', task 'picky' \(command\) on box: when\(host\) threw TypeError: Cannot read properties of undefined \(reading 'number'\)/);
  t.notMatch(result.stderr, /internal error/);
  t.notOk(await markerExists(), 'nothing was changed on the host');
});
