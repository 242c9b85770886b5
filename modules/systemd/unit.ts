import { defineModule } from '../../lib/module/define.ts';
import { assertNoParamProblems, problemsIn } from '../../lib/module/param-problems.ts';
import { nixosUnit } from './nixos.ts';
import { scopeSchema, scopeSuffix, toScope, type ScopeParam } from './scope-param.ts';
import { renderSections, fileBodyProperties, fileBodyRule, unitNameSchema, type UnitSections, unitSyntaxProblem } from './sections.ts';
import { unitFileEffects, unitFilesBackend, type UnitFilesParams } from './unit-files.ts';

// ── parameters ───────────────────────────────────────────────────────────

export type UnitParams = {
  /** File name with its type: `app.service`, `backup.timer`, `data.mount`. */
  readonly name: string;
  /** Default: the system manager (/etc/systemd/system); `{ user }` for ~user/.config/systemd/user. */
  readonly scope?: ScopeParam;
} & (
  | { readonly sections: UnitSections; readonly content?: never; readonly state?: 'present' }
  | { readonly content: string; readonly sections?: never; readonly state?: 'present' }
  | { readonly state: 'absent'; readonly sections?: never; readonly content?: never }
);

const schema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: unitNameSchema,
    ...fileBodyProperties,
    scope: scopeSchema,
  },
  additionalProperties: false,
  ...fileBodyRule,
} as const;

interface Resolved extends UnitFilesParams {
  readonly name: string;
}

// ── observe → plan → apply: the shared unit-file steps ──────────────────

const backend = unitFilesBackend<Resolved>((r) => unitFileEffects(r, [r.name]));

/**
 * A unit file, validated with `systemd-analyze verify` before it is
 * installed; one daemon-reload per host follows a batch of unit changes.
 *
 *   unit({
 *     name: 'app.service',
 *     sections: {
 *       Unit: { Description: 'App', After: ['network-online.target'], Wants: 'network-online.target' },
 *       Service: { ExecStart: '/usr/local/bin/app --port 8080', User: 'app', Restart: 'on-failure' },
 *       Install: { WantedBy: 'multi-user.target' },
 *     },
 *   })
 *   unit({ name: 'app.service', content: readFileSync('files/app.service', 'utf8') })
 *
 * Starting and enabling is the `service` module's job; notify a handler
 * `service({ name: 'app', state: 'restarted' })` to restart on change.
 */
export const unit = defineModule<UnitParams, Resolved>({
  name: 'systemd.unit',
  schema,
  capabilities: { checkMode: true, diff: true },
  describe: (p) => `unit ${p.name}${p.state === 'absent' ? ' (absent)' : ''}${scopeSuffix(toScope(p.scope))}`,
  resolve: (p) => {
    // Each value stays one assignment of its key; raw `content` is the user's own text.
    assertNoParamProblems(problemsIn('sections', p.sections, unitSyntaxProblem));
    return {
      name: p.name,
      scope: toScope(p.scope),
      files: [{ file: p.name, content: p.state === 'absent' ? null : (p.content ?? renderSections(p.sections!)) }],
      verify: { files: true },
    };
  },
  backends: { el9: backend, linux: backend, nixos: nixosUnit },
});
