import { z } from 'zod';
import { WEB_LIMITS } from '../web/search-web.js';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** Body of POST /api/search (or the GET query string: q/query, page, size/pageSize). */
export const SearchRequest = z.strictObject({
  query: z.string().trim().min(1, 'query is empty').max(WEB_LIMITS.maxQueryChars, `query longer than ${WEB_LIMITS.maxQueryChars} chars`),
  page: int(1, WEB_LIMITS.maxPage).default(1),
  pageSize: int(1, 50).optional(),
});
export type SearchRequest = z.infer<typeof SearchRequest>;

const pageRef = {
  url: z.string().min(1).max(2048).optional(),
  id: z.string().min(1).max(1024).optional(),
};
const oneRef = (v: { url?: string; id?: string }) => (v.url === undefined) !== (v.id === undefined);
const oneRefMessage = { message: 'give exactly one of url or id' };

/** Body of POST /api/open. */
export const OpenRequest = z
  .strictObject({ ...pageRef, line: int(1, 10_000_000).default(1), lines: int(1, 500).optional() })
  .refine(oneRef, oneRefMessage);
export type OpenRequest = z.infer<typeof OpenRequest>;

/** Body of POST /api/find. */
export const FindRequest = z
  .strictObject({ ...pageRef, pattern: z.string().trim().min(1, 'pattern is empty').max(WEB_LIMITS.maxPatternChars) })
  .refine(oneRef, oneRefMessage);
export type FindRequest = z.infer<typeof FindRequest>;

/** One operation of POST /api/batch: a search, open or find request with its `op`. */
export const BatchOperation = z.discriminatedUnion('op', [
  SearchRequest.extend({ op: z.literal('search') }),
  z.strictObject({ op: z.literal('open'), ...pageRef, line: int(1, 10_000_000).default(1), lines: int(1, 500).optional() }).refine(oneRef, oneRefMessage),
  z.strictObject({ op: z.literal('find'), ...pageRef, pattern: z.string().trim().min(1, 'pattern is empty').max(WEB_LIMITS.maxPatternChars) }).refine(oneRef, oneRefMessage),
]);
export type BatchOperation = z.infer<typeof BatchOperation>;

/**
 * Body of POST /api/batch: many operations in one round trip (rollout workers send a step's worth
 * at once). The reply holds one `{status, body}` or `{status, error}` per operation, in order; one
 * bad operation does not fail the others.
 */
export const BatchRequest = z.strictObject({ requests: z.array(BatchOperation).min(1) });
export type BatchRequest = z.infer<typeof BatchRequest>;

/** Every error response: `{ error: { code, message } }` with a 4xx/5xx status. */
export interface ApiError {
  error: { code: string; message: string };
}
