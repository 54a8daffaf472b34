/**
 * The quality tab's calls into the worker: embedding real windows with the evaluation classifier and the
 * downstream check's classifier training both run in the denoiser worker, reached only through the one client.
 * No state of its own.
 */
import type { JudgeData } from '../core/model/protocol';
import type { DownstreamInput, DownstreamResult } from '../core/quality/downstream';
import { client } from './client';

/** Classifier features of real windows (64x64 gray, 0..255), in the worker. */
export function embedWindows(windows: Uint8Array[]): Promise<Float32Array[]> {
  return client.embedWindows(windows);
}

/** Real-only and real + synthetic classifiers trained and scored in the worker. */
export function runDownstream(input: DownstreamInput): Promise<DownstreamResult> {
  return client.downstream(input);
}

/** The loaded model's judge's manifest and reference features (null: the model has no judge). */
export function judgeData(): Promise<JudgeData | null> {
  return client.judgeData();
}
