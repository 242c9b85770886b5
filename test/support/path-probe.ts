/**
 * What modules/file/observe.ts pathProbe prints on a host for a small file with
 * this content (its bytes come back whole; the hash is taken on the control
 * machine), or for nothing there: for unit tests that plan on probe output.
 */
export function pathProbeOutput(content: string | undefined, stat = '644 root root'): string {
  if (content === undefined) return 'parent\nabsent\n';
  return `parent\nfile\n${stat} ${Buffer.byteLength(content)}\n\n${Buffer.from(content).toString('base64')}\n`;
}
