import { createHash } from 'node:crypto';
import { assertNoParamProblems } from '../../lib/module/param-problems.ts';
import { revealSecret } from '../../lib/secret/scope.ts';
import { hostPathOf, type Secret } from '../../lib/secret/secret.ts';
import { scopeSchema, toScope, type ScopeParam, type SystemdScope } from '../systemd/scope.ts';
import { fileName, quadletProblems, renderQuadlet, serviceName, type QuadletParams } from './render.ts';

/**
 * The typed options of the four quadlet kinds. Names are the quadlet keys in
 * camelCase (`publishPort` → `PublishPort=`); anything not typed here goes
 * through `extra`, section by section, written as given.
 */

/** A value written as is; an array writes the key once per element. */
export type RawValue = string | number | boolean | readonly (string | number)[];
export type RawSection = Readonly<Record<string, RawValue>>;

/** Where the podman image comes from before the service starts. */
export type PullPolicy = 'missing' | 'always' | 'never';

export type RestartPolicy = 'no' | 'always' | 'on-success' | 'on-failure' | 'on-abnormal' | 'on-abort' | 'on-watchdog';

/** Raw keys of the sections every kind has (a type, not an interface, so it reads as a record of sections). */
type CommonSections = {
  /** Raw [Unit] keys: `{ After: 'network-online.target' }`. */
  readonly Unit?: RawSection;
  /** Raw [Service] keys: `{ RestartSec: 10 }`. */
  readonly Service?: RawSection;
  /** Raw [Install] keys. */
  readonly Install?: RawSection;
};

interface QuadletCommon<Extra extends CommonSections> {
  /** Unit base name: `web` → `web.container` and `web.service`. */
  readonly name: string;
  /**
   * `{ user: 'alice' }` for a rootless quadlet in
   * `~alice/.config/containers/systemd/`, run by alice's own systemd manager
   * (lingering is turned on so it runs without a login). Default: 'system'.
   */
  readonly scope?: ScopeParam;
  /** `[Unit] Description=`, written literally (`%` is not a specifier here). */
  readonly description?: string;
  /** `[Service] Restart=`. */
  readonly restart?: RestartPolicy;
  /** `[Service] TimeoutStartSec=`: seconds, or a systemd time span like '5min'. A first image pull can take long. */
  readonly timeoutStartSec?: number | string;
  /**
   * `[Install] WantedBy=`: the targets that start the service at boot. The
   * generator turns it into wants links, since generated units cannot be
   * `systemctl enable`d. Default for containers and pods: `multi-user.target
   * default.target` (system) or `default.target` (user); none for networks and
   * volumes, which start as dependencies of the containers using them. `[]` for none.
   */
  readonly wantedBy?: readonly string[];
  /**
   * Raw keys per section, written after the typed ones in key order, in
   * quadlet's syntax (`%` specifiers and, in the kind's section, `$VAR`
   * are resolved by systemd in the generated service).
   */
  readonly extra?: Extra;
}

export interface ContainerParams
  extends QuadletCommon<
    CommonSections & {
      /** Raw [Container] keys: those of quadlet's container keys this module has no parameter for. */
      readonly Container?: RawSection;
    }
  > {
  /** Image reference (`localhost/app:1`, `registry.example/app:2`) or a `.image`/`.build` quadlet; never starting with `-`. */
  readonly image: string;
  /** `missing` (default) pulls when the image is not on the host; `never` fails instead; `always` pulls on every run (reported as a change every run). */
  readonly pull?: PullPolicy;
  /**
   * Command and arguments after the image: a command line as quadlet reads
   * it, or words (quoted for you). Either way `%h` and `$VAR` are resolved
   * by systemd (write `%%`, `$$` for the characters), and `;` cannot be a
   * word of its own (systemd would start another command there).
   */
  readonly exec?: string | readonly string[];
  /** The container's name in podman (`podman ps`); quadlet's default is `systemd-<name>`. */
  readonly containerName?: string;
  /** `8080:80`, `127.0.0.1:8443:443/tcp`. */
  readonly publishPort?: readonly (string | number)[];
  /** `/srv/data:/data:Z`, `data.volume:/data`. */
  readonly volume?: readonly string[];
  /** `host`, `none`, `web.network`, or a podman network name. */
  readonly network?: string | readonly string[];
  /** Values arrive in the container exactly as given (quoted and escaped for you); CR LF is refused, since podman turns it into LF. */
  readonly environment?: Readonly<Record<string, string>>;
  /** Files of `NAME=value` lines read into the container's environment (paths on the host). */
  readonly environmentFile?: string | readonly string[];
  /** Podman secrets: `dbpass,type=env,target=DB_PASSWORD`. */
  readonly secret?: readonly string[];
  /** Labels on the container: `{ app: 'web' }`; values arrive exactly as given. */
  readonly label?: Readonly<Record<string, string>>;
  /** Command podman runs inside the container to check its health: `curl -f http://localhost/`. */
  readonly healthCmd?: string;
  /** How often the health check runs: '30s', '1m'. */
  readonly healthInterval?: string;
  /** How many failed checks in a row make the container unhealthy. */
  readonly healthRetries?: number;
  /** Time after the start during which failed checks do not count. */
  readonly healthStartPeriod?: string;
  /** How long one check may take before it counts as failed. */
  readonly healthTimeout?: string;
  /** `registry` or `local`: picked up by podman-auto-update.timer. */
  readonly autoUpdate?: 'registry' | 'local';
  /** User (name or uid) the process runs as inside the container. */
  readonly user?: string | number;
  /** Group (name or gid) the process runs as inside the container. */
  readonly group?: string | number;
  /** The user namespace of the container: `keep-id`, `auto`, ... */
  readonly userNS?: string;
  /** The pod quadlet this container joins: `app.pod`. */
  readonly pod?: string;
  /** Linux capabilities to add: `['NET_ADMIN']`. */
  readonly addCapability?: readonly string[];
  /** Linux capabilities to drop: `['ALL']`. */
  readonly dropCapability?: readonly string[];
  /** Mount the container's root filesystem read-only. */
  readonly readOnly?: boolean;
  /** `/tmp`, `/run:rw,size=64m`. */
  readonly tmpfs?: readonly string[];
  /** Extra `podman run` arguments, one word each. */
  readonly podmanArgs?: readonly string[];
}

export interface NetworkParams
  extends QuadletCommon<
    CommonSections & {
      /** Raw [Network] keys: those of quadlet's network keys this module has no parameter for. */
      readonly Network?: RawSection;
    }
  > {
  /** Podman network name; quadlet's default is `systemd-<name>`. */
  readonly networkName?: string;
  /** The network driver: 'bridge' (podman's default), 'macvlan' or 'ipvlan'. */
  readonly driver?: 'bridge' | 'macvlan' | 'ipvlan';
  /** Subnet(s) of the network, in CIDR form: `10.89.7.0/24`. */
  readonly subnet?: string | readonly string[];
  /** Gateway address(es), one per subnet. */
  readonly gateway?: string | readonly string[];
  /** No route out of the network: its containers reach only each other. */
  readonly internal?: boolean;
  /** Enable IPv6 on the network. */
  readonly ipv6?: boolean;
  /** Labels on the network; values arrive exactly as given. */
  readonly label?: Readonly<Record<string, string>>;
}

export interface VolumeParams
  extends QuadletCommon<
    CommonSections & {
      /** Raw [Volume] keys: those of quadlet's volume keys this module has no parameter for. */
      readonly Volume?: RawSection;
    }
  > {
  /** Podman volume name; quadlet's default is `systemd-<name>`. */
  readonly volumeName?: string;
  /** The volume driver: podman's 'local' by default, or a volume plugin's name. */
  readonly driver?: string;
  /** Labels on the volume; values arrive exactly as given. */
  readonly label?: Readonly<Record<string, string>>;
  /** A device to mount as the volume (`/dev/sdb1`, `tmpfs`), with its filesystem `type` and mount `options`. */
  readonly device?: string;
  /** The filesystem type of `device` (`ext4`, `tmpfs`), as mount -t takes it. */
  readonly type?: string;
  /** Mount options for `device` (`size=64m`, `nodev`), as mount -o takes them. */
  readonly options?: string;
}

export interface PodParams
  extends QuadletCommon<
    CommonSections & {
      /** Raw [Pod] keys: those of quadlet's pod keys this module has no parameter for. */
      readonly Pod?: RawSection;
    }
  > {
  /** Podman pod name; quadlet's default is `systemd-<name>`. */
  readonly podName?: string;
  /** Ports the pod publishes, for all its containers: `8443:443`, `127.0.0.1:8080:80/tcp`. */
  readonly publishPort?: readonly (string | number)[];
  /** Networks the pod joins: `host`, `web.network`, or a podman network name. */
  readonly network?: string | readonly string[];
  /** Volumes mounted in every container of the pod: `data.volume:/data`. */
  readonly volume?: readonly string[];
}

export type QuadletKind = 'container' | 'network' | 'volume' | 'pod';

// ── JSON Schemas ─────────────────────────────────────────────────────────

/** One line of a unit file: a line break (LF, CR or NUL, each ends a line for systemd) would start a new key, so none is allowed in any value. */
const line = { type: 'string', pattern: '^[^\\n\\r\\u0000]*$', 'x-expected': 'one line (no line break or NUL)' } as const;
const nonEmptyLine = { type: 'string', pattern: '^[^\\n\\r\\u0000]+$', 'x-expected': 'one non-empty line (no line break or NUL)' } as const;
const lines = { type: 'array', items: nonEmptyLine } as const;
const lineOrLines = { anyOf: [nonEmptyLine, lines] } as const;
// One union type rather than anyOf, so a bad port is reported by its own rule, not as "must match a schema in anyOf".
const ports = { type: 'array', items: { type: ['string', 'integer'], pattern: '^[^\\n\\r\\u0000]+$', minimum: 1, maximum: 65535, 'x-expected': 'a port such as 8080, or a publish rule such as "127.0.0.1:8080:80/tcp" (one line)' } } as const;
/** Values of `environment` and `label` are quoted and escaped (line breaks included), so only NUL, which no argument can hold, is refused. */
const literalText = { type: 'string', pattern: '^[^\\u0000]*$', 'x-expected': 'text without a NUL character' } as const;
const keyValues = { type: 'object', propertyNames: { pattern: '^[^\\s=\\u0000]+$', 'x-expected': 'a name without blanks or "="' }, additionalProperties: literalText } as const;
const envValues = { type: 'object', propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$', 'x-expected': 'an environment variable name (letters, digits and _, not starting with a digit)' }, additionalProperties: literalText } as const;
const timeSpan = { type: 'string', pattern: '^[0-9][0-9a-z .]*$', 'x-expected': 'a time span such as "30s" or "5min 20s"' } as const;
const userOrId = { anyOf: [{ type: 'string', pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]*$', 'x-expected': 'a user or group name' }, { type: 'integer', minimum: 0 }] } as const;

const rawValue = {
  anyOf: [line, { type: 'number' }, { type: 'boolean' }, { type: 'array', items: { anyOf: [line, { type: 'number' }] } }],
  'x-expected': 'one line, a number, true or false, or a list of lines and numbers',
} as const;
const rawSection = { type: 'object', propertyNames: { pattern: '^[A-Za-z][A-Za-z0-9-]*$', 'x-expected': 'a key such as "Environment" (letters, digits and -)' }, additionalProperties: rawValue } as const;

function commonProperties(section: string) {
  return {
    name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', maxLength: 200, 'x-expected': 'a name of letters, digits, _, . and -, starting with a letter or digit', description: 'Unit base name: `web` → `web.container` and `web.service`.' },
    scope: {
      ...scopeSchema,
      description:
        "`{ user: 'alice' }` for a rootless quadlet in `~alice/.config/containers/systemd/`, run by alice's own systemd manager (lingering is turned on so it runs without a login). Default: 'system'.",
    },
    description: { ...line, description: '`[Unit] Description=`, written literally (`%` is not a specifier here).' },
    restart: { enum: ['no', 'always', 'on-success', 'on-failure', 'on-abnormal', 'on-abort', 'on-watchdog'], description: '`[Service] Restart=`.' },
    timeoutStartSec: {
      anyOf: [{ type: 'integer', minimum: 0 }, timeSpan, { const: 'infinity' }],
      description: "`[Service] TimeoutStartSec=`: seconds, or a systemd time span like '5min'. A first image pull can take long.",
    },
    wantedBy: {
      type: 'array',
      items: { type: 'string', pattern: '^[A-Za-z0-9:_.@-]+$', 'x-expected': 'a unit name such as "default.target"' },
      description:
        '`[Install] WantedBy=`: the targets that start the service at boot. The generator turns it into wants links, since generated units cannot be `systemctl enable`d. Default for containers and pods: `multi-user.target default.target` (system) or `default.target` (user); none for networks and volumes, which start as dependencies of the containers using them. `[]` for none.',
    },
    extra: {
      type: 'object',
      properties: {
        Unit: { ...rawSection, description: "Raw [Unit] keys: `{ After: 'network-online.target' }`." },
        Service: { ...rawSection, description: 'Raw [Service] keys: `{ RestartSec: 10 }`.' },
        Install: { ...rawSection, description: 'Raw [Install] keys.' },
        [section]: { ...rawSection, description: `Raw [${section}] keys: those of quadlet's ${section.toLowerCase()} keys this module has no parameter for.` },
      },
      additionalProperties: false,
      description:
        "Raw keys per section, written after the typed ones in key order, in quadlet's syntax (`%` specifiers and, in the kind's section, `$VAR` are resolved by systemd in the generated service).",
    },
  };
}

export const containerSchema = {
  type: 'object',
  required: ['name', 'image'],
  properties: {
    ...commonProperties('Container'),
    image: { ...nonEmptyLine, description: 'Image reference (`localhost/app:1`, `registry.example/app:2`) or a `.image`/`.build` quadlet; never starting with `-`.' },
    pull: {
      enum: ['missing', 'always', 'never'],
      description: '`missing` (default) pulls when the image is not on the host; `never` fails instead; `always` pulls on every run (reported as a change every run).',
    },
    exec: {
      anyOf: [nonEmptyLine, { type: 'array', items: line, minItems: 1 }], 'x-expected': 'a command line, or a non-empty list of arguments (no line breaks)',
      description:
        'Command and arguments after the image: a command line as quadlet reads it, or words (quoted for you). Either way `%h` and `$VAR` are resolved by systemd (write `%%`, `$$` for the characters), and `;` cannot be a word of its own (systemd would start another command there).',
    },
    containerName: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', 'x-expected': 'a name of letters, digits, _, . and -, starting with a letter or digit', description: "The container's name in podman (`podman ps`); quadlet's default is `systemd-<name>`." },
    publishPort: { ...ports, description: '`8080:80`, `127.0.0.1:8443:443/tcp`.' },
    volume: { ...lines, description: '`/srv/data:/data:Z`, `data.volume:/data`.' },
    network: { ...lineOrLines, description: '`host`, `none`, `web.network`, or a podman network name.' },
    // Environment values are often credentials (POSTGRES_PASSWORD): never printed in a parameter error.
    environment: { ...envValues, sensitive: true, description: 'Values arrive in the container exactly as given (quoted and escaped for you); CR LF is refused, since podman turns it into LF.' },
    environmentFile: { ...lineOrLines, description: "Files of `NAME=value` lines read into the container's environment (paths on the host)." },
    secret: { ...lines, description: 'Podman secrets: `dbpass,type=env,target=DB_PASSWORD`.' },
    label: { ...keyValues, description: "Labels on the container: `{ app: 'web' }`; values arrive exactly as given." },
    healthCmd: { ...nonEmptyLine, description: 'Command podman runs inside the container to check its health: `curl -f http://localhost/`.' },
    healthInterval: { ...timeSpan, description: "How often the health check runs: '30s', '1m'." },
    healthRetries: { type: 'integer', minimum: 0, description: 'How many failed checks in a row make the container unhealthy.' },
    healthStartPeriod: { ...timeSpan, description: 'Time after the start during which failed checks do not count.' },
    healthTimeout: { ...timeSpan, description: 'How long one check may take before it counts as failed.' },
    autoUpdate: { enum: ['registry', 'local'], description: '`registry` or `local`: picked up by podman-auto-update.timer.' },
    user: { ...userOrId, description: 'User (name or uid) the process runs as inside the container.' },
    group: { ...userOrId, description: 'Group (name or gid) the process runs as inside the container.' },
    userNS: { ...nonEmptyLine, description: 'The user namespace of the container: `keep-id`, `auto`, ...' },
    pod: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*\\.pod$', 'x-expected': 'a pod unit name such as "web.pod"', description: 'The pod quadlet this container joins: `app.pod`.' },
    addCapability: { ...lines, description: "Linux capabilities to add: `['NET_ADMIN']`." },
    dropCapability: { ...lines, description: "Linux capabilities to drop: `['ALL']`." },
    readOnly: { type: 'boolean', description: "Mount the container's root filesystem read-only." },
    tmpfs: { ...lines, description: '`/tmp`, `/run:rw,size=64m`.' },
    podmanArgs: { type: 'array', items: line, description: 'Extra `podman run` arguments, one word each.' },
  },
  additionalProperties: false,
} as const;

export const networkSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    ...commonProperties('Network'),
    networkName: { ...nonEmptyLine, description: "Podman network name; quadlet's default is `systemd-<name>`." },
    driver: { enum: ['bridge', 'macvlan', 'ipvlan'], description: "The network driver: 'bridge' (podman's default), 'macvlan' or 'ipvlan'." },
    subnet: { ...lineOrLines, description: 'Subnet(s) of the network, in CIDR form: `10.89.7.0/24`.' },
    gateway: { ...lineOrLines, description: 'Gateway address(es), one per subnet.' },
    internal: { type: 'boolean', description: 'No route out of the network: its containers reach only each other.' },
    ipv6: { type: 'boolean', description: 'Enable IPv6 on the network.' },
    label: { ...keyValues, description: 'Labels on the network; values arrive exactly as given.' },
  },
  additionalProperties: false,
} as const;

export const volumeSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    ...commonProperties('Volume'),
    volumeName: { ...nonEmptyLine, description: "Podman volume name; quadlet's default is `systemd-<name>`." },
    driver: { ...nonEmptyLine, description: "The volume driver: podman's 'local' by default, or a volume plugin's name." },
    label: { ...keyValues, description: 'Labels on the volume; values arrive exactly as given.' },
    device: { ...nonEmptyLine, description: 'A device to mount as the volume (`/dev/sdb1`, `tmpfs`), with its filesystem `type` and mount `options`.' },
    type: { ...nonEmptyLine, description: 'The filesystem type of `device` (`ext4`, `tmpfs`), as mount -t takes it.' },
    options: { ...nonEmptyLine, description: 'Mount options for `device` (`size=64m`, `nodev`), as mount -o takes them.' },
  },
  additionalProperties: false,
} as const;

export const podSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    ...commonProperties('Pod'),
    podName: { ...nonEmptyLine, description: "Podman pod name; quadlet's default is `systemd-<name>`." },
    publishPort: { ...ports, description: 'Ports the pod publishes, for all its containers: `8443:443`, `127.0.0.1:8080:80/tcp`.' },
    network: { ...lineOrLines, description: 'Networks the pod joins: `host`, `web.network`, or a podman network name.' },
    volume: { ...lines, description: 'Volumes mounted in every container of the pod: `data.volume:/data`.' },
  },
  additionalProperties: false,
} as const;

// ── what a task resolves to ──────────────────────────────────────────────

/** A quadlet task made concrete: what to write, where, and which service it becomes. */
export interface ResolvedQuadlet {
  readonly kind: QuadletKind;
  readonly name: string;
  readonly scope: SystemdScope;
  /** `web.container` */
  readonly file: string;
  /** `web.service`, `web-network.service`, ... */
  readonly service: string;
  readonly content: Buffer;
  /** The image to look for before starting; absent for networks, volumes, pods and `.image`/`.build` references. */
  readonly image?: string;
  readonly pull: PullPolicy;
  /** The task's parameters, for the NixOS renderer's structured options. */
  readonly spec?: QuadletParams;
}

/** The task for one kind, made concrete: its file rendered (values checked first), its service named. */
export function resolveQuadlet<P extends ContainerParams | NetworkParams | VolumeParams | PodParams>(kind: QuadletKind) {
  return (params: P): ResolvedQuadlet => {
    const spec = { kind, params } as QuadletParams;
    assertNoParamProblems(quadletProblems(spec));
    const scope = toScope(params.scope);
    const content = Buffer.from(renderQuadlet(spec, scope), 'utf8');
    const image = kind === 'container' ? (params as ContainerParams).image : undefined;
    return {
      kind,
      name: params.name,
      scope,
      file: fileName(kind, params.name),
      service: serviceName(kind, params.name),
      content,
      // `.image` and `.build` quadlets are units of their own that quadlet makes the container depend on.
      ...(image !== undefined && !/\.(image|build)$/.test(image) ? { image } : {}),
      pull: kind === 'container' ? ((params as ContainerParams).pull ?? 'missing') : 'missing',
      spec,
    };
  };
}

// ── Podman secrets ───────────────────────────────────────────────────────

export interface PodmanSecretParams {
  /** The Podman secret's name, as containers name it in `secret`: `dbpass` → `secret: ['dbpass,type=env,target=DB_PASSWORD']`. */
  readonly name: string;
  /**
   * The value, a Secret: it reaches podman on standard input and is
   * compared by the sha256 kept in the secret's label `hostform.sha256`,
   * never read back. `secret.onHost(path)` takes a file already on the host
   * (agenix, sops-nix) instead. Required unless `state` is 'absent'.
   */
  readonly value?: Secret;
  /** The store it goes in: the system's podman (default), or `{ user: 'alice' }` for alice's rootless containers. */
  readonly scope?: ScopeParam;
  /** 'present' (default) creates the secret, or replaces it when its value changed; 'absent' removes it. */
  readonly state?: 'present' | 'absent';
}

export const podmanSecretSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: {
      type: 'string',
      pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$',
      maxLength: 253,
      'x-expected': 'a name of letters, digits, _, . and -, starting with a letter or digit',
      description: "The Podman secret's name, as containers name it in `secret`: `dbpass` → `secret: ['dbpass,type=env,target=DB_PASSWORD']`.",
    },
    value: {
      jsType: 'secret',
      description:
        "The value, a Secret: it reaches podman on standard input and is compared by the sha256 kept in the secret's label `hostform.sha256`, never read back. `secret.onHost(path)` takes a file already on the host (agenix, sops-nix) instead. Required unless `state` is 'absent'.",
    },
    scope: { ...scopeSchema, description: "The store it goes in: the system's podman (default), or `{ user: 'alice' }` for alice's rootless containers." },
    state: { enum: ['present', 'absent'], description: "'present' (default) creates the secret, or replaces it when its value changed; 'absent' removes it." },
  },
  additionalProperties: false,
  if: { not: { properties: { state: { const: 'absent' } }, required: ['state'] } },
  then: { required: ['value'] },
} as const;

/** A Podman secret task made concrete: its value read (or the host file named), its sha256 known. */
export type ResolvedPodmanSecret =
  | { readonly state: 'absent'; readonly name: string; readonly scope: SystemdScope }
  | {
      readonly state: 'present';
      readonly name: string;
      readonly scope: SystemdScope;
      /** The value (never shown), or the file on the host that holds it. */
      readonly value: { readonly text: string; readonly sha256: string } | { readonly hostFile: string };
    };

export function resolvePodmanSecret(p: PodmanSecretParams): ResolvedPodmanSecret {
  const scope = toScope(p.scope);
  if (p.state === 'absent') return { state: 'absent', name: p.name, scope };
  if (p.value === undefined) throw new Error(`parameter 'value' is required unless 'state' is "absent"`);
  const hostFile = hostPathOf(p.value);
  if (hostFile !== undefined) return { state: 'present', name: p.name, scope, value: { hostFile } };
  const text = revealSecret(p.value);
  return { state: 'present', name: p.name, scope, value: { text, sha256: createHash('sha256').update(text, 'utf8').digest('hex') } };
}
