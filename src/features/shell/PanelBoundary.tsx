import { Component, type ErrorInfo, type ReactNode } from 'react';

interface Props {
  /** The panel's name, shown in the message ("Review grid"). */
  name: string;
  children: ReactNode;
  /** Runs before the panel is drawn again (e.g. clears the selection that made it fail). */
  onReset?: () => void;
}

interface State {
  error: Error | null;
}

/**
 * An error boundary around one panel: a render error there shows a message and a way to go on in its place,
 * instead of unmounting the whole page (which, with the bad item selected again at start-up, was blank on
 * every reload).
 */
export class PanelBoundary extends Component<Props, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: unknown): State {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error(`${this.props.name} failed to draw:`, error, info.componentStack);
  }

  private retry = () => {
    this.props.onReset?.();
    this.setState({ error: null });
  };

  override render(): ReactNode {
    const { error } = this.state;
    if (!error) return this.props.children;
    return (
      <section className="panel panel-error" role="alert" aria-label={`${this.props.name} failed`}>
        <h2>{this.props.name} could not be shown</h2>
        <p>{error.message || String(error)}</p>
        <p>The rest of the studio still works and nothing stored was changed.</p>
        <div className="buttons">
          <button type="button" onClick={this.retry}>Try again</button>
          <button type="button" onClick={() => location.reload()}>Reload the page</button>
        </div>
      </section>
    );
  }
}
