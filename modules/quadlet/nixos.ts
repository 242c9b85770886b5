import { Skip } from '../../lib/module/skip.ts';
import { nixosRenderer } from '../../lib/nixos/renderer.ts';
import { forced, type NixAttrs } from '../../lib/nixos/value.ts';
import { asList } from '../shared/list.ts';
import { literalValue } from '../systemd/sections.ts';
import type { ContainerParams, ResolvedQuadlet } from './params.ts';

/**
 * A container on NixOS: virtualisation.oci-containers with the podman
 * backend. NixOS runs it as the service podman-<name>.service (quadlet's
 * is <name>.service) under the container name <name>, or containerName
 * when given (quadlet's default is systemd-<name>). Options oci-containers
 * has no field for become podman run arguments (extraOptions), the same
 * ones quadlet would pass.
 *
 *   quadlet.container({ name: 'web', image: 'docker.io/library/nginx:1.27', publishPort: ['8080:80'], environment: { TZ: 'UTC' } })
 *   → virtualisation.oci-containers.containers.web = { image = "docker.io/library/nginx:1.27"; ports = [ "8080:80" ]; environment = { TZ = "UTC"; }; autoStart = true; }
 */
export const nixosContainer = nixosRenderer<ResolvedQuadlet>((r): NixAttrs => {
  if (r.scope.kind === 'user') {
    throw new Skip(`rootless quadlet ${r.file} of user ${r.scope.user}: virtualisation.oci-containers runs containers as root only; declare it with home-manager or a rootless podman setup in the NixOS configuration`);
  }
  if (r.spec?.kind !== 'container') throw new Error(`quadlet ${r.file}: no container parameters to render`);
  const p = r.spec.params;
  const refuse = (what: string) => new Error(`quadlet ${r.file}: ${what}`);
  if (/\.(image|build)$/.test(p.image)) throw refuse(`image ${p.image} is a quadlet unit; nixos has none: name the image reference, or load an image built with pkgs.dockerTools via the NixOS configuration`);
  if (p.pod !== undefined) throw refuse(`pod ${p.pod}: virtualisation.oci-containers has no pods; publish the ports on the container, or keep this task off nixos hosts`);
  for (const v of p.volume ?? []) if (/^[^:/]+\.volume(:|$)/.test(v)) throw refuse(`volume ${v} names a quadlet .volume unit, which nixos does not have: use a host path or a podman volume name`);
  for (const n of asList(p.network)) if (n.endsWith('.network')) throw refuse(`network ${n} is a quadlet .network unit, which nixos does not have: use host, none or a podman network's name`);
  if (Object.keys(p.extra?.Container ?? {}).length > 0) throw refuse('extra [Container] keys are quadlet syntax and have no nixos form: give them as podmanArgs');
  if (Object.keys(p.extra?.Install ?? {}).length > 0) throw refuse('extra [Install] keys are not read on nixos: use wantedBy');
  if (p.group !== undefined && p.user === undefined) throw refuse('group without user: give user too (podman run --user takes user:group)');

  const name = p.containerName ?? p.name;
  const wantedBy = p.wantedBy ?? ['multi-user.target'];
  // NixOS' default.target is multi-user.target (graphical.target pulls it in too): both mean start at boot, which is autoStart.
  const bootTargets = ['multi-user.target', 'default.target'];
  const autoStart = wantedBy.some((t) => bootTargets.includes(t));
  const otherTargets = wantedBy.filter((t) => !bootTargets.includes(t));
  const labels = { ...p.label, ...(p.autoUpdate ? { 'io.containers.autoupdate': p.autoUpdate } : {}) };

  const service: NixAttrs = {
    // NixOS writes Description= as it is, where systemd would resolve `%h`.
    description: p.description === undefined ? undefined : literalValue(p.description),
    wantedBy: otherTargets.length > 0 ? otherTargets : undefined,
    unitConfig: p.extra?.Unit,
    // oci-containers sets Restart, TimeoutStartSec, TimeoutStopSec, Type and more itself: a task's own values must win, as in a
    // quadlet file's [Service]. A key given several times is a list, which NixOS appends to the module's own (Environment=).
    serviceConfig: {
      ...Object.fromEntries(Object.entries(p.extra?.Service ?? {}).map(([key, value]) => [key, Array.isArray(value) ? value : forced(value)])),
      ...(p.restart !== undefined ? { Restart: forced(p.restart) } : {}),
      ...(p.timeoutStartSec !== undefined ? { TimeoutStartSec: forced(p.timeoutStartSec) } : {}),
    },
  };
  const hasService = Object.values(service).some((v) => v !== undefined && (typeof v !== 'object' || Object.keys(v as object).length > 0));

  return {
    virtualisation: {
      podman: { enable: true },
      'oci-containers': {
        backend: 'podman',
        containers: {
          [name]: {
            image: p.image,
            cmd: p.exec === undefined ? undefined : commandWords(r.file, p.exec),
            ports: p.publishPort?.map(String),
            volumes: p.volume,
            environment: p.environment,
            environmentFiles: p.environmentFile === undefined ? undefined : asList(p.environmentFile),
            labels: Object.keys(labels).length > 0 ? labels : undefined,
            user: p.user === undefined ? undefined : p.group === undefined ? String(p.user) : `${p.user}:${p.group}`,
            extraOptions: runOptions(p),
            autoStart,
          },
        },
      },
    },
    ...(hasService ? { systemd: { services: { [`podman-${name}`]: service } } } : {}),
  };
});

/** `podman run` arguments for what quadlet would have passed, in quadlet's key order. */
function runOptions(p: ContainerParams): string[] | undefined {
  const options = [
    ...(p.pull !== undefined && p.pull !== 'missing' ? [`--pull=${p.pull}`] : []),
    ...asList(p.network).map((n) => `--network=${n}`),
    ...(p.secret ?? []).map((s) => `--secret=${s}`),
    ...(p.healthCmd !== undefined ? [`--health-cmd=${p.healthCmd}`] : []),
    ...(p.healthInterval !== undefined ? [`--health-interval=${p.healthInterval}`] : []),
    ...(p.healthRetries !== undefined ? [`--health-retries=${p.healthRetries}`] : []),
    ...(p.healthStartPeriod !== undefined ? [`--health-start-period=${p.healthStartPeriod}`] : []),
    ...(p.healthTimeout !== undefined ? [`--health-timeout=${p.healthTimeout}`] : []),
    ...(p.userNS !== undefined ? [`--userns=${p.userNS}`] : []),
    ...(p.addCapability ?? []).map((c) => `--cap-add=${c}`),
    ...(p.dropCapability ?? []).map((c) => `--cap-drop=${c}`),
    ...(p.readOnly === undefined ? [] : [p.readOnly ? '--read-only' : '--read-only=false']),
    ...(p.tmpfs ?? []).map((t) => `--tmpfs=${t}`),
    ...(p.podmanArgs ?? []),
  ];
  return options.length > 0 ? options : undefined;
}

/**
 * oci-containers takes the command as words (each shell-quoted by NixOS).
 * A command line given as one string is split on blanks; one that relies
 * on quadlet's quoting rules must be given as words.
 */
function commandWords(file: string, exec: string | readonly string[]): readonly string[] {
  if (typeof exec !== 'string') return exec;
  if (/["'\\]/.test(exec)) throw new Error(`quadlet ${file}: exec ${JSON.stringify(exec)} uses quoting; on nixos give it as a list of words`);
  return exec.trim().split(/\s+/);
}

/**
 * Networks, volumes and pods have no declarative form in
 * virtualisation.oci-containers: podman creates a named volume when a
 * container first uses it, and a container using a quadlet .network,
 * .volume or .pod unit is refused with what to use instead.
 */
export const nixosQuadletUnit = nixosRenderer<ResolvedQuadlet>((r): NixAttrs => {
  const instead: Record<ResolvedQuadlet['kind'], string> = {
    network: "create the network in the NixOS configuration (a oneshot service running podman network create) and name it in the containers' network",
    volume: 'podman creates a named volume when a container first mounts it by name',
    pod: 'publish the ports on the containers instead',
    container: '',
  };
  throw new Skip(`on nixos virtualisation.oci-containers has no ${r.kind}s: ${r.file} is not declared; ${instead[r.kind]}`);
});
