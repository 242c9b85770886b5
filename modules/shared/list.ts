/** A parameter that takes one value or several, as a list: `'a'` → `['a']`, `['a', 'b']` as is, left out → `[]`. */
export function asList<T>(value: T | readonly T[] | undefined): readonly T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value as T];
}
