/**
 * The live alert stream (Server-Sent Events on /api/alerts/stream) with our own
 * reconnect: the browser's built-in retry gives up for good on an HTTP error and
 * never notices a connection that went quiet (a proxy holding a dead socket), so
 * every failure closes the EventSource and a new one is opened after a backoff.
 * Each connection replays the open alerts first, then "ready", then live ones.
 */
import type { AlertView } from '../../api/schemas.ts';

export type StreamStatus = 'connecting' | 'live' | 'reconnecting' | 'stopped';

export interface AlertStreamHandlers {
  /** A connection opened: the backlog of open alerts follows. */
  onOpen: () => void;
  onAlert: (alert: AlertView) => void;
  /** The backlog is complete. */
  onReady: () => void;
  onStatus: (status: StreamStatus) => void;
  /** Asked before each reconnect; false stops for good (e.g. the session ended). */
  shouldReconnect: () => Promise<boolean>;
}

export interface AlertStreamOptions {
  url: string;
  /**
   * No event for this long counts as a dead connection. Armed only once the server has sent a
   * "ping" event: heartbeats sent as SSE comments never reach EventSource listeners, and a quiet
   * stream must not look dead.
   */
  staleMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export function openAlertStream(options: AlertStreamOptions, handlers: AlertStreamHandlers): { close: () => void; reconnectNow: () => void } {
  const staleMs = options.staleMs ?? 75_000;
  const minBackoff = options.minBackoffMs ?? 1_000;
  const maxBackoff = options.maxBackoffMs ?? 30_000;
  let source: EventSource | undefined;
  let failures = 0;
  let lastActivity = Date.now();
  let serverPings = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const touch = (): void => { lastActivity = Date.now(); };

  function connect(): void {
    if (stopped) return;
    handlers.onStatus(failures === 0 ? 'connecting' : 'reconnecting');
    touch();
    const es = new EventSource(options.url, { withCredentials: true });
    source = es;
    es.onopen = () => {
      touch();
      handlers.onOpen();
    };
    es.addEventListener('alert', (e: MessageEvent<string>) => {
      touch();
      let alert: AlertView;
      try {
        alert = JSON.parse(e.data) as AlertView;
      } catch {
        return; // a broken event must not take the board down; the next backlog repairs it
      }
      handlers.onAlert(alert);
    });
    es.addEventListener('ready', () => {
      touch();
      failures = 0;
      handlers.onStatus('live');
      handlers.onReady();
    });
    es.addEventListener('ping', () => {
      serverPings = true;
      touch();
    });
    es.onerror = () => fail();
  }

  function fail(): void {
    if (stopped || retryTimer !== undefined) return;
    source?.close();
    source = undefined;
    failures++;
    handlers.onStatus('reconnecting');
    // Exponential backoff with jitter, so a restarted console is not hit by every wall screen at once.
    const delay = Math.min(maxBackoff, minBackoff * 2 ** Math.min(failures - 1, 10)) * (0.75 + Math.random() * 0.5);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void handlers.shouldReconnect().then((again) => {
        if (again) connect();
        else stop();
      }, () => connect());
    }, delay);
  }

  function stop(): void {
    stopped = true;
    clearInterval(watchdog);
    if (retryTimer !== undefined) clearTimeout(retryTimer);
    source?.close();
    handlers.onStatus('stopped');
  }

  const watchdog = setInterval(() => {
    if (source && serverPings && Date.now() - lastActivity > staleMs) fail();
  }, Math.min(5_000, staleMs));

  connect();
  return {
    close: stop,
    reconnectNow: () => {
      if (stopped) return;
      if (retryTimer !== undefined) {
        clearTimeout(retryTimer);
        retryTimer = undefined;
      }
      source?.close();
      source = undefined;
      failures = 0;
      connect();
    },
  };
}
