/**
 * What a pilot report is made from. The studio (Dataset tab, "Pilot report") and `npm run report` both fill a
 * ReportInput and hand it to renderReport (html.ts); nothing in src/report/ reads the DOM, the store or files.
 */
import type { DatasetItem } from '../dataset/types';
import type { DownstreamResult } from '../core/quality/downstream';
import type { ProtocolNumbers } from './protocol';
import type { Thresholds } from './thresholds';

/** One dataset record as metadata.jsonl holds it (the fields the report reads), plus its file name when known. */
export type ReportRecord = Pick<DatasetItem, 'id' | 'className' | 'status' | 'provenance'> &
  Partial<Pick<DatasetItem, 'rejectReason' | 'citation' | 'quality'>> & { file?: string };

export interface MeanStd {
  mean: number;
  std: number;
}

/** Quality of one class's accepted images on the evaluation classifier's features, with its reference points. */
export interface QualityRow {
  className: string;
  /** Accepted images with classifier features. */
  n: number;
  /** Share the classifier calls the asked class (null: none accepted). */
  consistency: number | null;
  /** KID accepted vs the real reference features (null: fewer than 2). */
  kid: MeanStd | null;
  /** KID between two halves of the real reference features at the same subset size: "as close as real". */
  realKid: MeanStd | null;
  /** KID between the class's real features and the defect-free (Free) class's: "clearly not this class". */
  freeKid: MeanStd | null;
  diversity: number | null;
  realDiversity: number | null;
  /** Accepted images flagged as possible memorisation (nearest real feature closer than real-vs-real). */
  memorised: number;
}

export interface QualityNumbers {
  classifierId: string;
  rows: QualityRow[];
  /** How the numbers were computed (subsets, subset size, where the features came from). */
  method: string;
}

/** The downstream check's result and exactly which real images were held out. */
export interface DownstreamNumbers {
  result: DownstreamResult;
  /** Class names in the order of result.perClass. */
  classes: string[];
  split: 'tile_group' | 'file';
  /** Held-out real images (paths as given) and their tile groups (or files, for a split by file). */
  heldOutImages: string[];
  heldOutGroups: string[];
  /** Real images (or windows) per class on each side. */
  testPerClass: number[];
  trainPerClass: number[];
  /** Where the real images came from and how they were turned into windows. */
  realSource: string;
}

export type Availability<T> = { available: true; value: T } | { available: false; why: string };

export interface ModelInfo {
  id: string;
  version: string;
  sha256: string;
  citation: string;
}

export interface ReportInput {
  generatedAt: string;
  /** What the report was made from (a zip's name, a folder, "the studio's current dataset"). */
  source: string;
  /** false for a folder written by npm run generate: nothing was reviewed and every image counts as accepted. */
  reviewed: boolean;
  /** Classes in the model's order (records of other classes are added after them). */
  classes: string[];
  records: ReportRecord[];
  quality: Availability<QualityNumbers>;
  downstream: Availability<DownstreamNumbers>;
  /** The downstream protocol's report (npm run downstream), given for this report or shipped with the model; not a go / no-go check. */
  protocol: Availability<ProtocolNumbers>;
  models: ModelInfo[];
  thresholds: Thresholds;
  /** Where the thresholds came from ("defaults", a file name, "set in the studio"). */
  thresholdsSource: string;
}
