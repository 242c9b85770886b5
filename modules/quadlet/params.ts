import { assertNoParamProblems } from '../../lib/module/param-problems.ts';
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

interface QuadletCommon<Section extends string> {
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
  readonly extra?: { readonly [S in 'Unit' | 'Service' | 'Install' | Section]?: RawSection };
}

export interface ContainerParams extends QuadletCommon<'Container'> {
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
  readonly containerName?: string;
  /** `8080:80`, `127.0.0.1:8443:443/tcp`. */
  readonly publishPort?: readonly (string | number)[];
  /** `/srv/data:/data:Z`, `data.volume:/data`. */
  readonly volume?: readonly string[];
  /** `host`, `none`, `web.network`, or a podman network name. */
  readonly network?: string | readonly string[];
  /** Values arrive in the container exactly as given (quoted and escaped for you); CR LF is refused, since podman turns it into LF. */
  readonly environment?: Readonly<Record<string, string>>;
  readonly environmentFile?: string | readonly string[];
  /** Podman secrets: `dbpass,type=env,target=DB_PASSWORD`. */
  readonly secret?: readonly string[];
  readonly label?: Readonly<Record<string, string>>;
  readonly healthCmd?: string;
  readonly healthInterval?: string;
  readonly healthRetries?: number;
  readonly healthStartPeriod?: string;
  readonly healthTimeout?: string;
  /** `registry` or `local`: picked up by podman-auto-update.timer. */
  readonly autoUpdate?: 'registry' | 'local';
  /** User (name or uid) the process runs as inside the container. */
  readonly user?: string | number;
  readonly group?: string | number;
  /** `keep-id`, `auto`, ... */
  readonly userNS?: string;
  /** The pod quadlet this container joins: `app.pod`. */
  readonly pod?: string;
  readonly addCapability?: readonly string[];
  readonly dropCapability?: readonly string[];
  readonly readOnly?: boolean;
  /** `/tmp`, `/run:rw,size=64m`. */
  readonly tmpfs?: readonly string[];
  /** Extra `podman run` arguments, one word each. */
  readonly podmanArgs?: readonly string[];
}

export interface NetworkParams extends QuadletCommon<'Network'> {
  /** Podman network name; quadlet's default is `systemd-<name>`. */
  readonly networkName?: string;
  readonly driver?: 'bridge' | 'macvlan' | 'ipvlan';
  readonly subnet?: string | readonly string[];
  readonly gateway?: string | readonly string[];
  readonly internal?: boolean;
  readonly ipv6?: boolean;
  readonly label?: Readonly<Record<string, string>>;
}

export interface VolumeParams extends QuadletCommon<'Volume'> {
  /** Podman volume name; quadlet's default is `systemd-<name>`. */
  readonly volumeName?: string;
  readonly driver?: string;
  readonly label?: Readonly<Record<string, string>>;
  /** A device to mount as the volume (`/dev/sdb1`, `tmpfs`), with its filesystem `type` and mount `options`. */
  readonly device?: string;
  readonly type?: string;
  readonly options?: string;
}

export interface PodParams extends QuadletCommon<'Pod'> {
  /** Podman pod name; quadlet's default is `systemd-<name>`. */
  readonly podName?: string;
  readonly publishPort?: readonly (string | number)[];
  readonly network?: string | readonly string[];
  readonly volume?: readonly string[];
}

export type QuadletKind = 'container' | 'network' | 'volume' | 'pod';

// ── JSON Schemas ─────────────────────────────────────────────────────────

/** One line of a unit file: a line break (LF, CR or NUL, each ends a line for systemd) would start a new key, so none is allowed in any value. */
const line = { type: 'string', pattern: '^[^\\n\\r\\u0000]*$' } as const;
const nonEmptyLine = { type: 'string', pattern: '^[^\\n\\r\\u0000]+$' } as const;
const lines = { type: 'array', items: nonEmptyLine } as const;
const lineOrLines = { anyOf: [nonEmptyLine, lines] } as const;
// One union type rather than anyOf, so a bad port is reported by its own rule, not as "must match a schema in anyOf".
const ports = { type: 'array', items: { type: ['string', 'integer'], pattern: '^[^\\n\\r\\u0000]+$', minimum: 1, maximum: 65535 } } as const;
/** Values of `environment` and `label` are quoted and escaped (line breaks included), so only NUL, which no argument can hold, is refused. */
const literalText = { type: 'string', pattern: '^[^\\u0000]*$' } as const;
const keyValues = { type: 'object', propertyNames: { pattern: '^[^\\s=\\u0000]+$' }, additionalProperties: literalText } as const;
const envValues = { type: 'object', propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }, additionalProperties: literalText } as const;
const timeSpan = { type: 'string', pattern: '^[0-9][0-9a-z .]*$' } as const;
const userOrId = { anyOf: [{ type: 'string', pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]*$' }, { type: 'integer', minimum: 0 }] } as const;

const rawValue = { anyOf: [line, { type: 'number' }, { type: 'boolean' }, { type: 'array', items: { anyOf: [line, { type: 'number' }] } }] } as const;
const rawSection = { type: 'object', propertyNames: { pattern: '^[A-Za-z][A-Za-z0-9-]*$' }, additionalProperties: rawValue } as const;

function commonProperties(section: string) {
  return {
    name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', maxLength: 200 },
    scope: scopeSchema,
    description: line,
    restart: { enum: ['no', 'always', 'on-success', 'on-failure', 'on-abnormal', 'on-abort', 'on-watchdog'] },
    timeoutStartSec: { anyOf: [{ type: 'integer', minimum: 0 }, timeSpan, { const: 'infinity' }] },
    wantedBy: { type: 'array', items: { type: 'string', pattern: '^[A-Za-z0-9:_.@-]+$' } },
    extra: {
      type: 'object',
      properties: { Unit: rawSection, Service: rawSection, Install: rawSection, [section]: rawSection },
      additionalProperties: false,
    },
  };
}

export const containerSchema = {
  type: 'object',
  required: ['name', 'image'],
  properties: {
    ...commonProperties('Container'),
    image: nonEmptyLine,
    pull: { enum: ['missing', 'always', 'never'] },
    exec: { anyOf: [nonEmptyLine, { type: 'array', items: line, minItems: 1 }] },
    containerName: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' },
    publishPort: ports,
    volume: lines,
    network: lineOrLines,
    // Environment values are often credentials (POSTGRES_PASSWORD): never printed in a parameter error.
    environment: { ...envValues, sensitive: true },
    environmentFile: lineOrLines,
    secret: lines,
    label: keyValues,
    healthCmd: nonEmptyLine,
    healthInterval: timeSpan,
    healthRetries: { type: 'integer', minimum: 0 },
    healthStartPeriod: timeSpan,
    healthTimeout: timeSpan,
    autoUpdate: { enum: ['registry', 'local'] },
    user: userOrId,
    group: userOrId,
    userNS: nonEmptyLine,
    pod: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*\\.pod$' },
    addCapability: lines,
    dropCapability: lines,
    readOnly: { type: 'boolean' },
    tmpfs: lines,
    podmanArgs: { type: 'array', items: line },
  },
  additionalProperties: false,
} as const;

export const networkSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    ...commonProperties('Network'),
    networkName: nonEmptyLine,
    driver: { enum: ['bridge', 'macvlan', 'ipvlan'] },
    subnet: lineOrLines,
    gateway: lineOrLines,
    internal: { type: 'boolean' },
    ipv6: { type: 'boolean' },
    label: keyValues,
  },
  additionalProperties: false,
} as const;

export const volumeSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    ...commonProperties('Volume'),
    volumeName: nonEmptyLine,
    driver: nonEmptyLine,
    label: keyValues,
    device: nonEmptyLine,
    type: nonEmptyLine,
    options: nonEmptyLine,
  },
  additionalProperties: false,
} as const;

export const podSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    ...commonProperties('Pod'),
    podName: nonEmptyLine,
    publishPort: ports,
    network: lineOrLines,
    volume: lines,
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
