import { z } from 'zod';
import { ConfigError, formatZodError } from '../core/index.js';

/**
 * Validates `loadEnvironment` args against a zod object schema (unknown keys are errors) and
 * throws a `ConfigError` that names the environment and lists the valid args.
 */
export function parseEnvArgs<S extends z.ZodObject>(options: {
  env: string;
  schema: S;
  args: Record<string, unknown> | undefined;
}): z.infer<S> {
  const { env, schema, args } = options;
  const parsed = schema.strict().safeParse(args ?? {});
  if (parsed.success) return parsed.data as z.infer<S>;
  const valid = Object.keys(schema.shape).join(', ');
  throw new ConfigError(`invalid args for environment '${env}': ${formatZodError(parsed.error)}; valid args: ${valid}`);
}
