/**
 * A module's parameters are written twice: as a TypeScript type (what an
 * editor checks and shows on hover) and as a JSON Schema (what hostform
 * checks before any host is touched, and what `hostform modules` prints).
 * This compares the two through the TypeScript compiler: property names at
 * every depth, which are required, the allowed values of enums, the kinds of
 * values (string, number, boolean, list, map, object, Buffer, function, Secret), and
 * each parameter's TSDoc against its schema `description`.
 */
import { dirname, resolve } from 'node:path';
import ts from 'typescript';

/** A named parameter, at any depth: `path`, `service.execStart`, `forwardPorts[].port`, `scope.user`. */
export interface ParameterDocs {
  readonly parameter: string;
  /** The TSDoc of its declarations, whitespace folded; more than one when they differ. */
  readonly tsdoc: readonly string[];
  /** Its schema descriptions, whitespace folded. */
  readonly description: readonly string[];
}

export interface Agreement {
  /** Where type and schema disagree, one sentence each; empty when they agree. */
  readonly problems: string[];
  readonly parameters: ParameterDocs[];
}

type Node = { readonly [key: string]: unknown };

/** The kinds of value a type or schema allows, and its literal values (enums). */
interface Shape {
  readonly kinds: Set<string>;
  readonly literals: Set<string>;
  /** Object types with named properties (TS), or schema nodes with `properties`. */
  readonly objects: unknown[];
  /** Element types (TS) or `items` nodes. */
  readonly items: unknown[];
  /** Value types of index signatures (TS) or `additionalProperties`/`patternProperties` nodes. */
  readonly values: unknown[];
}

const emptyShape = (): Shape => ({ kinds: new Set(), literals: new Set(), objects: [], items: [], values: [] });

/** A program over the given entry files, with the project's own compiler options. */
export function loadProgram(entries: readonly string[], tsconfig: string): ts.Program {
  const config = ts.readConfigFile(tsconfig, (path) => ts.sys.readFile(path));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, dirname(tsconfig));
  return ts.createProgram(
    entries.map((e) => resolve(e)),
    parsed.options,
  );
}

/** The exported values of a file, by dotted path, resolved through re-exports. */
export function exportedTypes(program: ts.Program, file: string): Map<string, ts.Type> {
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(resolve(file));
  if (!source) throw new Error(`${file} is not in the program`);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  const out = new Map<string, ts.Type>();
  for (const exported of moduleSymbol ? checker.getExportsOfModule(moduleSymbol) : []) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    if (!(symbol.flags & ts.SymbolFlags.Value)) continue;
    out.set(exported.getName(), checker.getTypeOfSymbol(symbol));
  }
  return out;
}

/**
 * The parameter type of every module among the exports: a callable value
 * carrying a `definition`, or one inside a namespace object (`selinux.port`).
 */
export function moduleParamTypes(program: ts.Program, file: string): Map<string, ts.Type> {
  const checker = program.getTypeChecker();
  const out = new Map<string, ts.Type>();
  const visit = (name: string, type: ts.Type) => {
    const signature = type.getCallSignatures()[0];
    if (signature && type.getProperty('definition')) {
      const param = signature.getParameters()[0];
      if (param) out.set(name, checker.getTypeOfSymbol(param));
      return;
    }
    if (type.getCallSignatures().length > 0 || !(type.flags & ts.TypeFlags.Object)) return;
    for (const property of type.getProperties()) visit(`${name}.${property.getName()}`, checker.getTypeOfSymbol(property));
  };
  for (const [name, type] of exportedTypes(program, file)) visit(name, type);
  return out;
}

/** Compare a parameter type with its JSON Schema; see the file comment. */
export function compare(checker: ts.TypeChecker, type: ts.Type, schema: unknown): Agreement {
  const problems: string[] = [];
  const parameters: ParameterDocs[] = [];
  compareObjects(checker, tsShape(checker, type).objects as ts.Type[], schemaShape(schema).objects as Node[], '', problems, parameters);
  return { problems, parameters };
}

function compareShapes(checker: ts.TypeChecker, type: Shape, schema: Shape, at: string, problems: string[], parameters: ParameterDocs[]): void {
  const kinds = (s: Shape) => [...s.kinds].sort().join(' | ') || 'nothing';
  if (kinds(type) !== kinds(schema)) problems.push(`${at}: the type allows ${kinds(type)}, the schema ${kinds(schema)}`);
  const literals = (s: Shape) => [...s.literals].sort().join(' | ');
  if (literals(type) !== literals(schema)) problems.push(`${at}: the type allows the values ${literals(type) || '(none)'}, the schema ${literals(schema) || '(none)'}`);
  if (type.objects.length > 0 && schema.objects.length > 0) compareObjects(checker, type.objects as ts.Type[], schema.objects as Node[], `${at}.`, problems, parameters);
  if (type.items.length > 0 || schema.items.length > 0) {
    compareShapes(checker, union(type.items.map((t) => tsShape(checker, t as ts.Type))), union(schema.items.map(schemaShape)), `${at}[]`, problems, parameters);
  }
  if (type.values.length > 0 || schema.values.length > 0) {
    compareShapes(checker, union(type.values.map((t) => tsShape(checker, t as ts.Type))), union(schema.values.map(schemaShape)), `${at}<key>`, problems, parameters);
  }
}

function compareObjects(checker: ts.TypeChecker, types: readonly ts.Type[], nodes: readonly Node[], prefix: string, problems: string[], parameters: ParameterDocs[]): void {
  const typeProps = new Map<string, { types: ts.Type[]; required: boolean; docs: Set<string> }>();
  for (const type of types) {
    for (const symbol of checker.getPropertiesOfType(type)) {
      const propType = checker.getTypeOfSymbol(symbol);
      // `content?: never` marks a member of a union where the parameter may not be given.
      if (propType.flags & ts.TypeFlags.Never) continue;
      const entry = typeProps.get(symbol.getName()) ?? { types: [], required: true, docs: new Set<string>() };
      entry.types.push(propType);
      entry.required &&= !(symbol.flags & ts.SymbolFlags.Optional);
      for (const doc of docsOf(symbol)) entry.docs.add(doc);
      typeProps.set(symbol.getName(), entry);
    }
  }
  // A property missing from one member of a union is not required.
  for (const [name, entry] of typeProps) {
    if (!types.every((t) => checker.getPropertiesOfType(t).some((s) => s.getName() === name && !(checker.getTypeOfSymbol(s).flags & ts.TypeFlags.Never)))) entry.required = false;
  }
  const schemaProps = new Map<string, { nodes: Node[]; required: boolean }>();
  for (const node of nodes) {
    const required = new Set(Array.isArray(node['required']) ? (node['required'] as string[]) : []);
    for (const [name, child] of Object.entries((node['properties'] ?? {}) as Record<string, Node>)) {
      const entry = schemaProps.get(name) ?? { nodes: [], required: true };
      entry.nodes.push(child);
      entry.required &&= required.has(name);
      schemaProps.set(name, entry);
    }
  }
  for (const name of new Set([...typeProps.keys(), ...schemaProps.keys()])) {
    const at = `${prefix}${name}`;
    const inType = typeProps.get(name);
    const inSchema = schemaProps.get(name);
    if (!inType) problems.push(`${at}: in the schema, not in the type`);
    if (!inSchema) problems.push(`${at}: in the type, not in the schema`);
    const descriptions = [...new Set((inSchema?.nodes ?? []).map((n) => n['description']).filter((d): d is string => typeof d === 'string').map(fold))];
    parameters.push({ parameter: at, tsdoc: [...(inType?.docs ?? [])], description: descriptions });
    if (!inType || !inSchema) continue;
    if (inType.required !== inSchema.required) problems.push(`${at}: ${inType.required ? 'required' : 'optional'} in the type, ${inSchema.required ? 'required' : 'optional'} in the schema`);
    compareShapes(checker, union(inType.types.map((t) => tsShape(checker, t))), union(inSchema.nodes.map(schemaShape)), at, problems, parameters);
  }
}

function union(shapes: readonly Shape[]): Shape {
  const out = emptyShape();
  for (const s of shapes) {
    s.kinds.forEach((k) => out.kinds.add(k));
    s.literals.forEach((l) => out.literals.add(l));
    out.objects.push(...s.objects);
    out.items.push(...s.items);
    out.values.push(...s.values);
  }
  return settle(out);
}

/** A literal whose kind is allowed whole says nothing more; `true | false` is `boolean`. */
function settle(shape: Shape): Shape {
  if (shape.literals.has('true') && shape.literals.has('false')) shape.kinds.add('boolean');
  for (const literal of [...shape.literals]) {
    if (shape.kinds.has(kindOf(JSON.parse(literal)))) shape.literals.delete(literal);
  }
  return shape;
}

function kindOf(value: unknown): string {
  return typeof value === 'number' ? 'number' : typeof value;
}

function tsShape(checker: ts.TypeChecker, type: ts.Type): Shape {
  const shape = emptyShape();
  const add = (t: ts.Type): void => {
    if (t.isUnion()) return t.types.forEach(add);
    const f = t.flags;
    if (f & (ts.TypeFlags.Undefined | ts.TypeFlags.Never)) return;
    if (t.isStringLiteral()) shape.literals.add(JSON.stringify(t.value));
    else if (t.isNumberLiteral()) shape.literals.add(JSON.stringify(t.value));
    else if (f & ts.TypeFlags.BooleanLiteral) shape.literals.add(checker.typeToString(t));
    else if (f & (ts.TypeFlags.String | ts.TypeFlags.TemplateLiteral)) shape.kinds.add('string');
    else if (f & ts.TypeFlags.Number) shape.kinds.add('number');
    else if (f & ts.TypeFlags.Boolean) shape.kinds.add('boolean');
    else if (f & ts.TypeFlags.Null) shape.kinds.add('null');
    else if (checker.isArrayType(t) || checker.isTupleType(t)) {
      shape.kinds.add('array');
      shape.items.push(...checker.getTypeArguments(t as ts.TypeReference).slice(0, 1));
    } else if (t.getSymbol()?.getName() === 'Buffer') shape.kinds.add('buffer');
    else if (t.getSymbol()?.getName() === 'Secret') shape.kinds.add('secret');
    else if (t.getCallSignatures().length > 0) shape.kinds.add('function');
    else if (f & ts.TypeFlags.Object || t.isIntersection()) {
      shape.kinds.add('object');
      const index = checker.getIndexInfosOfType(t);
      if (index.length > 0 && checker.getPropertiesOfType(t).length === 0) shape.values.push(...index.map((i) => i.type));
      else shape.objects.push(t);
    } else shape.kinds.add(checker.typeToString(t));
  };
  add(type);
  return settle(shape);
}

function schemaShape(node: unknown): Shape {
  const shape = emptyShape();
  const add = (n: unknown): void => {
    if (typeof n !== 'object' || n === null) return;
    const s = n as Node;
    if ('const' in s) shape.literals.add(JSON.stringify(s['const']));
    if (Array.isArray(s['enum'])) s['enum'].forEach((v) => shape.literals.add(JSON.stringify(v)));
    const types = Array.isArray(s['type']) ? (s['type'] as string[]) : typeof s['type'] === 'string' ? [s['type']] : [];
    for (const t of types) shape.kinds.add(t === 'integer' ? 'number' : t);
    if (s['jsType'] === 'buffer' || s['jsType'] === 'function' || s['jsType'] === 'secret') shape.kinds.add(s['jsType']);
    const isObject = types.includes('object') || (types.length === 0 && ('properties' in s || 'additionalProperties' in s));
    if (isObject) {
      shape.kinds.add('object');
      if ('properties' in s) shape.objects.push(s);
      else {
        if (typeof s['additionalProperties'] === 'object') shape.values.push(s['additionalProperties']);
        shape.values.push(...Object.values((s['patternProperties'] ?? {}) as Record<string, unknown>));
      }
    }
    if ('items' in s && (types.includes('array') || types.length === 0)) shape.items.push(s['items']);
    for (const key of ['anyOf', 'oneOf']) if (Array.isArray(s[key])) (s[key] as unknown[]).forEach(add);
  };
  add(node);
  return settle(shape);
}

/** The TSDoc of each declaration of a property (the JSDoc text, tags left out), whitespace folded. */
function docsOf(symbol: ts.Symbol): string[] {
  const docs = (symbol.declarations ?? []).flatMap((declaration) =>
    ts
      .getJSDocCommentsAndTags(declaration)
      .filter(ts.isJSDoc)
      .map((doc) => fold(ts.getTextOfJSDocComment(doc.comment) ?? '')),
  );
  return docs.filter((d) => d !== '');
}

function fold(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
