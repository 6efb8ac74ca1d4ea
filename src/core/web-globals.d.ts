/**
 * The only web-platform globals the core may use: WHATWG URL parsing, which Workers, Node and
 * browsers all ship. Declared by hand (not via lib "DOM") so that nothing else, such as
 * fetch, Request, crypto or TextEncoder, type-checks inside the core.
 */
declare class URLSearchParams {
  constructor(init?: string);
  get(name: string): string | null;
  has(name: string): boolean;
}
declare class URL {
  constructor(url: string, base?: string);
  readonly hostname: string;
  readonly pathname: string;
  readonly searchParams: URLSearchParams;
}
