import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { AlertStore } from './alert-store.ts';

/** The current time, refreshed every `everyMs`: ages tick without re-fetching. */
export function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

/** Re-renders on every change of the alert store. */
export function useAlertStore(store: AlertStore): number {
  const [version, setVersion] = useState(0);
  useEffect(() => store.subscribe(() => setVersion((v) => v + 1)), [store]);
  return version;
}

export interface Resource<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/**
 * Loads `load()` when `key` changes and every `refreshMs` (live pages poll what
 * has no stream). A response to an older key is ignored; the last data stays
 * on screen while a refresh is in flight, so nothing flickers on a wall screen.
 */
export function useResource<T>(load: () => Promise<T>, key: string, refreshMs?: number): Resource<T> {
  const [state, setState] = useState<{ key: string; data: T | undefined; error: unknown; loading: boolean }>({ key, data: undefined, error: undefined, loading: true });
  const loadRef = useRef(load);
  loadRef.current = load;
  const seq = useRef(0);
  const run = useCallback(() => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    loadRef.current().then(
      (data) => { if (mine === seq.current) setState({ key, data, error: undefined, loading: false }); },
      (error: unknown) => { if (mine === seq.current) setState((s) => ({ key, data: s.key === key ? s.data : undefined, error, loading: false })); },
    );
  }, [key]);
  useEffect(() => {
    run();
    if (!refreshMs) return;
    const t = setInterval(run, refreshMs);
    return () => clearInterval(t);
  }, [run, refreshMs]);
  const current = state.key === key;
  return { data: current ? state.data : undefined, error: current ? state.error : undefined, loading: state.loading || !current, reload: run };
}

/** Calls `fn` at most once per `ms`, trailing: for reloads triggered by bursts of events. */
export function useThrottled(fn: () => void, ms: number): () => void {
  const fnRef = useRef(fn);
  fnRef.current = fn;
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  return useCallback(() => {
    if (timer.current !== undefined) return;
    timer.current = setTimeout(() => {
      timer.current = undefined;
      fnRef.current();
    }, ms);
  }, [ms]);
}
