'use strict';
(async () => {
  const { api, el, nav, when, fail } = ES;
  const me = await nav('/admin');
  const table = (heads, rows) => el('table', {}, el('thead', {}, el('tr', {}, heads.map((h) => el('th', {}, h)))), el('tbody', {}, rows));

  // the audit log: admins and compliance staff
  const af = document.getElementById('auditf'), more = document.getElementById('auditmore');
  let cursor = null, entries = [];
  async function audit(append) {
    const q = new URLSearchParams({ limit: '50' });
    if (af.actor.value) q.set('actor', af.actor.value);
    if (af.action.value) q.set('action', af.action.value);
    if (append && cursor) q.set('cursor', cursor);
    try {
      const r = await api('/audit?' + q);
      entries = append ? entries.concat(r.entries) : r.entries;
      cursor = r.next;
      more.hidden = !cursor;
      document.getElementById('audit').replaceChildren(table(['When', 'Who', 'What', 'On', 'Detail'],
        entries.map((e) => el('tr', {}, el('td', {}, when(e.at)), el('td', {}, e.actor), el('td', {}, e.action),
          el('td', {}, e.target), el('td', { class: 'muted' }, JSON.stringify(e.detail))))));
    } catch (err) { fail(document.getElementById('audit'), err); }
  }
  af.addEventListener('submit', (e) => { e.preventDefault(); audit(false); });
  more.addEventListener('click', () => audit(true));
  audit(false);
  if (me.user.role !== 'admin') return;
  document.getElementById('admin-only').hidden = false;

  async function users() {
    const { users: list } = await api('/users');
    document.getElementById('users').replaceChildren(table(['Name', 'Role', 'Extension', 'State', ''],
      list.map((u) => el('tr', {}, el('td', {}, u.name), el('td', {}, u.role), el('td', {}, u.operator || '—'),
        el('td', {}, u.disabled ? 'disabled' : 'active'),
        el('td', {}, u.name === me.user.name ? '' : el('button', { onclick: async () => {
          await api(`/users/${encodeURIComponent(u.name)}/${u.disabled ? 'enable' : 'disable'}`, { method: 'POST' });
          users();
        } }, u.disabled ? 'Enable' : 'Disable'))))));
  }
  document.getElementById('adduser').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = e.target, msg = document.getElementById('usermsg');
    try {
      const r = await api('/users', { method: 'POST', body: { name: f.name.value, role: f.role.value,
        operator: f.operator.value || undefined, password: f.password.value || undefined } });
      msg.className = '';
      msg.textContent = r.password ? `Added ${r.name}. Password (shown once): ${r.password}` : `Added ${r.name}.`;
      f.reset();
      users();
    } catch (err) { msg.className = 'error'; msg.textContent = err.message; }
  });

  async function rubrics() {
    const { rubrics: list } = await api('/rubrics');
    document.getElementById('rubrics').replaceChildren(table(['Id', 'Version', 'Title', 'Evaluations'],
      list.map((r) => el('tr', {}, el('td', {}, r.id), el('td', { class: 'num' }, r.version), el('td', {}, r.title), el('td', { class: 'num' }, r.evaluations)))));
  }
  document.getElementById('upload').addEventListener('submit', async (e) => {
    e.preventDefault();
    const file = e.target.file.files[0], box = document.getElementById('rubricmsg');
    if (!file) return;
    const res = await fetch('/api/v1/rubrics', { method: 'POST', body: await file.text(),
      headers: { 'Content-Type': 'application/yaml', 'X-CSRF-Token': sessionStorage.getItem('csrf') || '' } });
    const r = await res.json();
    if (res.ok) {
      box.replaceChildren(el('p', {}, `${r.id}: ${r.outcome === 'unchanged' ? 'unchanged, still version' : 'imported as version'} ${r.version}`));
      rubrics();
    } else {
      box.replaceChildren(el('p', { class: 'error' }, r.error),
        el('ul', { class: 'error' }, (r.problems || []).map((p) => el('li', {}, `${file.name}:${p.line}:${p.col}: ${p.message}`))));
    }
  });

  async function tokens() {
    const { tokens: list } = await api('/tokens');
    document.getElementById('tokens').replaceChildren(table(['Name', 'Created', 'By', 'State', ''],
      list.map((t) => el('tr', {}, el('td', {}, t.name), el('td', {}, when(t.created_at)), el('td', {}, t.created_by),
        el('td', {}, t.revoked_at ? 'revoked ' + when(t.revoked_at) : 'live'),
        el('td', {}, t.revoked_at ? '' : el('button', { onclick: async () => {
          await api('/tokens/' + encodeURIComponent(t.name), { method: 'DELETE' });
          tokens();
        } }, 'Revoke'))))));
  }
  document.getElementById('addtoken').addEventListener('submit', async (e) => {
    e.preventDefault();
    const msg = document.getElementById('tokenmsg');
    try {
      const r = await api('/tokens', { method: 'POST', body: { name: e.target.name.value } });
      msg.className = '';
      msg.textContent = `Token for ${r.name} (shown once; the PBX sends it as "Authorization: Bearer ..."): ${r.token}`;
      e.target.reset();
      tokens();
    } catch (err) { msg.className = 'error'; msg.textContent = err.message; }
  });
  users().catch((err) => fail(document.getElementById('users'), err));
  rubrics().catch((err) => fail(document.getElementById('rubrics'), err));
  tokens().catch((err) => fail(document.getElementById('tokens'), err));

  // notifications: what waits, and the dead letters with a retry button
  async function notifications() {
    try {
      const r = await api('/notifications?state=dead');
      const c = r.counts;
      document.getElementById('notecounts').textContent =
        `${c.pending} waiting to be sent, ${c.delivered} delivered (last 7 days), ${c.dead} given up after 24 h of failures.`;
      document.getElementById('dead').replaceChildren(r.deliveries.length ? table(['Event', 'Rule', 'To', 'Tries', 'Since', 'Last error', ''],
        r.deliveries.map((d) => el('tr', { 'data-id': d.id }, el('td', {}, d.event), el('td', {}, d.rule), el('td', {}, d.target),
          el('td', { class: 'num' }, d.attempts), el('td', {}, when(d.created_at)), el('td', { class: 'error' }, d.last_error),
          el('td', {}, el('button', { class: 'retry', onclick: async () => {
            await api(`/notifications/${d.id}/retry`, { method: 'POST' });
            notifications();
          } }, 'Retry')))))
        : el('p', { class: 'muted' }, 'No dead letters.'));
    } catch (err) { fail(document.getElementById('dead'), err); }
  }
  notifications();
})();
