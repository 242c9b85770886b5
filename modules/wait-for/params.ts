import { withServiceSuffix } from '../systemd/sections.ts';

// ── parameters ───────────────────────────────────────────────────────────

/** What every gate takes besides what it waits for. */
interface GateTiming {
  /** Seconds to keep trying before the gate gives up and fails its host (default 60). */
  readonly timeout?: number;
}

export interface HttpParams extends GateTiming {
  /** The address to request, from the host itself: `http://127.0.0.1:8080/health` (http or https; a certificate must be valid). */
  readonly url: string;
  /** The HTTP status that means healthy (default 200). */
  readonly status?: number;
}

export interface TcpParams extends GateTiming {
  /** The port that must accept a connection. */
  readonly port: number;
  /** The address to connect to, from the host itself (default 127.0.0.1). */
  readonly host?: string;
}

export interface UnitActiveParams extends GateTiming {
  /** The system unit that must be active: `nginx` (meaning nginx.service), `app.socket`. */
  readonly unit: string;
}

// ── schemas ──────────────────────────────────────────────────────────────

const timeout = {
  type: 'integer',
  minimum: 1,
  maximum: 3600,
  description: 'Seconds to keep trying before the gate gives up and fails its host (default 60).',
} as const;

export const httpSchema = {
  type: 'object',
  required: ['url'],
  properties: {
    url: {
      type: 'string',
      pattern: '^https?://[^\\s]+$',
      'x-expected': 'an http:// or https:// address without blanks, such as "http://127.0.0.1:8080/health"',
      description: 'The address to request, from the host itself: `http://127.0.0.1:8080/health` (http or https; a certificate must be valid).',
    },
    status: { type: 'integer', minimum: 100, maximum: 599, description: 'The HTTP status that means healthy (default 200).' },
    timeout,
  },
  additionalProperties: false,
} as const;

export const tcpSchema = {
  type: 'object',
  required: ['port'],
  properties: {
    port: { type: 'integer', minimum: 1, maximum: 65535, description: 'The port that must accept a connection.' },
    host: {
      type: 'string',
      pattern: '^[A-Za-z0-9.:_-]+$',
      'x-expected': 'a host name or address, such as "127.0.0.1", "::1" or "db.internal"',
      description: 'The address to connect to, from the host itself (default 127.0.0.1).',
    },
    timeout,
  },
  additionalProperties: false,
} as const;

export const unitActiveSchema = {
  type: 'object',
  required: ['unit'],
  properties: {
    unit: {
      type: 'string',
      pattern: '^[A-Za-z0-9:_.\\\\@][A-Za-z0-9:_.\\\\@-]*$',
      maxLength: 255,
      'x-expected': 'a unit name such as "nginx" or "app.socket" (not starting with -)',
      description: 'The system unit that must be active: `nginx` (meaning nginx.service), `app.socket`.',
    },
    timeout,
  },
  additionalProperties: false,
} as const;

// ── resolved ─────────────────────────────────────────────────────────────

/** What a gate waits for, made concrete: one of the three kinds, its target, and how long. */
export type WantedHealth =
  | { readonly kind: 'http'; readonly url: string; readonly status: number; readonly timeout: number }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly timeout: number }
  | { readonly kind: 'unit'; readonly unit: string; readonly timeout: number };

export const DEFAULT_TIMEOUT = 60;

export const resolveHttp = (p: HttpParams): WantedHealth => ({ kind: 'http', url: p.url, status: p.status ?? 200, timeout: p.timeout ?? DEFAULT_TIMEOUT });
export const resolveTcp = (p: TcpParams): WantedHealth => ({ kind: 'tcp', host: p.host ?? '127.0.0.1', port: p.port, timeout: p.timeout ?? DEFAULT_TIMEOUT });
export const resolveUnitActive = (p: UnitActiveParams): WantedHealth => ({ kind: 'unit', unit: withServiceSuffix(p.unit), timeout: p.timeout ?? DEFAULT_TIMEOUT });

/** How a gate is named in reports: `GET http://127.0.0.1:8080/health → 200`, `tcp 127.0.0.1:5432`, `nginx.service active`. */
export function describeHealth(w: WantedHealth): string {
  switch (w.kind) {
    case 'http':
      return `GET ${w.url} → ${w.status}`;
    case 'tcp':
      return `tcp ${w.host.includes(':') ? `[${w.host}]` : w.host}:${w.port}`;
    case 'unit':
      return `${w.unit} active`;
  }
}
