/** Silences in force, per park, with a button to lift one (operators). */
import { useEffect, useState } from 'preact/hooks';
import type { SilenceView } from '../../../api/schemas.ts';
import { api, errorText } from '../api.ts';
import { formatDateTime } from '../format.ts';
import { useAlertStore, useResource, useThrottled } from '../hooks.ts';
import { canAct, useSession } from '../session.ts';
import { ErrorNote } from './status.tsx';

function describe(s: SilenceView): string {
  const m = s.matchers;
  return [m.tenant, m.meter, m.ruleId && `rule ${m.ruleId}`, m.metric && `metric ${m.metric}`].filter(Boolean).join(', ') || `all of ${s.park}`;
}

export function ActiveSilences() {
  const { me, directory, alerts } = useSession();
  const parks = directory.parks.map((p) => p.id);
  const silences = useResource(async () => (await Promise.all(parks.map((p) => api.silences(p)))).flatMap((r) => r.silences), parks.join(','), 30_000);
  // A silence taking effect re-marks the alerts it mutes on the stream: the cue to re-read the list.
  const version = useAlertStore(alerts);
  const reload = useThrottled(silences.reload, 1_000);
  useEffect(() => {
    if (version > 0) reload();
  }, [version, reload]);
  const [lifted, setLifted] = useState<ReadonlySet<string>>(new Set());
  const [error, setError] = useState<string | undefined>(undefined);
  const now = Date.now();
  const shown = (silences.data ?? []).filter((s) => s.endsAt > now && !lifted.has(s.silenceId));
  if (silences.error) return <ErrorNote error={silences.error} retry={silences.reload} />;
  if (shown.length === 0) return null;
  const lift = async (id: string): Promise<void> => {
    try {
      await api.unsilence(id);
      setLifted(new Set([...lifted, id]));
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <section class="silences" aria-labelledby="silences-title" data-testid="active-silences">
      <h2 id="silences-title">Active silences</h2>
      {error && <p class="error-note" role="alert">{error}</p>}
      <div class="table-wrap">
        <table>
          <thead><tr><th scope="col">Matches</th><th scope="col">Until</th><th scope="col">By</th><th scope="col">Comment</th>{canAct(me) && <th scope="col"><span class="sr-only">Actions</span></th>}</tr></thead>
          <tbody>
            {shown.map((s) => (
              <tr key={s.silenceId}>
                <td>{describe(s)}</td>
                <td>{formatDateTime(s.endsAt)}{s.recurrence ? ' (recurring)' : ''}</td>
                <td>{s.by}</td>
                <td>{s.comment ?? ''}</td>
                {canAct(me) && <td><button type="button" class="btn" onClick={() => void lift(s.silenceId)}>Lift</button></td>}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
