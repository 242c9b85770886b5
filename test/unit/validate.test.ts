import t from 'tap';
import { UsageError } from '../../lib/errors.ts';
import { assertTasksValid } from '../../lib/module/validate.ts';
import { command, file } from '../../modules/index.ts';

const check = (task: ReturnType<typeof file> | ReturnType<typeof command>) => () => assertTasksValid([{ task, where: '' }]);

t.test('a bad parameter names the task, the parameter and the value', async (t) => {
  const task = file({ name: 'motd', path: '/etc/motd', content: 'x', mode: '0999' });
  t.throws(check(task), new UsageError(`invalid task parameters (nothing was changed on any host):\n  task 'motd' (file): parameter 'mode' = "0999": must match pattern "^0?[0-7]{3,4}$"`));
});

t.test('an unknown parameter is named with its value', async (t) => {
  const task = file({ path: '/etc/motd', content: 'x', ...({ owmer: 'root' } as object) });
  t.throws(check(task), /task 'file \/etc\/motd' \(file\): parameter 'owmer' is not known to this module \(value "root"\)/);
});

t.test('a relative path is refused', async (t) => {
  t.throws(check(file({ path: 'etc/motd', content: 'x' })), /parameter 'path' = "etc\/motd": must match pattern/);
});

t.test('command needs exactly one of argv and shell', async (t) => {
  t.throws(check(command({ ...({} as { argv: string[] }) })), /task 'command' \(command\): needs exactly one of 'argv', 'shell'$/);
  t.throws(check(command({ argv: ['a'], ...({ shell: 'b' } as object) } as { argv: string[] })), /needs exactly one of 'argv', 'shell'$/);
  t.doesNotThrow(check(command({ argv: ['true'] })));
  t.doesNotThrow(check(command({ shell: 'true', creates: '/x' })));
});

t.test('functions and buffers are accepted where the types allow them', async (t) => {
  t.doesNotThrow(check(file({ path: '/a', template: (h) => h.name })));
  t.doesNotThrow(check(file({ path: '/a', content: Buffer.from([0, 1]) })));
});
