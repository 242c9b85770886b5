export interface TimezoneParams {
  /**
   * A time zone of the IANA database, as named under /usr/share/zoneinfo:
   * `Europe/Berlin`, `UTC`, `America/Argentina/Buenos_Aires`. It must exist
   * on the host (tzdata), which the task checks before changing anything.
   */
  readonly zone: string;
}

export const timezoneSchema = {
  type: 'object',
  required: ['zone'],
  properties: {
    zone: {
      type: 'string',
      // Words of the IANA names, no empty part, nothing starting with . (so no ..).
      pattern: '^[A-Za-z0-9_+-][A-Za-z0-9_.+-]*(?:/[A-Za-z0-9_+-][A-Za-z0-9_.+-]*)*$',
      maxLength: 100,
      'x-expected': 'a time zone name such as "Europe/Berlin" or "UTC"',
      description:
        'A time zone of the IANA database, as named under /usr/share/zoneinfo: `Europe/Berlin`, `UTC`, `America/Argentina/Buenos_Aires`. It must exist on the host (tzdata), which the task checks before changing anything.',
    },
  },
  additionalProperties: false,
} as const;

export interface WantedTimezone {
  readonly zone: string;
}

export function resolveTimezone(p: TimezoneParams): WantedTimezone {
  return { zone: p.zone };
}
