import { useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { startEngine } from './engine';
import { DatasetPanel } from './features/dataset/DatasetPanel';
import { GenerateActions, GeneratePanel } from './features/generate/GeneratePanel';
import { MaskEditor } from './features/mask/MaskEditor';
import { QualityPanel } from './features/quality/QualityPanel';
import { NoticeBanner, StatusBar } from './features/generate/StatusBar';
import { DetailView } from './features/review/DetailView';
import { ReviewGrid } from './features/review/ReviewGrid';
import { PanelBoundary } from './features/shell/PanelBoundary';
import { useStudio } from './state/store';

let started = false;
const clearSelection = () => useStudio.getState().select(null);

const TABS = ['Generate', 'Mask', 'Dataset', 'Quality'] as const;
type Tab = (typeof TABS)[number];

/**
 * One screen: a left column of tabs (settings, mask editor, dataset, quality) with the Generate buttons and
 * progress always under it, and the review area (grid + large view) on the right. The page itself never
 * scrolls; each column scrolls inside itself, so opening a tab never moves the review area. Every tab stays
 * mounted (hidden when not shown), so a painted mask or a downstream result survives switching tabs.
 */
export function App() {
  useEffect(() => {
    if (started) return; // StrictMode mounts twice in dev; the engine starts once
    started = true;
    void startEngine();
  }, []);
  const citation = useStudio(useShallow((s) => s.model?.manifest.training.citation ?? ''));
  const [tab, setTab] = useState<Tab>('Generate');
  return (
    <div className="app">
      <header>
        <h1>Defect Diffusion Studio</h1>
        <PanelBoundary name="Status bar"><StatusBar /></PanelBoundary>
      </header>
      <div className="notice-slot"><PanelBoundary name="Notice"><NoticeBanner /></PanelBoundary></div>
      <main>
        <aside className="sidebar">
          <div className="tabs" role="tablist" aria-label="Panels">
            {TABS.map((t) => (
              <button key={t} type="button" role="tab" id={`tab-${t}`} aria-controls={`panel-${t}`} aria-selected={tab === t} className={tab === t ? 'active' : ''} onClick={() => setTab(t)}>{t}</button>
            ))}
          </div>
          <div className="tabpanel" role="tabpanel" id="panel-Generate" aria-labelledby="tab-Generate" hidden={tab !== 'Generate'}>
            <PanelBoundary name="Generate panel"><GeneratePanel /></PanelBoundary>
          </div>
          <div className="tabpanel" role="tabpanel" id="panel-Mask" aria-labelledby="tab-Mask" hidden={tab !== 'Mask'}>
            <PanelBoundary name="Mask editor"><MaskEditor /></PanelBoundary>
          </div>
          <div className="tabpanel" role="tabpanel" id="panel-Dataset" aria-labelledby="tab-Dataset" hidden={tab !== 'Dataset'}>
            <PanelBoundary name="Dataset panel"><DatasetPanel /></PanelBoundary>
          </div>
          <div className="tabpanel" role="tabpanel" id="panel-Quality" aria-labelledby="tab-Quality" hidden={tab !== 'Quality'}>
            <PanelBoundary name="Quality panel"><QualityPanel open={tab === 'Quality'} /></PanelBoundary>
          </div>
          <PanelBoundary name="Generate buttons"><GenerateActions /></PanelBoundary>
        </aside>
        <div className="workspace">
          <PanelBoundary name="Review grid" onReset={clearSelection}><ReviewGrid /></PanelBoundary>
          <PanelBoundary name="Detail view" onReset={clearSelection}><DetailView /></PanelBoundary>
        </div>
      </main>
      {citation && <footer title={citation}>Model training data: {citation}</footer>}
    </div>
  );
}
