/**
 * The studio side of the pilot report: the downstream check's last result as the Quality tab shows it
 * (published by DownstreamPanel), the user's thresholds (kept in localStorage), and the report of the current
 * dataset built with src/report from the store's items, the loaded model and the same quality numbers the
 * quality panel computes (src/report/evaluation.ts, the panel's parameters), judged by the same classifier: the
 * model's own or the embedded one (judgeData), counting only images that classifier judged. The downstream
 * protocol's numbers are the ones an embedded model ships (models/<id>/downstream.json), labelled as the model's.
 */
import { create } from 'zustand';
import { embeddedModelJson, judgeData } from '../../engine';
import type { DownstreamResult } from '../../core/quality/downstream';
import { parseReferenceFeatures, type ReferenceFeatures } from '../../core/quality/features';
import { studioQuality } from '../../report/evaluation';
import { MODEL_PROTOCOL_FILE, parseProtocolText } from '../../report/protocol';
import { studioSamples } from '../quality/studioEvaluation';
import { renderReport } from '../../report/html';
import { modelsOf } from '../../report/summary';
import { DEFAULT_THRESHOLDS, parseThresholds, type Thresholds } from '../../report/thresholds';
import type { DownstreamNumbers, ReportInput } from '../../report/types';
import { useStudio } from '../../state/store';

export interface PublishedDownstream {
  value: DownstreamNumbers;
  ranAt: string;
  /** The accepted ids the check ran with (the report says when the accepted set has changed since). */
  acceptedIds: string[];
}

/** The last downstream check the Quality tab ran in this session (null: not run). */
export const useLastDownstream = create<{ last: PublishedDownstream | null; publish: (d: PublishedDownstream | null) => void }>()((set) => ({
  last: null,
  publish: (last) => set({ last }),
}));

const THRESHOLDS_KEY = 'dds.pilotReport.thresholds';

/** The thresholds saved in this browser (defaults where none or a bad value was saved). */
export function loadThresholds(): Thresholds {
  try {
    const raw = localStorage.getItem(THRESHOLDS_KEY);
    return raw ? parseThresholds(JSON.parse(raw)) : DEFAULT_THRESHOLDS;
  } catch {
    return DEFAULT_THRESHOLDS;
  }
}
export function saveThresholds(t: Thresholds): void {
  try {
    localStorage.setItem(THRESHOLDS_KEY, JSON.stringify(t));
  } catch {
    // storage full or blocked: the thresholds still apply to this session's reports
  }
}

/** The active judge's reference features (the model's own classifier or the embedded one), as the quality panel reads them. */
async function judgeReference(): Promise<{ classifierId: string; reference: ReferenceFeatures } | null> {
  const d = await judgeData();
  return d ? { classifierId: d.classifierId, reference: parseReferenceFeatures(d.referenceFeatures) } : null;
}

/** The downstream protocol's report the loaded model ships (an embedded model's downstream.json), labelled as the model's. */
async function modelProtocol(): Promise<ReportInput['protocol']> {
  const s = useStudio.getState();
  const id = s.model?.manifest.id;
  if (!id) return { available: false, why: 'no model is loaded' };
  if (s.models.find((m) => m.id === id)?.source !== 'embedded') return { available: false, why: `a protocol report is not available for user models (${id} is one)` };
  const file = `models/${id}/${MODEL_PROTOCOL_FILE}`;
  try {
    const text = await embeddedModelJson(id, MODEL_PROTOCOL_FILE);
    if (text === null) return { available: false, why: `the embedded model ${id} ships no ${MODEL_PROTOCOL_FILE}` };
    return { available: true, value: parseProtocolText(text, { kind: 'model', modelId: id, file }) };
  } catch (e) {
    return { available: false, why: `${file} could not be read: ${(e as Error).message}` };
  }
}

/** The pilot report of the studio's current dataset, as HTML. */
export async function studioReport(thresholds: Thresholds, now = new Date()): Promise<string> {
  const s = useStudio.getState();
  const manifest = s.model?.manifest;
  const records = s.items.map(({ url: _u, maskUrl: _m, ...item }) => item);
  const classes = manifest?.classes ?? [...new Set(records.map((r) => r.className))];
  let quality: ReportInput['quality'];
  if (!s.model?.quality.enabled) quality = { available: false, why: `the per-image checks are off (${s.model?.quality.reason ?? 'no model loaded'})` };
  else {
    try {
      const judge = await judgeReference();
      quality = judge
        ? { available: true, value: await studioQuality(classes, judge.reference, studioSamples(s.items, classes, judge.classifierId), judge.classifierId) }
        : { available: false, why: 'the loaded model has no evaluation classifier of its own classes' };
    } catch (e) {
      quality = { available: false, why: `the reference features could not be read: ${(e as Error).message}` };
    }
  }
  const last = useLastDownstream.getState().last;
  let downstream: ReportInput['downstream'] = { available: false, why: 'the downstream check has not been run in this session (Quality tab, "Does it help a downstream model?")' };
  if (last) {
    // the images the check takes (DownstreamPanel): accepted, of the model's classes, judged by the active judge
    const nowIds = new Set(studioSamples(s.items, classes, s.model?.quality.classifierId ?? '').map((x) => x.name));
    const same = last.acceptedIds.length === nowIds.size && last.acceptedIds.every((id) => nowIds.has(id));
    downstream = {
      available: true,
      value: { ...last.value, realSource: `${last.value.realSource} Run in the studio at ${last.ranAt}${same ? ' on the accepted images as they are now.' : `; the accepted images have changed since (${last.acceptedIds.length} then, ${nowIds.size} now): run it again for numbers of this set.`}` },
    };
  }
  const protocol = await modelProtocol();
  const citationOf = (_id: string, sha: string) => (manifest && manifest.sha256 === sha ? manifest.training.citation : undefined);
  return renderReport({
    generatedAt: now.toISOString(), source: "the studio's current dataset", reviewed: true, classes, records, quality, downstream, protocol,
    models: modelsOf(records, citationOf), thresholds,
    thresholdsSource: JSON.stringify(thresholds) === JSON.stringify(DEFAULT_THRESHOLDS) ? 'the defaults' : 'set in the studio (Dataset tab, Pilot report thresholds)',
  });
}

/**
 * Called by the Quality tab's downstream check when it has a result: what it ran on (per real window: the file
 * it was drawn from, its label, group and side of the split) and the accepted images it added.
 */
export function publishDownstream(
  result: DownstreamResult,
  real: { names: readonly string[]; labels: readonly number[]; groups: readonly string[]; splitBy: 'tile_group' | 'file'; heldOutGroups?: readonly string[] },
  heldOut: readonly boolean[],
  classes: readonly string[],
  acceptedIds: string[],
): void {
  const perClass = (side: boolean) => classes.map((_, c) => real.labels.filter((l, i) => l === c && heldOut[i] === side).length);
  useLastDownstream.getState().publish({
    ranAt: new Date().toISOString(),
    acceptedIds,
    value: {
      result, classes: [...classes], split: real.splitBy,
      heldOutImages: [...new Set(real.names.filter((_, i) => heldOut[i]))].sort(),
      heldOutGroups: [...(real.heldOutGroups ?? new Set(real.groups.filter((_, i) => heldOut[i])))].sort(),
      testPerClass: perClass(true), trainPerClass: perClass(false),
      realSource: `Real images: the folder chosen in the Quality tab; ${real.names.length} windows drawn from its images (as npm run evaluate draws them: around a defect pixel when a mask is there), split ${real.splitBy === 'tile_group' ? 'by tile_group from its manifest_extra.csv' : 'by file: no manifest_extra.csv with tile_group, so photos of one part may sit on both sides and the real-only score is optimistic'} (the classifier's own held-out groups where it knows them); the counts in the table are windows, the list below the held-out images they were drawn from.`,
    },
  });
}
