import { defineModule } from '../../lib/module/define.ts';
import type { Backend } from '../../lib/module/types.ts';
import type { NixosRenderer } from '../../lib/nixos/renderer.ts';
import { unitKey } from '../systemd/resources.ts';
import { scopeSuffix, toScope } from '../systemd/scope.ts';
import { applyPodmanSecret, applyQuadlets } from './apply.ts';
import { nixosContainer, nixosQuadletUnit } from './nixos.ts';
import { parsePodmanSecret, parseQuadlet, podmanSecretProbes, quadletProbes, type ObservedPodmanSecret, type ObservedQuadlet, type PodmanSecretProbes, type QuadletProbes } from './observe.ts';
import {
  containerSchema,
  networkSchema,
  podmanSecretSchema,
  podSchema,
  resolvePodmanSecret,
  resolveQuadlet,
  volumeSchema,
  type ContainerParams,
  type NetworkParams,
  type PodmanSecretParams,
  type PodParams,
  type ResolvedPodmanSecret,
  type QuadletKind,
  type ResolvedQuadlet,
  type VolumeParams,
} from './params.ts';
import { planPodmanSecret, planQuadlet, quadletEffects, type PodmanSecretAction, type QuadletAction } from './plan.ts';
import { fileName } from './render.ts';

export type { ContainerParams, NetworkParams, PodmanSecretParams, PodParams, VolumeParams, PullPolicy, RawSection, RawValue } from './params.ts';

/**
 * One backend for all four kinds: the engine applies consecutive tasks with
 * the same backend and batch key together, so a network, a volume and the
 * container using them are validated in one generator dry run and share one
 * daemon-reload.
 */
const backend: Backend<ResolvedQuadlet, ObservedQuadlet, QuadletAction, QuadletProbes> = {
  probes: quadletProbes,
  parse: parseQuadlet,
  plan: planQuadlet,
  apply: (params, changes, context) => applyQuadlets([{ params, changes }], context),
  effects: quadletEffects,
  batch: {
    key: (r) => unitKey(r.scope, ''),
    apply: applyQuadlets,
  },
};

/** One kind's module: the same backend, capabilities and naming as the others, its own schema and NixOS renderer. */
function quadletModule<P extends ContainerParams | NetworkParams | VolumeParams | PodParams>(kind: QuadletKind, schema: object, nixos: NixosRenderer<ResolvedQuadlet>) {
  return defineModule<P, ResolvedQuadlet>({
    name: `quadlet.${kind}`,
    schema,
    capabilities: {
      checkMode: true,
      diff: true,
      changes: ['atomic-file', 'tool-commands'],
      validates: "the quadlet generator's dry run on a copy of the directory, before the file is installed",
      notes: "validation by the quadlet generator's dry run happens when applying; pull: 'always' pulls on every run and is skipped in check mode",
    },
    describe: (p) => `quadlet ${fileName(kind, p.name)}${scopeSuffix(toScope(p.scope))}`,
    resolve: resolveQuadlet<P>(kind),
    backends: { el9: backend, linux: backend, nixos },
  });
}

/** Podman secrets are podman's own state, the same on every platform (NixOS included): created with podman, never rendered. */
const secretBackend: Backend<ResolvedPodmanSecret, ObservedPodmanSecret, PodmanSecretAction, PodmanSecretProbes> = {
  probes: podmanSecretProbes,
  parse: parsePodmanSecret,
  plan: planPodmanSecret,
  apply: applyPodmanSecret,
};

const podmanSecret = defineModule<PodmanSecretParams, ResolvedPodmanSecret>({
  name: 'quadlet.secret',
  schema: podmanSecretSchema,
  capabilities: { checkMode: true, diff: true, changes: ['tool-commands'], validates: 'none: podman stores the value it is given (podman secret create --replace, from standard input)', notes: 'the value is compared by the sha256 in the secret\'s label, never read back; a container reads a replaced secret when it restarts' },
  describe: (p) => `Podman secret ${p.name}${scopeSuffix(toScope(p.scope))}`,
  resolve: resolvePodmanSecret,
  backends: { el9: secretBackend, linux: secretBackend, nixos: secretBackend },
});

/**
 * Podman quadlets: a unit file podman's systemd generator turns into a
 * service, validated by the generator's dry run before it is installed,
 * then started (new) or restarted (changed). Rootful in
 * /etc/containers/systemd/, rootless with `scope: { user }`.
 *
 *   quadlet.network({ name: 'web', subnet: '10.89.7.0/24' })
 *   quadlet.volume({ name: 'data' })
 *   quadlet.container({
 *     name: 'web', image: 'docker.io/library/nginx:1.27', publishPort: ['8080:80'],
 *     network: 'web.network', volume: ['data.volume:/usr/share/nginx/html:Z'],
 *     environment: { TZ: 'Europe/Berlin' }, restart: 'always',
 *   })
 *   quadlet.pod({ name: 'app', publishPort: ['8443:443'] })
 *   quadlet.container({ name: 'sync', image: 'localhost/sync:1', scope: { user: 'alice' } })
 *
 * And the Podman secrets containers read (`Secret=`), never written into a unit:
 *
 *   quadlet.secret({ name: 'dbpass', value: secret.pass('home/postgres') }),
 *   quadlet.container({ name: 'db', image: 'docker.io/library/postgres:16', secret: ['dbpass,type=env,target=POSTGRES_PASSWORD'] })
 */
export const quadlet = {
  container: quadletModule<ContainerParams>('container', containerSchema, nixosContainer),
  network: quadletModule<NetworkParams>('network', networkSchema, nixosQuadletUnit),
  volume: quadletModule<VolumeParams>('volume', volumeSchema, nixosQuadletUnit),
  pod: quadletModule<PodParams>('pod', podSchema, nixosQuadletUnit),
  secret: podmanSecret,
};
