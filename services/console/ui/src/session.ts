/** What every page may read: who is signed in, the live alerts, the park directory. */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Me, ParkView } from '../../api/schemas.ts';
import type { AlertStore } from './alert-store.ts';

export interface Directory {
  parks: ParkView[];
  tenantName: (park: string, tenant: string) => string;
}

export interface Session {
  me: Me;
  alerts: AlertStore;
  directory: Directory;
  /** Re-lists alerts (e.g. after the stream reconnects, or a filter needs resolved ones). */
  refreshAlerts: () => void;
}

export const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a signed-in console');
  return s;
}

export const canAct = (me: Me): boolean => me.role === 'operator' || me.role === 'admin';

export function makeDirectory(parks: ParkView[] = []): Directory {
  const names = new Map<string, string>();
  for (const p of parks) for (const t of p.tenantViews) names.set(`${p.id}/${t.id}`, t.name);
  return { parks, tenantName: (park, tenant) => names.get(`${park}/${tenant}`) ?? tenant };
}
