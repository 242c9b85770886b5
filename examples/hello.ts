// A first playbook: run it in check mode against this machine.
//   npx play examples/hello.ts -i examples/local.yml --check
import { playbook } from 'hostform';
import { command, file } from 'hostform/modules';

export default playbook({
  name: 'hello',
  hosts: 'all',
  tasks: [
    file({ path: '/tmp/hostform-hello', state: 'directory', mode: '0755' }),
    file({
      path: '/tmp/hostform-hello/motd',
      template: (host) => `Hello from ${host.name} (${host.facts.platform}, kernel ${host.facts.kernel})\n`,
      mode: '0644',
    }, { name: 'greeting' }),
    command({ shell: 'date -u > /tmp/hostform-hello/stamp', creates: '/tmp/hostform-hello/stamp' }, { name: 'stamp once' }),
  ],
});
