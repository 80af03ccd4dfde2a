import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { formatZodError } from '../parse.js';
import { closestName } from './did-you-mean.js';
import { settingFields, type SettingField } from './fields.js';
import { readConfigFile } from './read-config-file.js';

/**
 * How one command takes its settings: a zod object schema (`.describe()` docs, `.default()`s,
 * nested objects) from which its flags, file keys, help text and defaults all come.
 */
export interface SettingsSpec<S extends z.ZodObject = z.ZodObject> {
  /** The command, for messages and help: `keiko train`. */
  command: string;
  schema: S;
  /** Single-letter flags: `{ n: 'examples' }` makes `-n 5` set `examples`. */
  short?: Readonly<Record<string, string>>;
  /**
   * Other names for a key (dotted, camelCase). `deprecated` ones print a one-line notice naming the
   * new key; the others are shorthands (`maxTokens` for `sampling.maxTokens`).
   */
  aliases?: Readonly<Record<string, { to: string; deprecated?: boolean }>>;
  /** Name of the positional arguments in help (`[config.toml]`); without it positionals are errors. */
  positional?: string;
  /** The first positional is a config file (as `--config <file>`). */
  positionalConfigFile?: boolean;
}

/** Settings read from argv, before they are merged with a file and validated. */
export interface ParsedArgv {
  /** Values set by flags, nested (`--sampling.topP=0.9` → `{ sampling: { topP: 0.9 } }`). */
  values: Record<string, unknown>;
  /** Dotted keys the flags set. */
  given: Set<string>;
  positionals: string[];
  /** `--config <file>`. */
  configFile?: string;
  help: boolean;
  printConfig: boolean;
  /** Deprecation notices, one line each. */
  notices: string[];
}

const BUILTIN_FLAGS = ['config', 'printConfig', 'help'];

const camel = (name: string) => name.replace(/-([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());
const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

class Resolver {
  readonly fields: SettingField[];
  readonly byKey: Map<string, SettingField>;

  constructor(readonly spec: SettingsSpec) {
    this.fields = settingFields(spec.schema);
    this.byKey = new Map(this.fields.map((f) => [f.key, f]));
  }

  /**
   * The field a (dotted, camel- or kebab-case) name sets, after aliases; `sub` is the key inside a
   * record field (`envArgs.digits`). Unknown names are a `ConfigError` with a suggestion.
   */
  lookup(raw: string, show: (name: string) => string, notices: string[]): { field: SettingField; sub?: string } {
    let name = raw.split('.').map(camel).join('.');
    const alias = this.spec.aliases?.[name];
    if (alias) {
      if (alias.deprecated) notices.push(`${this.spec.command}: '${name}' is deprecated; use '${alias.to}' (the old name goes in the next release)`);
      name = alias.to;
    }
    const field = this.byKey.get(name);
    if (field) return { field };
    const parts = name.split('.');
    for (let i = parts.length - 1; i > 0; i--) {
      const parent = this.byKey.get(parts.slice(0, i).join('.'));
      if (parent?.kind === 'record') return { field: parent, sub: parts.slice(i).join('.') };
    }
    // Old names are suggested by their new name.
    const near = closestName(name, [...this.byKey.keys(), ...Object.keys(this.spec.aliases ?? {})]);
    const guess = near && this.spec.aliases?.[near]?.deprecated ? this.spec.aliases[near].to : near;
    throw new ConfigError(
      `unknown setting ${show(raw)} for ${this.spec.command}${guess ? `; did you mean ${show(guess)}?` : ''} (${this.spec.command} --help lists every setting)`,
    );
  }

  /** Reads a flag's text as the field's type. */
  coerce(field: SettingField, text: string, flag: string, previous: unknown): unknown {
    if (field.nullable && /^(off|null)$/i.test(text.trim())) return null;
    switch (field.kind) {
      case 'number': {
        const n = Number(text);
        if (text.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`${flag} expects a number, got '${text}'`);
        return n;
      }
      case 'boolean':
        if (/^(true|1|yes)$/i.test(text)) return true;
        if (/^(false|0|no)$/i.test(text)) return false;
        throw new ConfigError(`${flag} expects true or false, got '${text}'`);
      case 'string':
        return text;
      case 'enum':
        if (field.options && !field.options.includes(text)) throw new ConfigError(`${flag} must be one of ${field.options.join(', ')}; got '${text}'`);
        return text;
      case 'array': {
        let items: unknown[];
        if (text.trim().startsWith('[')) items = this.json(text, flag, 'a JSON array', Array.isArray) as unknown[];
        else if (field.element === 'url') items = text.split(',').map((s) => s.trim()).filter(Boolean);
        else if (field.element === 'number') items = [this.coerce({ ...field, kind: 'number' }, text, flag, undefined)];
        else items = [text];
        return [...(Array.isArray(previous) ? previous : []), ...items];
      }
      case 'record':
        return this.json(text, flag, 'a JSON object', isPlainObject);
      case 'object': {
        const raw = this.json(text, flag, 'a JSON object', isPlainObject) as Record<string, unknown>;
        const out: Record<string, unknown> = {};
        this.checkObject(raw, field.key, out, (k) => `'${k}' in ${flag}`, []);
        return getPath(out, field.key.split('.'));
      }
      default:
        return looseValue(text);
    }
  }

  private json(text: string, flag: string, what: string, ok: (v: unknown) => boolean): unknown {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      throw new ConfigError(`${flag} must be ${what}, e.g. ${flag} '{"digits":3}'; got '${text}'`);
    }
    if (!ok(v)) throw new ConfigError(`${flag} must be ${what}; got '${text}'`);
    return v;
  }

  /** Copies a file's (or stored config's) keys into `out` under their canonical names; unknown keys throw. */
  checkObject(raw: Record<string, unknown>, prefix: string, out: Record<string, unknown>, show: (key: string) => string, notices: string[]): void {
    for (const [k, v] of Object.entries(raw)) {
      const dotted = prefix ? `${prefix}.${k}` : k;
      const { field, sub } = this.lookup(dotted, show, notices);
      if (field.kind === 'object' && isPlainObject(v)) {
        this.checkObject(v, field.key, out, show, notices);
        continue;
      }
      const path = [...field.key.split('.'), ...(sub ? [sub] : [])];
      setPath(out, path, isPlainObject(v) ? mergeSettings(getPath(out, path), v) : v);
    }
  }

  parseArgv(argv: readonly string[]): ParsedArgv {
    const result: ParsedArgv = { values: {}, given: new Set(), positionals: [], help: false, printConfig: false, notices: [] };
    const showFlag = (name: string) => `'--${name}'`;
    for (let i = 0; i < argv.length; i++) {
      const token = argv[i]!;
      const valueAfter = (flag: string): string => {
        const next = argv[i + 1];
        if (next === undefined || (next.startsWith('-') && !Number.isFinite(Number(next)))) throw new ConfigError(`${flag} needs a value: ${flag} <value> or ${flag}=<value>`);
        i++;
        return next;
      };
      if (token === '--') {
        result.positionals.push(...argv.slice(i + 1));
        break;
      }
      let name: string;
      let inline: string | undefined;
      const long = /^--([^=]+)(?:=([\s\S]*))?$/.exec(token);
      const short = /^-([A-Za-z])(?:=([\s\S]*))?$/.exec(token);
      if (long) {
        name = long[1]!;
        inline = long[2];
      } else if (short) {
        if (short[1] === 'h') {
          result.help = true;
          continue;
        }
        const target = this.spec.short?.[short[1]!];
        if (!target) {
          const shorts = Object.keys(this.spec.short ?? {});
          throw new ConfigError(`unknown flag '${token}' for ${this.spec.command}${shorts.length ? `; short flags: ${shorts.map((s) => `-${s}`).join(', ')}` : ''} (--help lists every setting)`);
        }
        name = target;
        inline = short[2];
      } else {
        result.positionals.push(token);
        continue;
      }
      const builtin = camel(name);
      if (BUILTIN_FLAGS.includes(builtin)) {
        if (builtin === 'help') result.help = true;
        else if (builtin === 'printConfig') result.printConfig = true;
        else result.configFile = inline ?? valueAfter(token);
        continue;
      }
      const flag = long ? `--${name}` : token.replace(/=.*/, '');
      // --no-flag sets a boolean to false.
      const negated = /^no-?([A-Za-z])(.*)$/.exec(camel(name));
      if (negated && inline === undefined) {
        const plain = negated[1]!.toLowerCase() + negated[2]!;
        const target = this.byKey.get(this.spec.aliases?.[plain]?.to ?? plain);
        if (target?.kind === 'boolean' && !this.byKey.has(camel(name))) {
          const { field } = this.lookup(plain, showFlag, result.notices);
          setPath(result.values, field.key.split('.'), false);
          result.given.add(field.key);
          continue;
        }
      }
      const { field, sub } = this.lookup(name, showFlag, result.notices);
      const path = [...field.key.split('.'), ...(sub ? [sub] : [])];
      let value: unknown;
      if (sub !== undefined) value = looseValue(inline ?? valueAfter(flag));
      else if (field.kind === 'boolean') {
        const next = argv[i + 1];
        if (inline !== undefined) value = this.coerce(field, inline, flag, undefined);
        else if (next !== undefined && /^(true|false)$/i.test(next)) value = this.coerce(field, argv[++i]!, flag, undefined);
        else value = true;
      } else value = this.coerce(field, inline ?? valueAfter(flag), flag, getPath(result.values, path));
      setPath(result.values, path, isPlainObject(value) && sub === undefined && field.kind === 'object' ? mergeSettings(getPath(result.values, path), value) : value);
      result.given.add(path.join('.'));
    }
    if (!this.spec.positional && result.positionals.length > 0) {
      throw new ConfigError(`unexpected argument '${result.positionals[0]}' for ${this.spec.command}; settings are flags: --key value or --key=value (--help lists them)`);
    }
    return result;
  }
}

/** A JSON reading of `text` when it parses (numbers, booleans, objects), else the text itself. */
export function looseValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function getPath(obj: Record<string, unknown>, path: readonly string[]): unknown {
  let cur: unknown = obj;
  for (const p of path) cur = isPlainObject(cur) ? cur[p] : undefined;
  return cur;
}

function setPath(obj: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let cur = obj;
  for (const p of path.slice(0, -1)) {
    if (!isPlainObject(cur[p])) cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[path.at(-1)!] = value;
}

/** Merges layers left to right (later wins); plain objects merge key by key, anything else is replaced. */
export function mergeSettings(...layers: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const layer of layers) {
    if (!isPlainObject(layer)) continue;
    for (const [k, v] of Object.entries(layer)) out[k] = isPlainObject(v) && isPlainObject(out[k]) ? mergeSettings(out[k], v) : isPlainObject(v) ? mergeSettings(v) : v;
  }
  return out;
}

/**
 * Reads argv into settings: `--key value`, `--key=value`, camelCase or kebab-case, dotted nested
 * keys (`--sampling.topP=0.9`), `--flag` / `--no-flag`, short flags and aliases; strings become the
 * schema's types. Also picks out `--config <file>`, `--print-config` and `-h/--help`.
 */
export function parseSettingsArgv(spec: SettingsSpec, argv: readonly string[]): ParsedArgv {
  return new Resolver(spec).parseArgv(argv);
}

/**
 * Checks an object of settings (a config file's contents, a run's stored config): keys are put under
 * their canonical names (aliases, kebab-case), unknown keys at any depth are a `ConfigError`.
 */
export function checkSettings(spec: SettingsSpec, raw: Record<string, unknown>, origin: string): { values: Record<string, unknown>; notices: string[] } {
  const values: Record<string, unknown> = {};
  const notices: string[] = [];
  new Resolver(spec).checkObject(raw, '', values, (k) => `'${k}' in ${origin}`, notices);
  return { values, notices };
}

/** Reads and checks a TOML or JSON settings file. */
export function readSettingsFile(spec: SettingsSpec, path: string): { values: Record<string, unknown>; notices: string[] } {
  return checkSettings(spec, readConfigFile(path), path);
}

/** The resolved settings of one command invocation. */
export interface ResolvedSettings<T> {
  config: T;
  argv: ParsedArgv;
  notices: string[];
}

/**
 * The whole mechanism for a command whose schema parses the merged settings as they are:
 * defaults < `base` < file (`--config` or the positional) < flags, validated by the schema.
 */
export function resolveSettings<S extends z.ZodObject>(spec: SettingsSpec<S>, argv: readonly string[], options: { base?: Record<string, unknown> } = {}): ResolvedSettings<z.infer<S>> {
  const parsed = parseSettingsArgv(spec, argv);
  const file = parsed.configFile ?? (spec.positionalConfigFile ? parsed.positionals[0] : undefined);
  const fromFile = file ? readSettingsFile(spec, file) : { values: {}, notices: [] };
  const merged = mergeSettings(options.base ?? {}, fromFile.values, parsed.values);
  const checked = spec.schema.safeParse(merged);
  if (!checked.success) throw new ConfigError(`invalid ${spec.command} settings: ${formatZodError(checked.error)}`);
  return { config: checked.data, argv: parsed, notices: [...fromFile.notices, ...parsed.notices] };
}
