import { useEffect } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { startEngine } from './engine';
import { DatasetPanel } from './features/dataset/DatasetPanel';
import { GeneratePanel } from './features/generate/GeneratePanel';
import { MaskEditor } from './features/mask/MaskEditor';
import { QualityPanel } from './features/quality/QualityPanel';
import { NoticeBanner, StatusBar } from './features/generate/StatusBar';
import { DetailView } from './features/review/DetailView';
import { ReviewGrid } from './features/review/ReviewGrid';
import { PanelBoundary } from './features/shell/PanelBoundary';
import { useStudio } from './state/store';

let started = false;
const clearSelection = () => useStudio.getState().select(null);

export function App() {
  useEffect(() => {
    if (started) return; // StrictMode mounts twice in dev; the engine starts once
    started = true;
    void startEngine();
  }, []);
  const citation = useStudio(useShallow((s) => s.model?.manifest.training.citation ?? ''));
  return (
    <div className="app">
      <header>
        <h1>Defect Diffusion Studio</h1>
        <PanelBoundary name="Status bar"><StatusBar /></PanelBoundary>
      </header>
      <PanelBoundary name="Notice"><NoticeBanner /></PanelBoundary>
      <main>
        <div className="col left">
          <PanelBoundary name="Generate panel"><GeneratePanel /></PanelBoundary>
          <PanelBoundary name="Dataset panel"><DatasetPanel /></PanelBoundary>
          <PanelBoundary name="Quality panel"><QualityPanel /></PanelBoundary>
        </div>
        <PanelBoundary name="Mask editor"><MaskEditor /></PanelBoundary>
        <PanelBoundary name="Review grid" onReset={clearSelection}><ReviewGrid /></PanelBoundary>
        <PanelBoundary name="Detail view" onReset={clearSelection}><DetailView /></PanelBoundary>
      </main>
      {citation && <footer>Model training data: {citation}</footer>}
    </div>
  );
}
