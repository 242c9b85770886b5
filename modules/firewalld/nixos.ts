import { Skip } from '../../lib/module/skip.ts';
import { nixosRenderer } from '../../lib/nixos/renderer.ts';
import type { NixAttrs } from '../../lib/nixos/value.ts';
import type { Wanted } from './params.ts';

/**
 * firewalld services whose definition is nothing but ports (no helper
 * modules, no destination addresses), so opening those ports is exactly
 * what the service does. Others are skipped rather than guessed.
 */
const SERVICE_PORTS: Readonly<Record<string, readonly string[]>> = {
  ssh: ['22/tcp'],
  http: ['80/tcp'],
  https: ['443/tcp'],
  dns: ['53/tcp', '53/udp'],
  smtp: ['25/tcp'],
  smtps: ['465/tcp'],
  'smtp-submission': ['587/tcp'],
  imap: ['143/tcp'],
  imaps: ['993/tcp'],
  pop3: ['110/tcp'],
  pop3s: ['995/tcp'],
  ntp: ['123/udp'],
  mysql: ['3306/tcp'],
  postgresql: ['5432/tcp'],
  redis: ['6379/tcp'],
  wireguard: ['51820/udp'],
};

const NOT_APPLICABLE: Readonly<Record<string, string>> = {
  zone: 'networking.firewall has no zones: it filters incoming traffic on every interface alike (networking.firewall.interfaces.<name> opens ports per interface)',
  richRule: 'networking.firewall has no rich rules: write the rule in networking.firewall.extraCommands (iptables) or networking.firewall.extraInputRules (nftables)',
  masquerade: 'masquerading is networking.nat on nixos, which needs the external interface (networking.nat.externalInterface): declare it in the NixOS configuration',
  forwardPort: 'port forwarding is networking.nat.forwardPorts on nixos, which needs networking.nat.externalInterface: declare it in the NixOS configuration',
};

/**
 * The firewall on NixOS is networking.firewall: ports opened for every
 * interface, by protocol. `firewalld.port` and the services in
 * SERVICE_PORTS render to allowedTCPPorts / allowedUDPPorts (ranges to
 * allowedTCPPortRanges / allowedUDPPortRanges); NixOS concatenates every
 * module's lists. Zones, rich rules, masquerading and forwarded ports have
 * no networking.firewall form and are skipped with where to declare them.
 *
 * An exact list (`exact: true`) renders as the list itself. networking.firewall
 * is declarative: what is open is what the configuration declares, so there is
 * no port opened by hand in it for hostform to remove. Making the lists exact
 * beyond that (lib.mkForce) is not done: it would also drop the ports of the
 * play's other firewalld tasks and of NixOS modules (services.openssh opens its
 * ports itself), which firewalld keeps apart as services and ports. A task
 * that cannot be rendered whole (a zone, a service without a known port list)
 * is skipped whole, never rendered in part, so it opens nothing.
 *
 *   firewalld.port({ ports: ['443/tcp', '60000-61000/udp'] })
 *   → networking.firewall = { allowedTCPPorts = [ 443 ]; allowedUDPPortRanges = [ { from = 60000; to = 61000; } ]; }
 */
export const nixosFirewall = nixosRenderer<Wanted>((w): NixAttrs => {
  const skipped = NOT_APPLICABLE[w.module];
  if (skipped) throw new Skip(`not applicable on nixos: ${skipped}`);
  if (!w.present) throw new Skip('on nixos a port is closed when no module opens it: remove the task that opens it');
  if (w.zone !== undefined) {
    throw new Skip(`networking.firewall has no zones: a ${w.module} opened in zone ${w.zone} is not rendered on nixos; leave zone out to open it on every interface, or use networking.firewall.interfaces.<name> in the NixOS configuration`);
  }
  const specs = w.module === 'service' ? w.items.flatMap((i) => servicePorts(i.value, w.items.map((s) => s.value))) : w.items.map((i) => i.value);
  return { networking: { firewall: openPorts(specs) } };
});

function servicePorts(service: string, all: readonly string[]): readonly string[] {
  const ports = SERVICE_PORTS[service];
  if (ports) return ports;
  const unknown = all.filter((s) => !SERVICE_PORTS[s]);
  throw new Skip(
    `firewalld service ${unknown.join(', ')} has no exact port list in hostform, so nothing is opened on nixos: open its ports with firewalld.port, or the NixOS module's openFirewall option`,
  );
}

/** `443/tcp`, `8000-8010/udp` → networking.firewall's port and range lists. */
function openPorts(specs: readonly string[]): NixAttrs {
  const lists = { allowedTCPPorts: [] as number[], allowedUDPPorts: [] as number[], allowedTCPPortRanges: [] as NixAttrs[], allowedUDPPortRanges: [] as NixAttrs[] };
  for (const spec of specs) {
    const [range = '', protocol = ''] = spec.split('/');
    if (protocol !== 'tcp' && protocol !== 'udp') throw new Error(`port ${spec}: networking.firewall opens TCP and UDP ports only; open ${protocol} in networking.firewall.extraCommands`);
    const [from, to] = range.split('-').map(Number) as [number, number | undefined];
    const proto = protocol === 'tcp' ? 'TCP' : 'UDP';
    if (to === undefined) lists[`allowed${proto}Ports`].push(from);
    else lists[`allowed${proto}PortRanges`].push({ from, to });
  }
  return Object.fromEntries(Object.entries(lists).filter(([, v]) => v.length > 0));
}
