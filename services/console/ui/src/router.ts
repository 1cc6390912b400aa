/**
 * Hash routes, so the console works behind any path prefix and a wall screen
 * can be pointed at a bookmarked view (filters live in the hash's query).
 */
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { page: 'alerts'; query: URLSearchParams }
  | { page: 'parks'; query: URLSearchParams }
  | { page: 'park'; park: string; query: URLSearchParams }
  | { page: 'tenant'; park: string; tenant: string; query: URLSearchParams }
  | { page: 'submissions'; park: string; query: URLSearchParams }
  | { page: 'rules'; query: URLSearchParams }
  | { page: 'dead-letters'; query: URLSearchParams }
  | { page: 'not-found'; path: string; query: URLSearchParams };

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#/, '');
  const [path = '', search = ''] = raw.split('?', 2);
  const query = new URLSearchParams(search);
  const parts = path.split('/').filter(Boolean).map((p) => decodeURIComponent(p));
  const [a, b, c, d, ...rest] = parts;
  if (rest.length === 0) {
    if (a === undefined || (a === 'alerts' && b === undefined)) return { page: 'alerts', query };
    if (a === 'parks' && b === undefined) return { page: 'parks', query };
    if (a === 'parks' && b !== undefined && c === undefined) return { page: 'park', park: b, query };
    if (a === 'parks' && b !== undefined && c === 'submissions' && d === undefined) return { page: 'submissions', park: b, query };
    if (a === 'parks' && b !== undefined && c === 'tenants' && d !== undefined) return { page: 'tenant', park: b, tenant: d, query };
    if (a === 'rules' && b === undefined) return { page: 'rules', query };
    if (a === 'dead-letters' && b === undefined) return { page: 'dead-letters', query };
  }
  return { page: 'not-found', path, query };
}

const seg = encodeURIComponent;
export const links = {
  alerts: (q?: Record<string, string>) => `#/alerts${q ? `?${new URLSearchParams(q).toString()}` : ''}`,
  parks: () => '#/parks',
  park: (park: string) => `#/parks/${seg(park)}`,
  tenant: (park: string, tenant: string, q?: Record<string, string>) => `#/parks/${seg(park)}/tenants/${seg(tenant)}${q ? `?${new URLSearchParams(q).toString()}` : ''}`,
  submissions: (park: string) => `#/parks/${seg(park)}/submissions`,
  rules: () => '#/rules',
  deadLetters: () => '#/dead-letters',
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const onChange = (): void => setRoute(parseHash(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

/** Rewrites the hash's query (filters) without a history entry or a re-route. */
export function replaceQuery(params: Record<string, string | undefined>): void {
  const [path = ''] = location.hash.replace(/^#/, '').split('?', 1);
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  history.replaceState(history.state, '', `#${path}${s ? `?${s}` : ''}`);
}
