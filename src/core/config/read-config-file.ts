import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { ConfigError } from '../errors.js';

/** Reads a TOML (`.toml`) or JSON (`.json`) config file into a plain object (not yet validated). */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file '${path}': ${(error as Error).message}`, { cause: error });
  }
  const ext = extname(path).toLowerCase();
  let raw: unknown;
  try {
    if (ext === '.toml') raw = parseToml(text);
    else if (ext === '.json') raw = JSON.parse(text) as unknown;
    else throw new ConfigError(`config file '${path}' must end in .toml or .json`);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`cannot parse config file '${path}': ${(error as Error).message}`, { cause: error });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`config file '${path}' must hold an object of key = value pairs`);
  }
  return raw as Record<string, unknown>;
}
