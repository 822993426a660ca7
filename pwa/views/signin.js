// Sign in. The token is bound to this phone's device_id. Signing in again after an expired or revoked
// token keeps everything queued, and syncs it right after.

import { h, field, input, toast } from '../ui.js';
import * as auth from '../auth.js';
import * as outbox from '../outbox.js';

export function mount(root, ctx, query) {
  const username = input('username', { autocapitalize: 'none', autocomplete: 'username', placeholder: 'User name' });
  const password = input('password', { type: 'password', autocapitalize: 'none', autocomplete: 'current-password', placeholder: 'Password' });
  const note = h('p.note');
  const go = h('button.primary', { type: 'submit' }, 'Sign in');
  root.append(h('form.flow.signin', {
    onsubmit: async (e) => {
      e.preventDefault();
      go.disabled = true;
      try {
        await auth.signIn(username.value.trim(), password.value);
        password.value = '';
        toast(`Signed in as ${auth.session.user.username}`);
        ctx.nav('');
        await ctx.signedIn();
      } catch (error) {
        toast(error.offline ? 'No connection to the server: sign-in needs it once' : error.status === 401 ? 'Wrong user name or password' : error.message, 'error');
      } finally { go.disabled = false; }
    },
  }, h('h2', query.again ? 'Sign in again' : 'Sign in'), note, field('User name', username), field('Password', password), go));
  auth.lastUsername().then((name) => { if (name) { username.value = name; password.focus(); } else username.focus(); });
  outbox.pendingStats().then(({ pending }) => {
    if (pending) note.textContent = `${pending} operation${pending === 1 ? ' is' : 's are'} waiting on this phone. They will sync after you sign in.`;
  });
}
