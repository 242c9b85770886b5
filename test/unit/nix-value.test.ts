import { execFileSync } from 'node:child_process';
import { hasNix } from '../support/nix.ts';
import t from 'tap';
import { attrName, NixExpr, nixString, renderNix, type NixValue } from '../../lib/nixos/value.ts';


function evalJson(expression: string): unknown {
  return JSON.parse(execFileSync('nix-instantiate', ['--eval', '--strict', '--json', '-E', expression], { encoding: 'utf8' }));
}

// A small seeded generator, so a failure names a case that can be replayed.
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
const PIECES = ['${', '$', '{', '}', '"', "'", "''", '\\', '\\n', '\n', '\r', '\t', 'a', 'Z', ' ', 'ü', '→', '😀', '${x}', "''${", '\\${', '#', ';', '=', 'or', 'if'];
function randomString(next: () => number): string {
  const length = Math.floor(next() * 12);
  return Array.from({ length }, () => PIECES[Math.floor(next() * PIECES.length)]).join('');
}

t.test('strings and attribute names survive a round trip through nix-instantiate --eval', { skip: hasNix ? false : 'nix-instantiate not installed (Debian package nix-bin)' }, async (t) => {
  const next = random(20261123);
  const cases = Array.from({ length: 300 }, () => ({ name: randomString(next) || 'empty', value: randomString(next) }));
  const attrs: Record<string, NixValue> = {};
  for (const c of cases) attrs[c.name] = c.value;
  const evaluated = evalJson(renderNix(attrs)) as Record<string, string>;
  t.same(evaluated, attrs);
  const list = evalJson(renderNix(cases.map((c) => c.value)));
  t.same(list, cases.map((c) => c.value));
});

t.test('a NUL is refused: nix-instantiate would end the string, and the file, there', { skip: hasNix ? false : 'nix-instantiate not installed' }, async (t) => {
  t.equal(execFileSync('nix-instantiate', ['--eval', '-'], { input: '"a\u0000b"', encoding: 'utf8' }).trim(), '"a"', 'what Nix does with a raw NUL');
  t.throws(() => renderNix({ note: 'a\u0000b' }), /a string holding a NUL byte cannot be written to Nix: "a\\u0000b"/);
  t.throws(() => renderNix({ 'a\u0000b': 1 }), /NUL byte/);
});

t.test('numbers, booleans, null, nesting and expressions render as Nix reads them', { skip: hasNix ? false : 'nix-instantiate not installed' }, async (t) => {
  const value = { n: -3, z: 0, b: true, f: false, nothing: null, list: [1, [2, -1], { a: 'x' }], nested: { 'a.b': { c: [] } }, e: NixExpr.trusted('1 + 1') };
  t.same(evalJson(renderNix(value)), { n: -3, z: 0, b: true, f: false, nothing: null, list: [1, [2, -1], { a: 'x' }], nested: { 'a.b': { c: [] } }, e: 2 });
});

t.test('rendering is deterministic: keys sorted whatever the insertion order', async (t) => {
  t.equal(renderNix({ b: 1, a: { d: 2, c: 3 } }), renderNix({ a: { c: 3, d: 2 }, b: 1 }));
  t.equal(renderNix({ b: 1, a: 2 }), '{\n  a = 2;\n  b = 1;\n}');
});

t.test('escaping by example', async (t) => {
  t.equal(nixString('a${b}"c\\d\n'), '"a\\${b}\\"c\\\\d\\n"');
  t.equal(attrName('nginx.conf'), '"nginx.conf"');
  t.equal(attrName('with'), '"with"');
  t.equal(attrName('foo-bar_1'), 'foo-bar_1');
  t.equal(NixExpr.pkgs('python3Packages.requests').text, 'pkgs.python3Packages.requests');
  t.throws(() => renderNix(1.5), /whole numbers/);
});
