import t from 'tap';
import { parseGenerations } from '../../lib/nixos/rollback.ts';

t.test('nixos: rollback finds the current generation and the one before it', async (t) => {
  const listed = '  40   2026-11-19 09:00:00   \n  41   2026-11-20 10:00:01   \n  42   2026-11-21 10:00:01   (current)\n';
  t.same(parseGenerations(listed), { current: 42, previous: 41 });
  t.same(parseGenerations('  1   2026-11-19 09:00:00   (current)\n'), { current: 1 });
  t.same(parseGenerations(''), {});
});
