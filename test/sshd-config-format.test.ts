import t from 'tap';
import type { HostView } from '../lib/module/types.ts';
import { taskProblems } from '../lib/module/validate.ts';
import { parseEffective } from '../modules/sshd/apply.ts';
import { sshd } from '../modules/sshd/index.ts';
import type { SshdConfigParams, WantedDropIn } from '../modules/sshd/params.ts';
import { hosts, type TestHost } from './hosts/index.ts';

// Property: every value sshd.config renders is either refused when the
// parameters are checked, or read back unchanged by sshd's own parser
// (`sshd -T -f` on a test host), with the lines around it intact. Values are
// generated from a fixed seed, biased towards the bytes sshd's parser treats
// specially: NUL, CR, LF, tab, form feed, #, quotes, backslash, a leading =,
// a leading -, + or ^ in algorithm lists, leading and trailing whitespace.

const [a] = (await hosts.up(1, 'el9')) as [TestHost];
t.teardown(() => hosts.down());

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function generator(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
const random = generator(17);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

const PLAIN = [...'abrotxyz019._/@%*!:$;`é'];
const SPECIAL = ['\0', '\r', '\n', '\t', '\f', '\v', ' ', '#', '"', "'", '\\', '=', '-', '+', '^', ',', '\x7f', '\x1b'];
function hostile(maxLength = 8): string {
  const length = 1 + Math.floor(random() * maxLength);
  let text = '';
  for (let i = 0; i < length; i++) text += random() < 0.3 ? pick(SPECIAL) : pick(PLAIN);
  return text;
}
const CIPHERS = ['aes128-ctr', 'aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com'];

/** One generated case: the parameters, and the sshd -T lines they must produce. */
interface Case {
  readonly params: SshdConfigParams;
  readonly expect: Readonly<Record<string, readonly string[]>>;
}
// Around every hostile value: a typed option after it and an extra keyword sorted last, which a swallowed line would lose.
const SENTINELS = { maxauthtries: ['5'], xauthlocation: ['/sentinel'] };
const around = (params: SshdConfigParams, expect: Record<string, readonly string[]>): Case => ({
  params: { ...params, options: { ...params.options, MaxAuthTries: 5 }, extra: { ...params.extra, XAuthLocation: '/sentinel' } },
  expect: { ...expect, ...SENTINELS },
});

const kinds: Record<string, () => Case> = {
  AllowUsers: () => {
    const v = hostile();
    return around({ options: { AllowUsers: ['deploy', v] } }, { allowusers: ['deploy', v] });
  },
  AuthorizedKeysFile: () => {
    const v = hostile();
    return around({ options: { AuthorizedKeysFile: ['.ssh/authorized_keys', v] } }, { authorizedkeysfile: [`.ssh/authorized_keys ${v}`] });
  },
  Ciphers: () => {
    const name = pick(CIPHERS);
    const v = [name, `${hostile(2)}${name}`, `${name}${hostile(2)}`][Math.floor(random() * 3)] as string;
    return around({ options: { Ciphers: [v, 'aes192-ctr'] } }, { ciphers: [`${v},aes192-ctr`] });
  },
  Banner: () => {
    const v = `/etc/${hostile()}`;
    return around({ options: { Banner: v } }, { banner: [v] });
  },
  'extra VersionAddendum': () => {
    const v = hostile(12);
    return around({ extra: { VersionAddendum: v } }, { versionaddendum: [v] });
  },
  'extra AcceptEnv': () => {
    const v = hostile(12);
    return around({ extra: { AcceptEnv: v } }, { acceptenv: v.split(' ') });
  },
};
const PER_KIND = 150;

const host = { name: 'testhost', groups: [], vars: {}, facts: { platform: 'el9' } } as unknown as HostView;
/** The drop-in the parameters render to, or undefined when they are refused before any host is touched. */
function rendered(params: SshdConfigParams): WantedDropIn | undefined {
  const task = sshd.config(params);
  if (taskProblems(task, '').length > 0) return undefined;
  try {
    return task.module.resolve(task.params, host) as WantedDropIn;
  } catch {
    return undefined;
  }
}

/** Each file given to `sshd -T -f` on the host, in one round trip: name → exit code and output. */
async function sshdReads(files: ReadonlyMap<string, string>): Promise<Map<string, { code: number; output: string }>> {
  const input = [...files].map(([name, content]) => `${name} ${Buffer.from(content).toString('base64')}\n`).join('');
  const result = await a.exec(
    `d=$(mktemp -d) && while read -r name b64; do printf %s "$b64" | base64 -d >"$d/$name"; done && ` +
      `for f in "$d"/*; do printf '@@case %s\\n' "\${f##*/}"; sshd -T -f "$f" 2>&1; printf '@@code %s\\n' "$?"; done | base64 -w0; rm -rf "$d"`,
    { input, timeoutMs: 120_000 },
  );
  // base64 on the way back: the test harness decodes output chunk by chunk, which can split a multi-byte character.
  const output = Buffer.from(result.stdout, 'base64').toString('utf8');
  const reads = new Map<string, { code: number; output: string }>();
  for (const block of output.split('@@case ').slice(1)) {
    const [name = '', ...rest] = block.split('\n');
    const body = rest.join('\n');
    const code = /@@code (\d+)\n?$/.exec(body);
    reads.set(name, { code: Number(code?.[1] ?? -1), output: body.replace(/@@code \d+\n?$/, '') });
  }
  return reads;
}

t.test("sshd.config: every generated hostile value is refused at validation or read back unchanged by sshd's parser", async (t) => {
  const cases = new Map<string, { kind: string; c: Case }>();
  const files = new Map<string, string>();
  const refused: Record<string, number> = {};
  for (const [kind, make] of Object.entries(kinds)) {
    refused[kind] = 0;
    for (let i = 0; i < PER_KIND; i++) {
      const c = make();
      const wanted = rendered(c.params);
      if (!wanted) {
        refused[kind] = (refused[kind] ?? 0) + 1;
        continue;
      }
      const name = `${kind.replace(/\W/g, '_')}-${i}.conf`;
      cases.set(name, { kind, c });
      // sshd -T needs a host key; it comes after the drop-in, so every value of the drop-in is read first.
      files.set(name, `${wanted.content}HostKey /etc/ssh/ssh_host_ed25519_key\n`);
    }
  }
  const reads = await sshdReads(files);
  const readBack: Record<string, number> = {};
  for (const [name, { kind, c }] of cases) {
    const read = reads.get(name);
    const shown = `${kind} ${JSON.stringify(c.params)}`;
    if (!read || read.code !== 0) {
      // sshd itself refusing a value is safe (sshd.config then installs nothing), but only for the line holding it.
      t.match(read?.output, new RegExp(`${name.replace('.', '\\.')} line \\d+|[Bb]ad|[Ii]nvalid|[Uu]nsupported`), `${shown}: refused by sshd for its own reason`);
      continue;
    }
    const effective = parseEffective(read.output);
    for (const [keyword, values] of Object.entries(c.expect)) t.same(effective.get(keyword), values, `${shown}: ${keyword}`);
    readBack[kind] = (readBack[kind] ?? 0) + 1;
  }
  t.comment(`refused at validation: ${JSON.stringify(refused)}; read back unchanged: ${JSON.stringify(readBack)}`);
  for (const kind of Object.keys(kinds)) {
    t.ok((refused[kind] ?? 0) >= PER_KIND / 10, `${kind}: hostile values were generated and refused (${refused[kind]})`);
    t.ok((readBack[kind] ?? 0) >= 5, `${kind}: values that pass are written so sshd reads them back (${readBack[kind] ?? 0})`);
  }
});

t.test('sshd.config: the bytes of the injections found in review are refused, and odd but harmless ones are read back', async (t) => {
  for (const value of ['root\0', 'root\r', 'root\nPermitRootLogin yes', 'root\\', '#root', 'root #x', '"root', "root'", ' root', 'root ', '=root']) {
    t.notOk(rendered({ options: { AllowUsers: [value] } }), `AllowUsers ${JSON.stringify(value)} is refused`);
    t.notOk(rendered({ extra: { ChrootDirectory: value } }), `extra ${JSON.stringify(value)} is refused`);
  }
  for (const value of ['-aes128-ctr', '+aes128-ctr', '^aes128-ctr']) t.notOk(rendered({ options: { Ciphers: [value] } }), `Ciphers ${value} is refused`);
  const odd = ['d%u', 'a*', '!x', 'u@10.0.0.0/8', 'é', '$x', '`x`', 'a;b', 'a=b'];
  const wanted = rendered({ options: { AllowUsers: odd } });
  const read = (await sshdReads(new Map([['odd.conf', `${wanted?.content}HostKey /etc/ssh/ssh_host_ed25519_key\n`]]))).get('odd.conf');
  t.equal(read?.code, 0, read?.output ?? 'no output');
  t.same(parseEffective(read?.output ?? '').get('allowusers'), odd);
});
