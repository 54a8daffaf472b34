/**
 * Start-up: the worker's handshake and the stored dataset in parallel, the zip worker started while the studio's
 * files can be reached, the model list, the model asked for (URL, then the last one used, then the default),
 * the queue restored from before a reload, persistent storage requested. No state of its own.
 */
import { DEFAULT_MODEL_ID } from '../config';
import * as db from '../dataset/db';
import { archiveWorker } from './archive';
import { client, urlConfig } from './client';
import { fail, S } from './common';
import { loadDataset } from './dataset';
import { activateModel, refreshModels } from './models';
import { loadPhotoSet } from './photos';
import { restoreQueue } from './queue';

export async function startEngine(): Promise<void> {
  S().setStatus({ kind: 'loadingModel' });
  db.onDatabaseBlocked(() =>
    S().setNotice({ kind: 'error', text: 'Another tab of the studio holds its stored dataset open with an older version: close that tab (nothing in it is lost), and this one continues.' }));
  // Start-up marks (performance.getEntriesByType('mark')): bench/bench.ts prints them beside the worker's phases.
  performance.mark('dds:engine-start');
  try {
    const [info] = await Promise.all([
      client.handshake().then((h) => (performance.mark('dds:worker-handshake'), h)),
      loadDataset().then(() => performance.mark('dds:dataset-loaded')),
      loadPhotoSet(),
    ]);
    S().setEngine(info, null);
    // The zip worker's script is fetched now, while the studio's files can be reached (export works offline later).
    archiveWorker();
    const models = await refreshModels();
    const wanted = urlConfig.modelId !== DEFAULT_MODEL_ID ? urlConfig.modelId : S().settings.modelId || DEFAULT_MODEL_ID;
    await activateModel(models.some((m) => m.id === wanted) ? wanted : DEFAULT_MODEL_ID);
    performance.mark('dds:model-ready');
    restoreQueue();
    void db.requestPersistence().catch(() => false);
  } catch (e) {
    S().setStatus({ kind: 'error', ...fail(e) });
  }
}
