/**
 * Silence matching alerts for a while (maintenance, a known incident). A native
 * <dialog> opened modal: the browser traps focus, Escape closes it, and focus
 * returns to the button that opened it.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { AlertView, SilenceRequest } from '../../../api/schemas.ts';
import { api, errorText } from '../api.ts';

const durations = [
  { label: '1 hour', ms: 3_600_000 },
  { label: '4 hours', ms: 4 * 3_600_000 },
  { label: '8 hours', ms: 8 * 3_600_000 },
  { label: '24 hours', ms: 24 * 3_600_000 },
  { label: '3 days', ms: 3 * 86_400_000 },
] as const;

type Scope = 'alert' | 'rule' | 'meter';

function matchers(alert: AlertView, scope: Scope): Pick<SilenceRequest, 'park' | 'tenant' | 'meter' | 'ruleId'> {
  switch (scope) {
    case 'alert': return { park: alert.park, tenant: alert.tenant, meter: alert.meter, ruleId: alert.ruleId };
    case 'rule': return { park: alert.park, tenant: alert.tenant, ruleId: alert.ruleId };
    case 'meter': return { park: alert.park, tenant: alert.tenant, meter: alert.meter };
  }
}

interface Props {
  alert: AlertView;
  onClose: () => void;
  onSent: (message: string) => void;
}

export function SilenceDialog({ alert, onClose, onSent }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const [scope, setScope] = useState<Scope>('alert');
  const [durationMs, setDurationMs] = useState<number>(durations[0].ms);
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);

  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    d.showModal();
    const closed = (): void => onClose();
    d.addEventListener('close', closed);
    return () => {
      d.removeEventListener('close', closed);
      if (d.open) d.close();
    };
  }, [onClose]);

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const body: SilenceRequest = { ...matchers(alert, scope), endsAt: Date.now() + durationMs, ...(comment.trim() ? { comment: comment.trim() } : {}) };
      const accepted = await api.silence(body);
      onSent(`Silence ${accepted.silenceId ?? ''} sent for ${durations.find((d) => d.ms === durationMs)?.label ?? ''}`.replace(/\s+/g, ' '));
      ref.current?.close();
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };

  const where = [alert.tenant, alert.meter].filter(Boolean).join(' / ');
  return (
    <dialog ref={ref} class="dialog" aria-labelledby="silence-title" data-testid="silence-dialog">
      <form method="dialog" onSubmit={(e) => void submit(e)}>
        <h2 id="silence-title">Silence notifications</h2>
        <p class="muted">{alert.summary}</p>
        <fieldset>
          <legend>Which alerts</legend>
          <label><input type="radio" name="scope" checked={scope === 'alert'} onChange={() => setScope('alert')} /> This rule ({alert.ruleId}) on {where || alert.park}</label>
          <label><input type="radio" name="scope" checked={scope === 'rule'} onChange={() => setScope('rule')} /> Rule {alert.ruleId} for all of {alert.tenant ?? alert.park}</label>
          {alert.meter && <label><input type="radio" name="scope" checked={scope === 'meter'} onChange={() => setScope('meter')} /> Every rule on meter {alert.meter}</label>}
        </fieldset>
        <fieldset>
          <legend>For</legend>
          <div class="choices">
            {durations.map((d) => (
              <label key={d.ms} class="choice"><input type="radio" name="duration" checked={durationMs === d.ms} onChange={() => setDurationMs(d.ms)} data-testid={`silence-duration-${d.ms}`} /> {d.label}</label>
            ))}
          </div>
        </fieldset>
        <label class="block">Comment (optional)
          <textarea value={comment} maxLength={1000} rows={2} onInput={(e) => setComment(e.currentTarget.value)} />
        </label>
        {error && <p class="error-note" role="alert">{error}</p>}
        <div class="dialog-actions">
          <button type="button" class="btn" onClick={() => ref.current?.close()}>Cancel</button>
          <button type="submit" class="btn primary" disabled={busy} data-testid="silence-submit">{busy ? 'Sending…' : 'Silence'}</button>
        </div>
      </form>
    </dialog>
  );
}
