/**
 * The console shell: session, the live alert stream shared by every page, the
 * park directory (names for ids), header navigation and the routed page.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Me } from '../../api/schemas.ts';
import { AlertStore, openStates } from './alert-store.ts';
import { api, ApiError, setUnauthorizedHandler } from './api.ts';
import { ErrorNote, Loading } from './components/status.tsx';
import { setWallMode, useWallMode } from './display.ts';
import { useAlertStore } from './hooks.ts';
import { AlertBoard } from './pages/alert-board.tsx';
import { DeadLetters } from './pages/dead-letters.tsx';
import { ParkList, ParkOverview } from './pages/park-overview.tsx';
import { RulePack } from './pages/rule-pack.tsx';
import { SignIn } from './pages/sign-in.tsx';
import { SubmissionsPage } from './pages/submissions.tsx';
import { TenantPage } from './pages/tenant-page.tsx';
import { links, useRoute, type Route } from './router.ts';
import { SessionContext, canAct, makeDirectory, useSession, type Directory, type Session } from './session.ts';
import { openAlertStream, type StreamStatus } from './sse.ts';

type SessionState = { kind: 'loading' } | { kind: 'signed-out' } | { kind: 'signed-in'; me: Me } | { kind: 'error'; error: unknown };

export function App() {
  const [state, setState] = useState<SessionState>({ kind: 'loading' });
  const check = useCallback(() => {
    api.me().then(
      (me) => setState({ kind: 'signed-in', me }),
      (error: unknown) => setState(error instanceof ApiError && error.status === 401 ? { kind: 'signed-out' } : { kind: 'error', error }),
    );
  }, []);
  useEffect(() => {
    setUnauthorizedHandler(() => setState({ kind: 'signed-out' }));
    check();
  }, [check]);

  switch (state.kind) {
    case 'loading': return <main id="main" class="sign-in"><Loading what="the console" /></main>;
    case 'error': return <main id="main" class="sign-in"><ErrorNote error={state.error} retry={check} /></main>;
    case 'signed-out': return <SignIn onSignedIn={(me) => setState({ kind: 'signed-in', me })} />;
    case 'signed-in': return <Console key={state.me.name} me={state.me} onSignedOut={() => setState({ kind: 'signed-out' })} />;
  }
}

function Console({ me, onSignedOut }: { me: Me; onSignedOut: () => void }) {
  const store = useMemo(() => new AlertStore(), []);
  const [directory, setDirectory] = useState<Directory>(() => makeDirectory());
  const refreshAlerts = useCallback(() => {
    // Resolved alerts are listed too: the stream replays open ones only.
    api.alerts({ state: 'all', limit: 500 }).then((r) => store.merge(r.alerts), () => {});
  }, [store]);

  useEffect(() => {
    const loadDirectory = (): void => {
      api.parks()
        .then(({ parks }) => Promise.all(parks.map((p) => api.park(p.id))))
        .then((views) => setDirectory(makeDirectory(views)), () => {});
    };
    loadDirectory();
    const timer = setInterval(loadDirectory, 60_000);
    const stream = openAlertStream({ url: '/api/alerts/stream' }, {
      onOpen: () => store.streamOpened(),
      onAlert: (a) => store.fromStream(a),
      onReady: () => {
        store.streamReady();
        refreshAlerts();
      },
      onStatus: (s) => store.setStatus(s),
      shouldReconnect: async () => {
        try {
          await api.me();
          return true;
        } catch (err) {
          return !(err instanceof ApiError && err.status === 401);
        }
      },
    });
    return () => {
      stream.close();
      clearInterval(timer);
    };
  }, [store, refreshAlerts]);

  const session: Session = useMemo(() => ({ me, alerts: store, directory, refreshAlerts }), [me, store, directory, refreshAlerts]);
  const signOut = async (): Promise<void> => {
    await api.signOut().catch(() => {});
    onSignedOut();
  };
  return (
    <SessionContext.Provider value={session}>
      <Shell onSignOut={() => void signOut()} />
    </SessionContext.Provider>
  );
}

const statusText: Record<StreamStatus, string> = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', stopped: 'Offline' };

function Shell({ onSignOut }: { onSignOut: () => void }) {
  const route = useRoute();
  const wall = useWallMode();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  const { me, alerts, directory } = useSession();
  useAlertStore(alerts);
  const open = alerts.all().filter((a) => openStates.has(a.state));
  const critical = open.filter((a) => a.severity === 'critical' && a.state !== 'acknowledged').length;
  const pageKey = route.page === 'tenant' ? `tenant/${route.park}/${route.tenant}` : route.page === 'park' ? `park/${route.park}` : route.page === 'submissions' ? `submissions/${route.park}` : route.page;

  useEffect(() => {
    document.title = `${critical ? `(${critical}) ` : ''}${pageTitle(route)} · EIP console`;
  }, [critical, pageKey]);
  // Keyboard and screen-reader users land on the new page, not on the link they left.
  useEffect(() => {
    if (first.current) { first.current = false; return; }
    main.current?.focus();
  }, [pageKey]);

  const onePark = directory.parks.length === 1 ? directory.parks[0] : undefined;
  const current = (page: Route['page'] | Array<Route['page']>): 'page' | undefined => ((Array.isArray(page) ? page : [page]).includes(route.page) ? 'page' : undefined);
  return (
    <>
      <a class="skip-link" href="#main" onClick={(e) => { e.preventDefault(); main.current?.focus(); }}>Skip to content</a>
      <header class="top">
        <a class="brand" href={links.alerts()}>EIP console</a>
        <nav aria-label="Main">
          <a href={links.alerts()} aria-current={current('alerts')}>Alerts <span class={`count${critical ? ' hot' : ''}`} data-testid="nav-open-count">{open.length}</span></a>
          <a href={onePark ? links.park(onePark.id) : links.parks()} aria-current={current(['parks', 'park', 'tenant', 'submissions'])}>{onePark ? 'Park' : 'Parks'}</a>
          <a href={links.rules()} aria-current={current('rules')}>Rule pack</a>
          {canAct(me) && <a href={links.deadLetters()} aria-current={current('dead-letters')}>Dead letters</a>}
        </nav>
        <span class={`stream stream-${alerts.status}`} data-testid="stream-status" data-state={alerts.status} role="status" title="Live alert stream">{statusText[alerts.status]}</span>
        <button type="button" class="btn toggle" aria-pressed={wall} onClick={() => setWallMode(!wall)} title="Large type for a wall screen" data-testid="wall-toggle">Large type</button>
        <span class="who" data-testid="signed-in-as">{me.name} <span class="role">{me.role}</span></span>
        <button type="button" class="btn" onClick={onSignOut} data-testid="sign-out">Sign out</button>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        <Page route={route} />
      </main>
    </>
  );
}


function pageTitle(route: Route): string {
  switch (route.page) {
    case 'alerts': return 'Alerts';
    case 'parks': return 'Parks';
    case 'park': return route.park;
    case 'tenant': return route.tenant;
    case 'submissions': return `Submissions · ${route.park}`;
    case 'rules': return 'Rule pack';
    case 'dead-letters': return 'Dead letters';
    case 'not-found': return 'Not found';
  }
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'alerts': return <AlertBoard query={route.query} />;
    case 'parks': return <ParkList />;
    case 'park': return <ParkOverview key={route.park} park={route.park} />;
    case 'tenant': return <TenantPage key={`${route.park}/${route.tenant}`} park={route.park} tenant={route.tenant} query={route.query} />;
    case 'submissions': return <SubmissionsPage key={route.park} park={route.park} query={route.query} />;
    case 'rules': return <RulePack />;
    case 'dead-letters': return <DeadLetters />;
    case 'not-found': return <section class="page"><h1>Not found</h1><p>Nothing lives at <code>#{route.path}</code>. <a href={links.alerts()}>Go to the alert board</a></p></section>;
  }
}
