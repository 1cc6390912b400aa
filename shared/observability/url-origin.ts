/**
 * What a log may say about a URL: its scheme, host and port. Paths, queries and
 * user info often carry a token (webhook URLs of chat and paging services, a
 * broker URL with a password), and logs travel further than configuration.
 */
export function urlOrigin(url: string): string {
  try {
    const u = new URL(url);
    // Non-special schemes (mqtt:, mqtts:) have an opaque origin; host never includes the user info.
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(not a URL)';
  }
}

/** `text` (an error message, say) with each of `urls` cut down to its origin. */
export function withOriginsOnly(text: string, urls: readonly string[]): string {
  let out = text;
  for (const url of urls) if (url) out = out.split(url).join(urlOrigin(url));
  // Whatever URL is left (a redirect target, a normalised form): its user info and path go too.
  return out.replace(/\b([a-z][a-z0-9+.-]*:\/\/)(?:[^\s/@]*@)?([^\s/?#]+)[^\s]*/gi, '$1$2');
}
