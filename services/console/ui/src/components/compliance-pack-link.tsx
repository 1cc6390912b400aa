/**
 * Downloads the auditor's compliance pack of a park or a tenant for a month
 * (PDF with charts, or the CSV tables zipped). Operators and admins only, as
 * the route is: viewers do not see it.
 */
import { useState } from 'preact/hooks';
import { canAct, useSession } from '../session.ts';

function currentMonth(timezone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit' }).format(Date.now()).slice(0, 7);
}

export function CompliancePackLink({ park, tenant, timezone }: { park: string; tenant?: string; timezone: string }) {
  const { me } = useSession();
  const [month, setMonth] = useState(() => currentMonth(timezone));
  if (!canAct(me)) return null;
  const href = (format: 'pdf' | 'zip'): string => {
    const q = new URLSearchParams({ month, format, ...(tenant !== undefined && { tenant }) });
    return `/api/parks/${encodeURIComponent(park)}/compliance-pack?${q.toString()}`;
  };
  const valid = /^\d{4}-(0[1-9]|1[0-2])$/.test(month);
  return (
    <div class="pack-link" role="group" aria-label="Compliance pack" data-testid="compliance-pack">
      <label>Compliance pack <input type="month" value={month} onInput={(e) => setMonth((e.target as HTMLInputElement).value)} /></label>
      {valid ? <>
        <a class="btn" href={href('pdf')} download data-testid="compliance-pack-pdf">PDF</a>
        <a class="btn" href={href('zip')} download data-testid="compliance-pack-zip">CSV (zip)</a>
      </> : null}
    </div>
  );
}
