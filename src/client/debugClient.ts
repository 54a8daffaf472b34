/**
 * The client with the worker's test-only hooks (DiffusionDebugHooks): the studio creates it instead of the
 * plain DiffusionClient only with ?debug (src/app/client.ts), for the e2e specs that exercise crash recovery.
 * The production client and DiffusionWorkerApi have no such calls.
 */
import * as Comlink from 'comlink';
import type { DiffusionDebugHooks } from '../core/model/protocol';
import { DiffusionClient, type ClientOptions } from './diffusionClient';

export class DebugDiffusionClient extends DiffusionClient {
  private hooks = new WeakMap<Worker, Comlink.Remote<DiffusionDebugHooks>>();

  constructor(options: ClientOptions) {
    super(options, true);
  }

  /** Makes the worker crash with an uncaught error, to exercise crash recovery. */
  async debugCrash(): Promise<void> {
    const worker = await this.currentWorker();
    let remote = this.hooks.get(worker);
    if (!remote) {
      remote = Comlink.wrap<DiffusionDebugHooks>(worker);
      this.hooks.set(worker, remote);
    }
    // Not awaited (as before the split): the answer may never come once the worker is down.
    remote.debugCrash().catch(() => undefined);
  }
}
