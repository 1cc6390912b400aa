/**
 * A tenant's data quality: the meter hours below the completeness threshold
 * (reported, never judged compliant) and its meters' register events, as two
 * tables, newest first, with a one-line summary above them.
 */
import type { IncompleteHour, RegisterEventRow, TenantQuality } from '../../../api/schemas.ts';
import { formatDateTime, formatNumber } from '../format.ts';

const shownRows = 50;

export const eventWords: Record<string, string> = {
  rollover: 'rollover: the register wrapped past its top, consumption booked across the wrap',
  reset: 'reset: the register fell, no consumption booked for that step',
  swap: 'swap: a new register, no consumption booked for that step',
  'declared-swap': 'declared swap: booked exactly from the declared final and initial readings',
  'declared-reset': 'declared reset: booked exactly from the declared final and initial readings',
};

const percent = (x: number): string => `${Math.round(x * 100)} %`;
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function hourNote(h: IncompleteHour): string {
  if (h.missing) return 'no records';
  return h.revision !== undefined && h.revision > 0 ? `revised ${h.revision}×` : '';
}

function HoursTable({ hours }: { hours: IncompleteHour[] }) {
  return (
    <div class="table-wrap">
      <table data-testid="incomplete-hours">
        <caption class="sr-only">Incomplete hours, newest first</caption>
        <thead><tr><th scope="col">Hour starting</th><th scope="col">Meter</th><th scope="col">Metric</th><th scope="col" class="num">Records</th><th scope="col" class="num">Completeness</th><th scope="col">Note</th></tr></thead>
        <tbody>
          {hours.slice(0, shownRows).map((h) => (
            <tr key={`${h.meter}/${h.metric}/${h.start}`} data-testid="incomplete-hour" data-meter={h.meter} data-metric={h.metric}>
              <td>{formatDateTime(h.start)}</td>
              <th scope="row">{h.meter}</th>
              <td>{h.metric}</td>
              <td class="num">{h.count}{h.expected !== undefined && ` of ${formatNumber(h.expected)}`}</td>
              <td class="num">{percent(h.completeness)}</td>
              <td>{hourNote(h)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function EventsTable({ events }: { events: RegisterEventRow[] }) {
  return (
    <div class="table-wrap">
      <table data-testid="register-events">
        <caption class="sr-only">Register events, newest first</caption>
        <thead><tr><th scope="col">When</th><th scope="col">Meter</th><th scope="col">Metric</th><th scope="col">Event</th><th scope="col" class="num">Consumption in the window</th></tr></thead>
        <tbody>
          {events.slice(0, shownRows).map((e, i) => (
            <tr key={`${e.meter}/${e.metric}/${e.at}/${e.event}/${i}`} data-testid="register-event" data-meter={e.meter} data-event={e.event}>
              <td>{formatDateTime(e.at)}{e.window === '1h' && <span class="muted"> (that hour)</span>}</td>
              <th scope="row">{e.meter}</th>
              <td>{e.metric}</td>
              <td>{eventWords[e.event] ?? e.event}</td>
              <td class="num">{formatNumber(e.consumption)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function DataQuality({ quality }: { quality: TenantQuality }) {
  const { incompleteHours: hours, registerEvents: events } = quality;
  const judged = quality.streams.reduce((n, s) => n + s.hours, 0);
  const more = (n: number) => (n > shownRows ? <p class="muted">Showing the newest {shownRows} of {n}{quality.truncated ? '+' : ''}.</p> : null);
  return (
    <div data-testid="data-quality">
      <p class="quality-summary" data-testid="quality-summary">
        {judged === 0 ? 'No meter hour stored in this range yet' : <>
          {plural(hours.length, 'incomplete hour')}{quality.truncated && '+'} of {plural(judged, 'meter hour')}
          {' '}(below {percent(quality.minCompleteness)} of the records the meter's cadence gives an hour: reported, not judged)
        </>}, {plural(events.length, 'register event')}.
      </p>
      {hours.length > 0 && <><h3>Incomplete hours</h3><HoursTable hours={hours} />{more(hours.length)}</>}
      {events.length > 0 && <><h3>Register events</h3><EventsTable events={events} />{more(events.length)}</>}
    </div>
  );
}
