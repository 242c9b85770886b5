/**
 * The hostile-string sweep's pure half (issue 14): every place a module's
 * JSON Schema accepts a string, found by walking the schema, so a new
 * parameter is swept without anyone listing it; and the hostile values fed
 * to each. test/hostile-sweep.test.ts runs what the schema lets through on a
 * test host.
 */

type Node = { readonly [key: string]: unknown };
type Params = Record<string, unknown>;

/**
 * One place a string goes: its dotted name (as `hostform modules` shows it;
 * `env.<key>` is a value of the map `env`, `env keys` a key of it), and, in a copy of parameters shaped like the
 * seed, the string there (if any) and how to put another.
 */
export interface StringPlace {
  readonly parameter: string;
  /** It takes bytes as a Buffer too (a file's content). */
  readonly bytes: boolean;
  current(seed: Params): string | undefined;
  put(seed: Params, value: string | Buffer): Params;
}

const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);
const alternatives = (n: Node): Node[] => [n, ...[n['anyOf'], n['oneOf']].flatMap((a) => (Array.isArray(a) ? a.filter(isNode).flatMap(alternatives) : []))];
const takesString = (n: Node) => alternatives(n).some((a) => a['type'] === 'string' || (Array.isArray(a['type']) && a['type'].includes('string')));
const takesBytes = (n: Node) => alternatives(n).some((a) => a['jsType'] === 'buffer');
const itemsOf = (n: Node) => alternatives(n).flatMap((a) => (a['type'] === 'array' && isNode(a['items']) ? [a['items']] : []));
const objectsOf = (n: Node) => alternatives(n).filter((a) => isNode(a['properties']));
const mapValuesOf = (n: Node) =>
  alternatives(n).flatMap((a) => [
    ...(isNode(a['additionalProperties']) ? [a['additionalProperties']] : []),
    ...(isNode(a['patternProperties']) ? Object.values(a['patternProperties']).filter(isNode) : []),
  ]);

/**
 * Every string place in `schema`, reached from `seed`: a property (given in
 * the seed or not), an element added to a list, a value of a map (under a
 * key the seed's map has, or `HF_SWEEP`), inside objects and lists the seed
 * gives. `put` works on any parameters shaped like the seed.
 */
export function stringPlaces(schema: Node, seed: Params): StringPlace[] {
  const places: StringPlace[] = [];
  const walk = (node: Node, path: string, get: (p: Params) => unknown, set: (p: Params, v: unknown) => Params) => {
    const string = (v: unknown) => (typeof v === 'string' ? v : undefined);
    if (takesString(node)) places.push({ parameter: path, bytes: takesBytes(node), current: (p) => string(get(p)), put: (p, v) => set(p, v) });
    const list = (p: Params) => {
      const current = get(p);
      return Array.isArray(current) ? current : [];
    };
    const map = (p: Params) => {
      const current = get(p);
      return (isNode(current) ? current : {}) as Params;
    };
    for (const items of itemsOf(node)) {
      // After what the task already lists: a command's program stays its program.
      if (takesString(items)) places.push({ parameter: `${path}[]`, bytes: takesBytes(items), current: (p) => string(list(p).at(-1)), put: (p, v) => set(p, [...list(p), v]) });
      if (isNode(list(seed)[0])) walk(items, `${path}[]`, (p) => list(p)[0], (p, v) => set(p, [v, ...list(p).slice(1)]));
    }
    const first = (p: Params) => Object.keys(map(p))[0];
    // A key is a string too (a variable's name, a section's, an option's): the first key renamed, its value kept.
    if (mapValuesOf(node).length > 0 && first(seed) !== undefined) {
      places.push({
        parameter: `${path} keys`,
        bytes: false,
        current: first,
        put: (p, v) => set(p, Object.fromEntries(Object.entries(map(p)).map(([k, value]) => [k === first(p) ? v : k, value]))),
      });
    }
    for (const values of mapValuesOf(node)) {
      const key = first(seed) ?? 'HF_SWEEP';
      if (takesString(values)) places.push({ parameter: `${path}.<key>`, bytes: takesBytes(values), current: (p) => string(map(p)[key]), put: (p, v) => set(p, { ...map(p), [key]: v }) });
      if (isNode(map(seed)[key])) walk(values, `${path}.${key}`, (p) => map(p)[key], (p, v) => set(p, { ...map(p), [key]: v }));
    }
    for (const object of objectsOf(node)) {
      if (path !== '' && !isNode(get(seed))) continue;
      for (const [name, child] of Object.entries(object['properties'] as Node)) {
        if (!isNode(child)) continue;
        walk(
          child,
          path === '' ? name : `${path}.${name}`,
          (p) => map(p)[name],
          (p, v) => set(p, { ...map(p), [name]: v }),
        );
      }
    }
  };
  walk(schema, '', (p) => p, (_p, v) => v as Params);
  // One place per parameter name and shape: alternatives of one node (`anyOf` of objects) repeat their properties.
  const seen = new Set<string>();
  return places.filter((p) => p.parameter !== '' && !seen.has(p.parameter) && seen.add(p.parameter));
}

export const MARKER_DIR = '/tmp/hf-sweep-marker';

/**
 * The hostile values for one place, each with the seed's own value in front
 * (so a path stays absolute and a name starts as a name, and the check that
 * refuses is about the hostile part). First one value holding quotes and
 * command substitution, backticks, `;` and globs together; when that is
 * refused, each of them alone, to find what a place does take. Then a line
 * break, a leading dash (alone: nothing in front), a very long string (most
 * places refuse it: too long for a command line) and a lone surrogate (what a
 * JavaScript string holds in place of bytes that are not UTF-8; every place
 * refuses it, and one that takes a Buffer gets such bytes as one:
 * hostileBytes). Every command in them touches a file under MARKER_DIR: that
 * file must never appear.
 */
export function hostileValues(seedValue: string | undefined, id: string): { together: HostileValue; alone: HostileValue[]; apart: HostileValue[] } {
  const before = seedValue ?? 'x';
  const mark = `${MARKER_DIR}/${id}`;
  const pieces = {
    'quotes and $()': `'"$(touch ${mark}-subst)"'`,
    backticks: `\`touch ${mark}-backtick\``,
    semicolon: `; touch ${mark}-semicolon;`,
    globs: '*?[a-z]{x,y}',
  };
  return {
    together: { label: 'quotes, $(), backticks, ;, globs', value: `${before}${Object.values(pieces).join(' ')}` },
    alone: Object.entries(pieces).map(([label, piece]) => ({ label, value: `${before}${piece}` })),
    apart: [
      { label: 'line break', value: `${before}\ntouch ${mark}-newline\n` },
      { label: 'leading dashes', value: `--help --exec=touch ${mark}-dash` },
      { label: 'very long', value: `${before}${'a'.repeat(100_000)}$(touch ${mark}-long)` },
      { label: 'not UTF-8', value: `${before}\udc80\udcff$(touch ${mark}-bytes)` },
    ],
  };
}

export interface HostileValue {
  readonly label: string;
  readonly value: string | Buffer;
}

/** For a place that takes a Buffer: bytes that are not UTF-8 (and a NUL, and a command), which must land as they are. */
export function hostileBytes(id: string): HostileValue {
  return { label: 'bytes that are not UTF-8, as a Buffer', value: Buffer.concat([Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x80]), Buffer.from(`$(touch ${MARKER_DIR}/${id}-buffer)\n`)]) };
}
