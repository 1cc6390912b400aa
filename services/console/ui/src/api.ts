/**
 * The console API from the browser: one typed function per endpoint. Types come
 * from the server's zod contract (types only: zod stays out of the bundle).
 */
import type {
  AlertDetail, AlertList, CommandAccepted, DeadLetterList, ErrorBody, Me, ParkSummary, ParkTotals, ParkView,
  RulePackView, Series, SeriesQuery, SubmissionList, SignInRequest, SilenceRequest, SilenceView, TenantQuality, TenantQualityQuery,
} from '../../api/schemas.ts';

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly issues: ErrorBody['issues'] = undefined) {
    super(message);
    this.name = 'ApiError';
  }
}

let onUnauthorized: () => void = () => {};
/** Called when any request other than signing in answers 401: the session ended. */
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

function isErrorBody(value: unknown): value is ErrorBody {
  return typeof value === 'object' && value !== null && typeof (value as { error?: unknown }).error === 'string' && typeof (value as { message?: unknown }).message === 'string';
}

async function request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, credentials: 'same-origin', headers: { accept: 'application/json' } };
  if (body !== undefined) {
    init.headers = { accept: 'application/json', 'content-type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, 'network', `the console did not answer (${err instanceof Error ? err.message : String(err)})`);
  }
  const text = await res.text();
  let json: unknown = undefined;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      throw new ApiError(res.status, 'bad-response', `${method} ${path} answered ${res.status} with a body that is not JSON`);
    }
  }
  if (!res.ok) {
    if (res.status === 401 && path !== '/api/session') onUnauthorized();
    if (isErrorBody(json)) throw new ApiError(res.status, json.error, json.message, json.issues);
    throw new ApiError(res.status, 'http', `${method} ${path} answered ${res.status}`);
  }
  // The server builds and validates its bodies from the same contract.
  return json as T;
}

type QueryValue = string | number | undefined;
export function query(params: Record<string, QueryValue>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

const seg = encodeURIComponent;

export type SeriesParams = Pick<SeriesQuery, 'metric' | 'from' | 'to'> & Partial<Pick<SeriesQuery, 'tenant' | 'meter' | 'source' | 'window' | 'field' | 'limit'>>;
export type QualityParams = Pick<TenantQualityQuery, 'from' | 'to'> & Partial<Pick<TenantQualityQuery, 'minCompleteness' | 'limit'>>;
export interface AlertListParams {
  park?: string;
  tenant?: string;
  meter?: string;
  severity?: string;
  /** open | all | comma-separated states */
  state?: string;
  limit?: number;
}

export const api = {
  me: () => request<Me>('GET', '/api/me'),
  signIn: (body: SignInRequest) => request<Me>('POST', '/api/session', body),
  signOut: () => request<undefined>('DELETE', '/api/session'),
  parks: () => request<{ parks: ParkSummary[] }>('GET', '/api/parks'),
  park: (park: string) => request<ParkView>('GET', `/api/parks/${seg(park)}`),
  totals: (park: string) => request<ParkTotals>('GET', `/api/parks/${seg(park)}/totals`),
  series: (park: string, params: SeriesParams) => request<Series>('GET', `/api/parks/${seg(park)}/series${query({ ...params })}`),
  quality: (park: string, tenant: string, params: QualityParams) => request<TenantQuality>('GET', `/api/parks/${seg(park)}/tenants/${seg(tenant)}/quality${query({ ...params })}`),
  alerts: (params: AlertListParams) => request<AlertList>('GET', `/api/alerts${query({ ...params })}`),
  alert: (fingerprint: string) => request<AlertDetail>('GET', `/api/alerts/${seg(fingerprint)}`),
  acknowledge: (fingerprint: string, comment?: string) => request<CommandAccepted>('POST', `/api/alerts/${seg(fingerprint)}/acknowledge`, { comment }),
  resolve: (fingerprint: string, comment?: string) => request<CommandAccepted>('POST', `/api/alerts/${seg(fingerprint)}/resolve`, { comment }),
  silences: (park: string) => request<{ silences: SilenceView[] }>('GET', `/api/silences${query({ park })}`),
  silence: (body: SilenceRequest) => request<CommandAccepted>('POST', '/api/silences', body),
  unsilence: (silenceId: string) => request<CommandAccepted>('DELETE', `/api/silences/${seg(silenceId)}`),
  submissions: (park: string, params: { kind?: string; state?: string; station?: string; from?: string; to?: string; limit?: number }) => request<SubmissionList>('GET', `/api/parks/${seg(park)}/submissions${query({ ...params })}`),
  rulePack: () => request<RulePackView>('GET', '/api/rule-pack'),
  deadLetters: (park?: string, limit?: number) => request<DeadLetterList>('GET', `/api/dead-letters${query({ park, limit })}`),
};

export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    const issues = err.issues?.map((i) => `${i.path}: ${i.message}`).join('; ');
    return issues ? `${err.message} (${issues})` : err.message;
  }
  return err instanceof Error ? err.message : String(err);
}
