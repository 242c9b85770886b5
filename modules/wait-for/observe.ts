import type { ExecResult } from '../../lib/connection/types.ts';
import { sh, type ShellScript } from '../../lib/shell/quote.ts';
import type { WantedHealth } from './params.ts';

/** Seconds one try may take: a request or a connection that hangs counts as an unhealthy try. */
export const TRY_SECONDS = 5;

/**
 * One try, read-only: exits 0 when healthy, 1 when not, 2 when it cannot
 * tell (its tool is missing); prints one line of what it saw either way.
 * The probe runs it once; apply runs it again until it passes or time is up.
 */
export function tryScript(w: WantedHealth): ShellScript {
  switch (w.kind) {
    case 'http':
      return sh`command -v curl >/dev/null 2>&1 || { echo 'curl is not installed on the host'; exit 2; }
code=$(curl --silent --output /dev/null --max-time ${TRY_SECONDS} --write-out '%{http_code}' -- ${w.url}); rc=$?
if [ "$code" = ${String(w.status)} ]; then echo "status $code"; exit 0; fi
case $rc in
  0) echo "status $code" ;;
  6) echo 'the host name does not resolve' ;;
  7) echo 'connection refused' ;;
  28) echo 'no answer within '${TRY_SECONDS}' s' ;;
  35|51|58|60) echo "TLS failed (curl exit $rc)" ;;
  *) echo "curl failed (exit $rc)" ;;
esac
exit 1`;
    case 'tcp':
      return sh`command -v bash >/dev/null 2>&1 && command -v timeout >/dev/null 2>&1 || { echo 'bash and timeout are needed on the host to try a connection'; exit 2; }
said=$(timeout ${TRY_SECONDS} bash -c 'exec 3<>"/dev/tcp/$0/$1"' ${w.host} ${String(w.port)} 2>&1); rc=$?
if [ "$rc" = 0 ]; then echo connected; exit 0; fi
if [ "$rc" = 124 ]; then echo 'no answer within '${TRY_SECONDS}' s'; exit 1; fi
case $said in *refused*) echo 'connection refused' ;; *) printf '%s\\n' "$said" | tail -n 1 ;; esac
exit 1`;
    case 'unit':
      return sh`state=$(systemctl is-active -- ${w.unit} 2>&1)
if [ "$state" = active ]; then echo active; exit 0; fi
echo "\${state:-unknown}"
exit 1`;
  }
}

export interface ObservedHealth {
  readonly healthy: boolean;
  /** What the try saw: `status 503`, `connection refused`, `failed`. */
  readonly saw: string;
  /** Set when the try could not be made at all (its tool is missing on the host). */
  readonly cannotTell?: true;
}

export function parseHealth(result: ExecResult): ObservedHealth {
  const saw = result.stdout.trim().split('\n').pop() || result.stderr.trim() || `exit code ${result.code}`;
  return { healthy: result.code === 0, saw, ...(result.code === 2 ? { cannotTell: true as const } : {}) };
}
