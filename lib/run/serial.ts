/**
 * Rolling runs (`--serial N|N%`, issue 16): the selected hosts in batches,
 * one batch after another, and the rule that stops the rollout when a batch
 * failed on too many of its hosts (`--max-fail-percentage`). Pure, so the
 * sizes and the threshold are unit-tested (test/unit/serial.test.ts).
 */
import { UsageError } from '../errors.ts';

/** A batch size: a number of hosts, or a percentage of the selected hosts. */
export type Serial = { readonly hosts: number } | { readonly percent: number };

export function parseSerial(text: string): Serial {
  const match = /^(\d+)(%?)$/.exec(text.trim());
  const value = Number(match?.[1]);
  if (!match || !Number.isSafeInteger(value) || value < 1 || (match[2] === '%' && value > 100)) {
    throw new UsageError(`--serial must be a number of hosts (at least 1) or a percentage (1% to 100%), such as 3 or 25%, got '${text}'`);
  }
  return match[2] === '%' ? { percent: value } : { hosts: value };
}

export function parsePercentage(option: string, text: string): number {
  const value = Number(text.replace(/%$/, ''));
  if (!/^\d+(\.\d+)?%?$/.test(text.trim()) || !(value >= 0 && value <= 100)) {
    throw new UsageError(`${option} must be a percentage from 0 to 100, such as 0 or 25, got '${text}'`);
  }
  return value;
}

/**
 * The hosts in batches, in the order given. A percentage is of all hosts,
 * rounded down, and at least one host (Ansible's rule): 25% of 10 hosts is 2.
 */
export function batchesOf<T>(items: readonly T[], serial: Serial | undefined): T[][] {
  if (items.length === 0) return [];
  const size = serial === undefined ? items.length : 'hosts' in serial ? serial.hosts : Math.max(1, Math.floor((serial.percent * items.length) / 100));
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
  return batches;
}

/** Whether a batch with `failed` of its `size` hosts failed stops the rollout: more than the percentage allowed failed. */
export function exceedsFailLimit(failed: number, size: number, maxFailPercentage: number): boolean {
  return size > 0 && (failed * 100) / size > maxFailPercentage;
}

/** How the rollout went, for the report: the batches, and where and why it stopped. */
export interface RolloutReport {
  /** Host names, batch by batch, in the order they ran. */
  readonly batches: readonly (readonly string[])[];
  readonly maxFailPercentage: number;
  /** Set when a batch failed on too many hosts and the batches after it were not run. */
  readonly stopped?: {
    /** 1-based number of the batch that failed. */
    readonly afterBatch: number;
    /** Hosts of that batch that failed or could not be reached. */
    readonly failedHosts: readonly string[];
    /** Hosts of the later batches: nothing was planned or changed on them. */
    readonly notRun: readonly string[];
    readonly message: string;
  };
}

export function stopMessage(afterBatch: number, batches: number, failed: readonly string[], size: number, maxFailPercentage: number, notRun: readonly string[]): string {
  return (
    `rollout stopped after batch ${afterBatch} of ${batches}: ${failed.length} of ${size} host${size === 1 ? '' : 's'} failed (${failed.join(', ')}), ` +
    `more than --max-fail-percentage ${maxFailPercentage}; not run: ${notRun.join(', ')}`
  );
}
