// A young-generation collection on demand, for the carrier's bounded memory
// (carrier.ts `collect`). V8 exposes `gc` only when started with --expose-gc; the
// flag can be set at run time, and a new context then gets the function (the
// recipe of Node's `v8.setFlagsFromString` documentation). The flag is turned
// off again at once, so nothing else of ours sees a global `gc`.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type GcFunction = (options?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

/**
 * A minor collection obtained on its first call: getting it creates a V8 context (a few ms
 * and some memory), which a session that never carries 2 MiB should not pay, nor the
 * first byte of any session. A no-op where the runtime refuses.
 */
export function lazyMinorCollector(): () => void {
  let gc: (() => void) | undefined;
  let tried = false;
  return () => {
    if (!tried) {
      tried = true;
      gc = minorCollector();
    }
    gc?.();
  };
}

/** A function that runs a minor (scavenge) collection, or undefined where the runtime refuses. */
export function minorCollector(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    setFlagsFromString('--no-expose-gc');
    if (typeof gc !== 'function') return undefined;
    const f = gc as GcFunction;
    return () => f({ type: 'minor' });
  } catch {
    return undefined;
  }
}
