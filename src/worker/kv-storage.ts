/** The core's ModelStorage over a KV binding. */
import type { ModelStorage } from '../core/model-registry.ts';

export function kvStorage(kv: KVNamespace): ModelStorage {
  return {
    getBytes: (key) => kv.get(key, 'arrayBuffer'),
    getText: (key) => kv.get(key, 'text'),
    put: (key, value) => kv.put(key, value),
  };
}
