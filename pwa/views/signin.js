// Sign in. The token is bound to this phone's device_id. Signing in again after an expired or revoked
// token keeps everything queued, and syncs it right after.

import { h, field, input, toast } from '../ui.js';
import * as auth from '../auth.js';
import * as outbox from '../outbox.js';
import { t, tn } from '../i18n.js';

export function mount(root, ctx, query) {
  const username = input('username', { autocapitalize: 'none', autocomplete: 'username', placeholder: t('signin.username') });
  const password = input('password', { type: 'password', autocapitalize: 'none', autocomplete: 'current-password', placeholder: t('signin.password') });
  const note = h('p.note');
  const go = h('button.primary', { type: 'submit' }, t('signin.title'));
  root.append(h('form.flow.signin', {
    onsubmit: async (e) => {
      e.preventDefault();
      go.disabled = true;
      try {
        await auth.signIn(username.value.trim(), password.value);
        password.value = '';
        toast(t('signin.signed_in_as', { user: auth.session.user.username }));
        ctx.nav('');
        await ctx.signedIn();
      } catch (error) {
        toast(error.offline ? t('signin.offline')
          : error.status === 401 ? t('signin.wrong')
            : error.type.endsWith('/device-secret-mismatch') ? t('signin.device_secret')
              : error.message, 'error');
      } finally { go.disabled = false; }
    },
  }, h('h2', t(query.again ? 'signin.again' : 'signin.title')), note, field(t('signin.username'), username), field(t('signin.password'), password), go));
  auth.lastUsername().then((name) => { if (name) { username.value = name; password.focus(); } else username.focus(); });
  outbox.pendingStats().then(({ pending }) => {
    if (pending) note.textContent = tn('signin.waiting', pending);
  });
}
