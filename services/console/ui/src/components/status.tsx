import { errorText } from '../api.ts';

export function Loading({ what }: { what: string }) {
  return <p class="muted" role="status">Loading {what}…</p>;
}

export function ErrorNote({ error, retry }: { error: unknown; retry?: () => void }) {
  return (
    <div class="error-note" role="alert">
      <span>{errorText(error)}</span>
      {retry && <button type="button" class="btn" onClick={retry}>Retry</button>}
    </div>
  );
}
