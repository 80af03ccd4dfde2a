import { settingFields, type SettingField } from './fields.js';
import type { SettingsSpec } from './settings.js';

function valueLabel(f: SettingField): string {
  switch (f.kind) {
    case 'number':
      return ' <n>';
    case 'boolean':
      return '';
    case 'enum':
      return ` <${(f.options ?? []).join('|')}>`;
    case 'array':
      return f.element === 'url' ? ' <url,...>' : ` <${f.element === 'number' ? 'n' : 'text'}> (repeatable)`;
    case 'record':
      return ' <json>';
    case 'object':
      return ' <json>';
    default:
      return ' <text>';
  }
}

/**
 * `--help` text: every setting with its value type, default and one-line doc, then the short flags,
 * aliases and the built-in flags.
 */
export function formatSettingsHelp(spec: SettingsSpec, options: { description?: string; extra?: string } = {}): string {
  const fields = settingFields(spec.schema);
  const shortOf = new Map(Object.entries(spec.short ?? {}).map(([s, key]) => [key, s]));
  const rows = fields.map((f) => {
    const s = shortOf.get(f.key);
    const flag = `${s ? `-${s}, ` : ''}--${f.key}${valueLabel(f)}${f.kind === 'record' ? ` or --${f.key}.<key> <value>` : ''}${f.kind === 'boolean' ? ` / --no-${f.key}` : ''}`;
    const dflt = f.kind === 'object' ? '' : f.hasDefault ? ` (default: ${JSON.stringify(f.defaultValue)})` : f.required ? ' (required)' : ' (default: unset)';
    return [flag, `${f.doc}${dflt}`.trim()] as const;
  });
  const width = Math.min(48, Math.max(...rows.map((r) => r[0].length)));
  const lines = [`Usage: ${spec.command} ${spec.positional ? `${spec.positional} ` : ''}[--key value | --key=value ...]`, ''];
  if (options.description) lines.push(options.description, '');
  lines.push('Settings (defaults < --config file < flags; --key value or --key=value; kebab-case works too, e.g. --max-tokens):');
  for (const [flag, doc] of rows) lines.push(flag.length > width ? `  ${flag}\n  ${' '.repeat(width)}  ${doc}` : `  ${flag.padEnd(width)}  ${doc}`);
  const aliases = Object.entries(spec.aliases ?? {});
  const shorthands = aliases.filter(([, a]) => !a.deprecated);
  const deprecated = aliases.filter(([, a]) => a.deprecated);
  if (shorthands.length) lines.push('', `Shorthands: ${shorthands.map(([k, a]) => `--${k} = --${a.to}`).join(', ')}`);
  if (deprecated.length) lines.push('', `Old names (still read, with a notice; removed in the next release): ${deprecated.map(([k, a]) => `${k} → ${a.to}`).join(', ')}`);
  if (options.extra) lines.push('', options.extra);
  lines.push(
    '',
    'Other flags:',
    `  --config <file>  read settings from a .toml or .json file (its keys are the settings above)`,
    `  --print-config   print the resolved settings as JSON and exit`,
    `  -h, --help       show this help`,
  );
  return `${lines.join('\n')}\n`;
}
