export interface HostnameParams {
  /**
   * The host's name, static (/etc/hostname) and transient (the kernel's),
   * set with hostnamectl: lower-case letters, digits and -, in labels
   * separated by dots, 64 characters at most. A fully qualified name
   * (`web1.example.com`) is kept whole on el9; on NixOS its first label is
   * networking.hostName and the rest networking.domain.
   */
  readonly name: string;
}

/** One label of a host name (RFC 1123): no - at either end, 63 characters at most. */
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';

export const hostnameSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: {
      type: 'string',
      pattern: `^${LABEL}(?:\\.${LABEL})*$`,
      maxLength: 64,
      'x-expected': 'a host name of lower-case letters, digits and - (labels separated by dots, not starting or ending with -)',
      description:
        "The host's name, static (/etc/hostname) and transient (the kernel's), set with hostnamectl: lower-case letters, digits and -, in labels separated by dots, 64 characters at most. A fully qualified name (`web1.example.com`) is kept whole on el9; on NixOS its first label is networking.hostName and the rest networking.domain.",
    },
  },
  additionalProperties: false,
} as const;

export interface WantedHostname {
  readonly name: string;
}

export function resolveHostname(p: HostnameParams): WantedHostname {
  return { name: p.name };
}
