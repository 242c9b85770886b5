const METACHARACTERS = new Set(['.', '^', '$', '*', '+', '?', '(', ')', '[', ']', '{', '}', '|']);

/**
 * The path to relabel for a file-context regex: its literal prefix, up to the
 * first regex metacharacter, cut back to whole path components.
 *
 *   '/srv/www(/.*)?'    → '/srv/www'       (the group starts a new component)
 *   '/srv/file\.txt'    → '/srv/file.txt'  (all literal)
 *   '/srv/app[0-9]+/d'  → '/srv'           (app… is only part of a name)
 *
 * Returns undefined when that is `/`: relabelling the whole system must be asked for.
 */
export function restoreconPathFor(target: string): string | undefined {
  let prefix = '';
  let rest = '';
  for (let i = 0; i < target.length; i++) {
    const c = target[i]!;
    if (c === '\\' && i + 1 < target.length) {
      const next = target[i + 1]!;
      // An escaped metacharacter is literal; \d, \w and the like are classes.
      if (!/[A-Za-z0-9]/.test(next)) {
        prefix += next;
        i++;
        continue;
      }
      rest = target.slice(i);
      break;
    }
    if (METACHARACTERS.has(c)) {
      rest = target.slice(i);
      break;
    }
    prefix += c;
  }
  const whole = rest === '' || prefix.endsWith('/') || rest.startsWith('(/') || rest.startsWith('/');
  const path = whole ? prefix.replace(/\/+$/, '') : prefix.slice(0, prefix.lastIndexOf('/'));
  return path === '' ? undefined : path;
}
