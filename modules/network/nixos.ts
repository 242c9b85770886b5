import { Skip } from '../../lib/module/skip.ts';
import { nixosRenderer } from '../../lib/nixos/renderer.ts';
import type { NixAttrs, NixValue } from '../../lib/nixos/value.ts';
import type { WantedConnection, WantedIp } from './params.ts';

/**
 * NixOS' own networking options: networking.interfaces.<name> for the
 * addresses and DHCP, networking.defaultGateway(6), networking.nameservers
 * and networking.search. A disabled family sets no address; on NixOS there
 * is no confirm-or-revert timer: `play rollback` returns to the previous
 * generation.
 *
 *   networkConnection({ name: 'lan', interface: 'eth0', ipv4: { method: 'manual', address: '192.0.2.10/24', gateway: '192.0.2.1', dns: ['192.0.2.53'] } })
 *   →  networking = { defaultGateway = { address = "192.0.2.1"; interface = "eth0"; }; interfaces.eth0 = { ipv4.addresses = [ { address = "192.0.2.10"; prefixLength = 24; } ]; useDHCP = false; }; nameservers = [ "192.0.2.53" ]; };
 */
export const nixosConnection = nixosRenderer<WantedConnection>((w): NixAttrs => {
  if (!w.present) throw new Skip(`on nixos the settings of ${w.interface} go away when no module declares them: remove the task that declares them`);
  const addresses = (ip: WantedIp) => ip.addresses.map((a) => ({ address: a.split('/')[0] ?? '', prefixLength: Number(a.split('/')[1]) }));
  const iface: Record<string, NixValue> = {
    useDHCP: w.ipv4.method === 'auto',
    ...(w.ipv4.addresses.length > 0 ? { ipv4: { addresses: addresses(w.ipv4) } } : {}),
    ...(w.ipv6.addresses.length > 0 ? { ipv6: { addresses: addresses(w.ipv6) } } : {}),
    ...(w.mtu !== undefined ? { mtu: w.mtu } : {}),
  };
  const networking: Record<string, NixValue> = { interfaces: { [w.interface]: iface } };
  if (w.ipv4.gateway) networking['defaultGateway'] = { address: w.ipv4.gateway, interface: w.interface };
  if (w.ipv6.gateway) networking['defaultGateway6'] = { address: w.ipv6.gateway, interface: w.interface };
  const dns = [...w.ipv4.dns, ...w.ipv6.dns];
  if (dns.length > 0) networking['nameservers'] = dns;
  const search = [...new Set([...w.ipv4.dnsSearch, ...w.ipv6.dnsSearch])];
  if (search.length > 0) networking['search'] = search;
  if (w.ipv6.method === 'disabled') networking['enableIPv6'] = false;
  return { networking };
});
