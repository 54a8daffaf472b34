/**
 * One typed zustand store made of slices. Status is a tagged union; pixel buffers stay out of the store
 * (results keep an object URL).
 */
import { create } from 'zustand';
import type { HandshakeInfo, LoadedModelInfo, Provenance, StepProgress } from '../core/protocol';
import type { SamplerName } from '../core/samplers';

export type EngineStatus =
  | { kind: 'idle' }
  | { kind: 'loadingModel' }
  | { kind: 'ready' }
  | { kind: 'generating'; progress: StepProgress | null }
  | { kind: 'error'; code: string; message: string };

export interface Settings {
  className: string;
  prompt: string;
  seed: number;
  sampler: SamplerName;
  steps: number;
  guidance: number;
}

export interface ResultView {
  url: string;
  maskUrl: string;
  provenance: Provenance;
  /** Step numbers of the progress events received for this result, in order. */
  progressSteps: number[];
}

interface EngineSlice {
  status: EngineStatus;
  handshake: HandshakeInfo | null;
  model: LoadedModelInfo | null;
  setStatus: (s: EngineStatus) => void;
  setEngine: (h: HandshakeInfo | null, m: LoadedModelInfo | null) => void;
}
interface SettingsSlice {
  settings: Settings;
  updateSettings: (patch: Partial<Settings>) => void;
}
interface ResultSlice {
  result: ResultView | null;
  preview: string | null;
  setResult: (r: ResultView | null) => void;
  setPreview: (url: string | null) => void;
}

export type StudioState = EngineSlice & SettingsSlice & ResultSlice;

export const DEFAULT_SETTINGS: Settings = { className: '', prompt: '', seed: 1, sampler: 'dpmpp2m', steps: 20, guidance: 2 };

export const useStudio = create<StudioState>()((set) => ({
  status: { kind: 'idle' },
  handshake: null,
  model: null,
  setStatus: (status) => set({ status }),
  setEngine: (handshake, model) => set({ handshake, model }),
  settings: DEFAULT_SETTINGS,
  updateSettings: (patch) => set((s) => ({ settings: { ...s.settings, ...patch } })),
  result: null,
  preview: null,
  setResult: (result) =>
    set((s) => {
      if (s.result) {
        URL.revokeObjectURL(s.result.url);
        URL.revokeObjectURL(s.result.maskUrl);
      }
      return { result };
    }),
  setPreview: (preview) =>
    set((s) => {
      if (s.preview) URL.revokeObjectURL(s.preview);
      return { preview };
    }),
}));
