/**
 * The default export of a dynamically imported .ts/.js file. A file outside an
 * ESM package loads as CommonJS, and then `export default x` arrives as
 * `{ default: x }` inside the namespace's default: unwrap that one level.
 */
export function defaultExport(namespace: { default?: unknown }): unknown {
  const value = namespace.default;
  if (value !== null && typeof value === 'object' && 'default' in value && (value as { __esModule?: boolean }).__esModule) {
    return (value as { default: unknown }).default;
  }
  return value;
}
