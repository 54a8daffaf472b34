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
import { useStudio } from './state/store';

let started = false;

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
        <StatusBar />
      </header>
      <NoticeBanner />
      <main>
        <div className="col left">
          <GeneratePanel />
          <DatasetPanel />
          <QualityPanel />
        </div>
        <MaskEditor />
        <ReviewGrid />
        <DetailView />
      </main>
      {citation && <footer>Model training data: {citation}</footer>}
    </div>
  );
}
