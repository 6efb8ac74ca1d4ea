/** Where the Worker serves the browser snippet (snippet-routes.ts), and the versioned URL the proxy injects. */
import { SNIPPET_VERSION } from './snippet-asset.ts';

export const SNIPPET_PATH = '/attune.js';
export const snippetUrl = (): string => `${SNIPPET_PATH}?v=${SNIPPET_VERSION}`;
