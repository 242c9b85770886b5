/**
 * A control process for test/connection-hold.test.ts to SIGKILL: opens a
 * connection (the JSON ConnectionSpec in argv[2]), holds an flock on the file
 * in argv[3] through Connection.hold(), says `held` on stdout, then waits.
 */
import { openConnection } from '../../lib/connection/open.ts';
import type { ConnectionSpec } from '../../lib/connection/types.ts';
import { sh } from '../../lib/shell/quote.ts';

const [spec = '', lockFile = ''] = process.argv.slice(2);
const connection = await openConnection(JSON.parse(spec) as ConnectionSpec);
await connection.hold(sh`exec 9>>${lockFile}; flock 9; echo READY; exec cat >/dev/null`, { ready: 'READY' });
process.stdout.write('held\n');
setInterval(() => undefined, 60_000);
