import type { ImageQuality } from '../core/quality/imageQuality';
import type { Provenance } from '../core/model/protocol';

export type ReviewStatus = 'pending' | 'accepted' | 'rejected';
export const REVIEW_STATUSES: readonly ReviewStatus[] = ['pending', 'accepted', 'rejected'];

/** What the studio keeps per generated image (pixels live beside it, see ItemImages). */
export interface DatasetItem {
  id: string;
  createdAt: string;
  status: ReviewStatus;
  decidedAt: string | null;
  className: string;
  width: number;
  height: number;
  provenance: Provenance;
  /** The inspector's training-data citation of the model that made it (goes into README.txt). */
  citation: string;
  /** Per-image quality flags from the evaluation classifier, when it ran. */
  quality?: ImageQuality;
  /** Why the inspector rejected it (one of the offered reasons or free text, at most 500 characters); only on rejected items. */
  rejectReason?: string;
}

export interface ItemImages {
  id: string;
  png: Uint8Array;
  maskPng: Uint8Array;
}
