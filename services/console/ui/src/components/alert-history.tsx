/** An alert's transitions, read when first opened: what happened, when, and who did it. */
import { useState } from 'preact/hooks';
import type { AlertDetail } from '../../../api/schemas.ts';
import { api, errorText } from '../api.ts';
import { formatDateTime, formatNumber } from '../format.ts';

type LimitRef = AlertDetail['provenance']['limit'];

/** The registry version of the limit an alert was judged by: its reference and validity. */
export function LimitVersion({ limit }: { limit: LimitRef }) {
  if (!limit) return null;
  const validity = limit.from === undefined ? 'undated' : limit.to === undefined ? `in force from ${limit.from}` : `in force from ${limit.from} to ${limit.to}`;
  return <span class="limit-version" data-testid="alert-limit-version">permit {limit.reference} ({validity})</span>;
}

export function AlertHistory({ fingerprint, transition }: { fingerprint: string; transition: number }) {
  const [detail, setDetail] = useState<{ for: number; data?: AlertDetail; error?: string } | undefined>(undefined);
  const load = (): void => {
    setDetail({ for: transition });
    api.alert(fingerprint).then((data) => setDetail({ for: transition, data }), (err: unknown) => setDetail({ for: transition, error: errorText(err) }));
  };
  return (
    // Read on opening, and again when opened after a newer transition arrived.
    <details class="history" onToggle={(e) => { if (e.currentTarget.open && detail?.for !== transition) load(); }}>
      <summary>History</summary>
      {detail?.error && <p class="error-inline">{detail.error}</p>}
      {detail && !detail.data && !detail.error && <p class="muted">Loading…</p>}
      {detail?.data && (
        <ol>
          {detail.data.history.map((h) => (
            <li key={h.transition}>
              <span class="muted">{formatDateTime(h.at)}</span> <strong>{h.state}</strong>
              {h.by && <> by <strong>{h.by}</strong></>}
              {h.provenance.values.length > 0 && <span class="muted"> · values {h.provenance.values.slice(-5).map((v) => formatNumber(v)).join(', ')}{h.provenance.threshold !== undefined ? ` (limit ${formatNumber(h.provenance.threshold)})` : ''}</span>}
              {h.provenance.detail && <span class="muted"> · {h.provenance.detail}</span>}
              {h.provenance.limit && <span class="muted"> · <LimitVersion limit={h.provenance.limit} /></span>}
            </li>
          ))}
        </ol>
      )}
    </details>
  );
}
