import { ResourceKind } from '../../lib/module/resources.ts';
import type { WantedDefinition } from './params.ts';

/** Filters and actions an earlier task of the run writes (their path is only known after observing). */
export const DefinitionResource = new ResourceKind<{ readonly present: boolean; readonly content: string }>('fail2ban-definition');

export function definitionKey(w: Pick<WantedDefinition, 'kind' | 'name'>): string {
  return `${w.kind}:${w.name}`;
}
