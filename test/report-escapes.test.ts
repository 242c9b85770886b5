import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import { hosts, type TestHost } from './hosts/index.ts';
import { runPlay, writePlaybook } from './support/play.ts';

// A file on the host whose content would rewrite the terminal when printed:
// clear the screen, print a fake "converged", set the window title, and a C1
// CSI (U+009B, which some terminals take for ESC [). A `--check --diff` run
// shows it in the diff, escaped (issue 17, item 6).

const HOSTILE = 'real line\n\x1b[2J\x1b[Hconverged\r\x1b]0;owned\x07\u009b2K\u202eevil\n';
/** Any control character but newline and tab. */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

let h: TestHost;
let dir: string;
let inventory: string;
let book: string;
t.before(async () => {
  [h] = (await hosts.up(1, 'el9')) as [TestHost];
  dir = await mkdtemp(join(tmpdir(), 'hostform-escapes-'));
  inventory = join(dir, 'inventory.yml');
  await writeFile(inventory, stringify({ hosts: { box: h.inventoryEntry() } }));
  book = await writePlaybook(dir, 'clean', `export default playbook({ name: 'clean', hosts: 'all', tasks: [file({ path: '/etc/hostile.conf', content: 'clean\\n' })] });`);
  const written = await h.exec("base64 -d > /etc/hostile.conf", { input: Buffer.from(HOSTILE).toString('base64') });
  if (written.code !== 0) throw new Error(written.stderr);
});
t.teardown(async () => {
  await hosts.down();
  await rm(dir, { recursive: true, force: true });
});

t.test('a --check --diff run prints the escape sequences of a host file escaped, not raw', async (t) => {
  const result = await runPlay([book, '-i', inventory, '--check', '--diff']);
  t.equal(result.code, 2, 'drift found');
  t.notMatch(result.stderr, RAW_CONTROL, 'no control character from the file reaches the terminal');
  t.match(result.stderr, '    -\\x1b[2J\\x1b[Hconverged\\r\\x1b]0;owned\\x07\\x9b2K\\u202eevil\n', 'the diff line shows each byte as an escape');
  t.match(result.stderr, '    +clean\n');
});

t.test('--json carries the content exactly, with nothing raw on the way', async (t) => {
  const result = await runPlay([book, '-i', inventory, '--check', '--json']);
  t.equal(result.code, 2, 'drift found');
  t.notMatch(result.stdout, RAW_CONTROL);
  const diff: string = JSON.parse(result.stdout).hosts[0].tasks[0].changes[0].diff;
  t.match(diff, '\n-\x1b[2J\x1b[Hconverged\r\x1b]0;owned\x07\u009b2K\u202eevil\n', 'the parsed report holds the very bytes of the file');
});
