/**
 * The headers every console response carries, UI and API alike. The UI is one
 * script and one stylesheet from this origin (no inline script or style
 * element; Preact and uPlot set styles through the DOM, which CSP allows), its
 * favicon a data: URI, and it talks only to this origin (fetch, EventSource).
 * Nothing may frame it: a control room's buttons must not be clickjacked.
 */
import type { FastifyRequest } from 'fastify';

export const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const always: Readonly<Record<string, string>> = {
  'content-security-policy': contentSecurityPolicy,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
};

/** `behindHttps`: the deployment says it is served over HTTPS (CONSOLE_SECURE_COOKIES), even where TLS ends at a proxy. */
export function securityHeaders(req: FastifyRequest, behindHttps: boolean): Record<string, string> {
  // HSTS over plain HTTP is ignored by browsers and would only mislead; send it when the request came over HTTPS.
  if (req.protocol === 'https' || behindHttps) return { ...always, 'strict-transport-security': 'max-age=31536000; includeSubDomains' };
  return { ...always };
}
