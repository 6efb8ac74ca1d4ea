/**
 * Schema pieces several public endpoints share (zod/mini): who the visitor is, the page, the
 * caller's attributes, slot ids and model names, and the error shape every endpoint answers with.
 */
import * as z from 'zod/mini';

export const REQUEST_LIMITS = {
  /** bytes of a decide, score or recommend request body */
  bodyBytes: 64 * 1024,
  attributes: 32,
} as const;

/** A name of ours: a model's (the registry's rule, core/model-registry.ts `MODEL_NAME`), a segment's. */
export const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const Name = z.string().check(z.regex(NAME, 'lower-case letters, digits, ".", "_" or "-", at most 64'));
export const shortText = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));

/**
 * A slot's id: printable ASCII, because it is echoed in the `x-attune-fallback` header, where a
 * line break or a character past Latin-1 would make the response itself fail.
 */
export const SLOT_ID = /^[\x20-\x7e]{1,64}$/;
export const SlotId = z.string().check(z.regex(SLOT_ID, '1–64 printable ASCII characters'));

export const VISITOR_ID = /^[A-Za-z0-9_-]{8,64}$/;
export const VisitorId = z.string().check(z.regex(VISITOR_ID, '8–64 characters of A-Z a-z 0-9 _ -'));

/** The page's string limits (UTF-16 units), shared with decide's hand-checked path (decide/decide-body.ts). */
export const PAGE_LIMITS = { url: 2048, pageType: 32 } as const;

export const PageContext = z.object({
  url: z.optional(z.string().check(z.maxLength(PAGE_LIMITS.url), z.url())),
  referrer: z.optional(z.string().check(z.maxLength(PAGE_LIMITS.url))),
  pageType: z.optional(shortText(PAGE_LIMITS.pageType)),
});

export const Attributes = z
  .record(
    shortText(64),
    z.union([z.string().check(z.maxLength(256)), z.number().check(z.refine(Number.isFinite, 'must be finite')), z.boolean()]),
  )
  .check(z.refine((a) => Object.keys(a).length <= REQUEST_LIMITS.attributes, `at most ${REQUEST_LIMITS.attributes} attributes`));

/** Candidates are distinct: a repeated one would be served more often than its logged propensity says. */
export const distinct = (xs: readonly string[]) => new Set(xs).size === xs.length;

export const ErrorResponse = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.optional(z.string()) }),
});
