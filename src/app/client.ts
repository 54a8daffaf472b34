/**
 * The studio's one DiffusionClient (the only owner of the denoiser Worker) and the start-up settings read from
 * the URL. With ?debug the client is the test-only DebugDiffusionClient and window.ddsDebug exposes it, the
 * store and the canvas to the e2e specs and benchmarks. State: the client object itself (not UI state: it owns
 * the worker); what the UI shows of it goes through the store.
 */
import { DiffusionClient, type ClientOptions } from '../client/diffusionClient';
import { DebugDiffusionClient } from '../client/debugClient';
import { readUrlConfig, modelBaseUrl, CLASSIFIER_ID } from '../config';
import { StudioError } from '../core/errors';
import { useStudio } from '../state/store';
import { fail, S } from './common';
import { canvasState } from './maskDoc';

export const urlConfig = readUrlConfig(typeof location === 'undefined' ? '' : location.search);

const options: ClientOptions = {
  backend: urlConfig.backend,
  numThreads: urlConfig.numThreads,
  classifierBaseUrl: modelBaseUrl(CLASSIFIER_ID),
  // Nothing was running, so nothing failed; but the user should know why the worker (and its model) restarted.
  onIdleCrash: ({ error, reloaded, reloadError }) => {
    if (reloaded) {
      S().setNotice({ kind: 'info', text: `The worker stopped while idle (${error.message}): ${reloaded.manifest.id} was reloaded on a fresh worker; nothing was lost.` });
    } else {
      S().setNotice({ kind: 'error', text: `The worker stopped while idle (${error.message}), and reloading the model failed: ${(reloadError as Error | undefined)?.message ?? 'no model'}. Choose a model to load it again.` });
      S().setStatus({ kind: 'error', ...fail(reloadError ?? new StudioError('inference', 'no model is loaded')) });
    }
  },
};

export const client: DiffusionClient = urlConfig.debug ? new DebugDiffusionClient(options) : new DiffusionClient(options);
if (urlConfig.debug) (globalThis as unknown as { ddsDebug: unknown }).ddsDebug = { client, store: useStudio, canvas: canvasState };
