// `play` as bin/play.js runs it, then its peak resident memory on stderr
// (`@@maxrss KIB`): the control process's own, whatever machine runs it
// (no /usr/bin/time needed). For test/many-hosts.test.ts.
import { loadCli } from '../../bin/load-cli.js';

const { play } = await loadCli('main');
const code = await play(process.argv.slice(2));
process.stderr.write(`@@maxrss ${process.resourceUsage().maxRSS}\n`);
process.exitCode = code;
