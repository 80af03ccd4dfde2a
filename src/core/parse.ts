import type { z } from 'zod';

export type ParseResult<T> = { success: true; data: T } | { success: false; error: string };

/** Parses JSON text against a schema without throwing. Use for model output, files and requests. */
export function safeParseJson<S extends z.ZodType>(text: string, schema: S): ParseResult<z.infer<S>> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { success: false, error: `invalid JSON: ${(error as Error).message}` };
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { success: true, data: parsed.data };
  return { success: false, error: formatZodError(parsed.error) };
}

/** One line per issue: "path.to.field: message". */
export function formatZodError(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}
