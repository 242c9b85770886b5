import { defineModule } from '../../lib/module/define.ts';
import { assertNoParamProblems, problemsIn } from '../../lib/module/param-problems.ts';
import { nixosDropIn } from './nixos.ts';
import { scopeSchema, scopeSuffix, toScope, type ScopeParam } from './scope-param.ts';
import { dropInNameSchema, renderSections, fileBodyProperties, fileBodyRule, unitNameSchema, type UnitSections, unitSyntaxProblem } from './sections.ts';
import { unitFileEffects, unitFilesBackend, type UnitFilesParams } from './unit-files.ts';

// ── parameters ───────────────────────────────────────────────────────────

export type DropInParams = {
  /** The unit it changes, with its type: `nginx.service`. */
  readonly unit: string;
  /** File name without `.conf`: `10-limits` → `<unit>.d/10-limits.conf`. Drop-ins apply in name order. */
  readonly name: string;
  readonly scope?: ScopeParam;
} & (
  | { readonly sections: UnitSections; readonly content?: never; readonly state?: 'present' }
  | { readonly content: string; readonly sections?: never; readonly state?: 'present' }
  | { readonly state: 'absent'; readonly sections?: never; readonly content?: never }
);

const schema = {
  type: 'object',
  required: ['unit', 'name'],
  properties: {
    unit: unitNameSchema,
    name: dropInNameSchema,
    ...fileBodyProperties,
    scope: scopeSchema,
  },
  additionalProperties: false,
  ...fileBodyRule,
} as const;

// ── observe → plan → apply: the shared unit-file steps ──────────────────

// The unit itself is not installed by a drop-in: only the file is recorded.
const backend = unitFilesBackend<UnitFilesParams>((r) => unitFileEffects(r, []));

/**
 * A drop-in that changes part of a unit without replacing it, verified
 * together with the unit it changes before it is installed.
 *
 *   dropIn({ unit: 'nginx.service', name: 'limits', sections: { Service: { LimitNOFILE: 65536 } } })
 *   dropIn({ unit: 'app.service', name: 'exec', sections: { Service: { ExecStart: ['', '/usr/local/bin/app --debug'] } } })
 *
 * (`''` first resets a list setting such as ExecStart, as systemd requires.)
 */
export const dropIn = defineModule<DropInParams, UnitFilesParams>({
  name: 'systemd.dropIn',
  schema,
  capabilities: { checkMode: true, diff: true },
  describe: (p) => `drop-in ${p.unit}.d/${p.name}.conf${p.state === 'absent' ? ' (absent)' : ''}${scopeSuffix(toScope(p.scope))}`,
  resolve: (p) => {
    // Each value stays one assignment of its key; raw `content` is the user's own text.
    assertNoParamProblems(problemsIn('sections', p.sections, unitSyntaxProblem));
    return {
      scope: toScope(p.scope),
      files: [{ file: `${p.unit}.d/${p.name}.conf`, content: p.state === 'absent' ? null : (p.content ?? renderSections(p.sections!)) }],
      verify: { unit: p.unit },
    };
  },
  backends: { el9: backend, linux: backend, nixos: nixosDropIn },
});
