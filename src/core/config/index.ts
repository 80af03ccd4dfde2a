export { closestName, levenshtein } from './did-you-mean.js';
export { settingFields, type SettingField, type FieldKind } from './fields.js';
export { formatSettingsHelp } from './help.js';
export { readConfigFile } from './read-config-file.js';
export { checkSettings, looseValue, mergeSettings, parseSettingsArgv, readSettingsFile, resolveSettings, type ParsedArgv, type ResolvedSettings, type SettingsSpec } from './settings.js';
