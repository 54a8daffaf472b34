/**
 * The app's actions, as components import them: a façade over src/app/, where each concern has its module
 * (models, canvas, queue, review, dataset, archive, start, photos, quality; docs/architecture.md draws them).
 * Components call these; they never touch the worker, the client or IndexedDB directly.
 */
export { activateModel, addUserModel, deleteUserModel, embeddedModelJson } from './app/models';
export { applyPrompt, randomMaskIntoCanvas } from './app/canvas';
export { cancelGeneration, enqueueFromSettings, fillToTarget, removeQueuedJob, runQueue } from './app/queue';
export { decide, reuseSeed, undoLast } from './app/review';
export { deleteDamaged, deleteRejected, exportDamaged, storageInfo, type StorageInfo } from './app/dataset';
export { exportDataset, importDataset } from './app/archive';
export { startEngine } from './app/start';
export { addPhotos, clearPhotoSet, removePhoto } from './app/photos';
export { embedWindows, judgeData, runDownstream } from './app/quality';
