import { useState } from 'preact/hooks';
import type { Me } from '../../../api/schemas.ts';
import { api, ApiError, errorText } from '../api.ts';

export function SignIn({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(await api.signIn({ username, password }));
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'Wrong user name or password.' : errorText(err));
      setBusy(false);
    }
  };

  return (
    <main class="sign-in" id="main">
      <form onSubmit={(e) => void submit(e)} aria-labelledby="signin-title" data-testid="sign-in">
        <h1 id="signin-title">EIP console</h1>
        <p class="muted">Sign in to watch and handle the park's alerts.</p>
        <label class="block">User name
          <input name="username" autocomplete="username" required autoFocus value={username} onInput={(e) => setUsername(e.currentTarget.value)} data-testid="signin-username" />
        </label>
        <label class="block">Password
          <input name="password" type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} data-testid="signin-password" />
        </label>
        {error && <p class="error-note" role="alert" data-testid="signin-error">{error}</p>}
        <button type="submit" class="btn primary wide-btn" disabled={busy} data-testid="signin-submit">{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>
  );
}
