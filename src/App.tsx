import { useEffect } from 'react';
import { startEngine } from './engine';
import { GeneratePanel } from './features/generate/GeneratePanel';
import { ResultPanel } from './features/generate/ResultPanel';
import { StatusBar } from './features/generate/StatusBar';

let started = false;

export function App() {
  useEffect(() => {
    if (started) return; // StrictMode mounts twice in dev; the engine starts once
    started = true;
    void startEngine();
  }, []);
  return (
    <div className="app">
      <header>
        <h1>Defect Diffusion Studio</h1>
        <StatusBar />
      </header>
      <main>
        <GeneratePanel />
        <ResultPanel />
      </main>
    </div>
  );
}
