// A first playbook: run it in check mode against this machine.
//   npx play examples/hello.ts -i examples/local.yml --check
import { homedir } from 'node:os';
import { playbook } from 'hostform';
import { command, file } from 'hostform/modules';

// In your home directory: hostform (as root) will not create paths in /tmp,
// where any user could have put a link first (see docs/security.md).
const dir = `${homedir()}/hostform-hello`;

export default playbook({
  name: 'hello',
  hosts: 'all',
  tasks: [
    file({ path: dir, state: 'directory', mode: '0755' }),
    file({
      path: `${dir}/motd`,
      template: (host) => `Hello from ${host.name} (${host.facts.platform}, kernel ${host.facts.kernel})\n`,
      mode: '0644',
    }, { name: 'greeting' }),
    command({ argv: ['sh', '-c', 'date -u > "$1"', 'sh', `${dir}/stamp`], creates: `${dir}/stamp` }, { name: 'stamp once' }),
  ],
});
