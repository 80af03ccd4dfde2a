import type { z } from 'zod';

/** What a setting's value is, read from its zod schema; decides how a flag's text is read. */
export type FieldKind = 'number' | 'boolean' | 'string' | 'enum' | 'array' | 'record' | 'object' | 'other';

/** One setting of a command: a dotted key (`sampling.topP`), its kind, doc and default. */
export interface SettingField {
  key: string;
  kind: FieldKind;
  /** The one-line doc from the schema's `.describe()`. */
  doc: string;
  /** Whether the schema states a default (`.default()`); `defaultValue` is then set. */
  hasDefault: boolean;
  defaultValue?: unknown;
  /** Neither a default nor optional: the setting must be given. */
  required: boolean;
  /** The schema accepts null: the flag value `off` (or `null`) sets it. */
  nullable?: boolean;
  /** Allowed values of an enum. */
  options?: readonly string[];
  /** Kind of an array's elements; `url` arrays also take comma-separated lists. */
  element?: FieldKind | 'url';
  /** The unwrapped schema (for nested objects: its own fields). */
  schema: z.ZodType;
}

type Def = { type: string; innerType?: z.ZodType; defaultValue?: unknown; in?: z.ZodType; element?: z.ZodType; format?: string; entries?: Record<string, string> };
const defOf = (s: z.ZodType) => (s as unknown as { def: Def }).def;

/** The schema under `.default()`, `.optional()`, `.nullable()` and pipes, with the default if any. */
export function unwrap(schema: z.ZodType): { base: z.ZodType; hasDefault: boolean; defaultValue?: unknown; optional: boolean; nullable: boolean; doc: string } {
  let s = schema;
  let doc = schema.description ?? '';
  let hasDefault = false;
  let defaultValue: unknown;
  let optional = false;
  let nullable = false;
  for (;;) {
    const def = defOf(s);
    if (def.type === 'default' || def.type === 'prefault') {
      if (!hasDefault) {
        hasDefault = true;
        defaultValue = def.defaultValue;
      }
      s = def.innerType!;
    } else if (def.type === 'optional' || def.type === 'nullable' || def.type === 'readonly') {
      optional ||= def.type === 'optional';
      nullable ||= def.type === 'nullable';
      s = def.innerType!;
    }
    else if (def.type === 'pipe') s = def.in!;
    else break;
    doc ||= s.description ?? '';
  }
  return { base: s, hasDefault, ...(hasDefault ? { defaultValue } : {}), optional, nullable, doc };
}

function kindOf(base: z.ZodType): FieldKind {
  switch (defOf(base).type) {
    case 'number':
    case 'int':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'string':
      return 'string';
    case 'enum':
      return 'enum';
    case 'array':
      return 'array';
    case 'record':
      return 'record';
    case 'object':
      return 'object';
    default:
      return 'other';
  }
}

/** The fields of an object schema, nested objects flattened to dotted keys after their parent. */
export function settingFields(schema: z.ZodObject, prefix = ''): SettingField[] {
  const out: SettingField[] = [];
  for (const [name, child] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
    const { base, hasDefault, defaultValue, optional, nullable, doc } = unwrap(child);
    const kind = kindOf(base);
    const key = prefix + name;
    const field: SettingField = { key, kind, doc, hasDefault, required: !hasDefault && !optional, schema: base, ...(hasDefault ? { defaultValue } : {}), ...(nullable ? { nullable } : {}) };
    if (kind === 'enum') field.options = Object.values(defOf(base).entries ?? {});
    if (kind === 'array') {
      const element = unwrap(defOf(base).element!).base;
      field.element = defOf(element).type === 'string' && defOf(element).format === 'url' ? 'url' : kindOf(element);
    }
    out.push(field);
    if (kind === 'object') out.push(...settingFields(base as z.ZodObject, `${key}.`));
  }
  return out;
}
