// Picks the policy implementation: src/normalize/policy.ts (the real one, another engineer's)
// when it exists, else the temporary policy-fallback.ts. Resolved once at module load.
// Once policy.ts has landed this file can become a plain re-export.

import type { PolicyOptions } from '../core/normalizer.ts';
import type { Policy } from './policy-types.ts';

type PolicyFactory = (options: PolicyOptions) => Policy;

async function load(): Promise<{ createPolicy: PolicyFactory; implementation: string }> {
  // A variable specifier keeps the type checker from requiring the file to exist yet.
  const real: string = './policy.ts';
  try {
    const m = (await import(real)) as { createPolicy?: PolicyFactory };
    if (typeof m.createPolicy === 'function') return { createPolicy: m.createPolicy, implementation: 'policy.ts' };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes('policy.ts')) throw e;
  }
  const fb = await import('./policy-fallback.ts');
  return { createPolicy: fb.createPolicy, implementation: 'policy-fallback.ts' };
}

const loaded = await load();
export const createPolicy: PolicyFactory = loaded.createPolicy;
/** Which file provides the policy (reported by tests and --explain). */
export const policyImplementation: string = loaded.implementation;
