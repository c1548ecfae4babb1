'use strict';
(async () => {
  const { api, el, nav, when, fail, newest } = ES;
  // the filters are set before the first await, so a choice made while the
  // page starts is not overwritten
  const form = document.getElementById('filters'), more = document.getElementById('more');
  const msg = document.getElementById('msg');
  const params = new URLSearchParams(location.search);
  form.status.value = params.get('status') === 'closed' ? 'closed' : 'open';
  form.queue.value = params.get('queue') || '';
  const me = await nav('/missed');
  let next = null, rows = [];
  const waited = (s) => s === null ? '—' : s < 3600 ? `${Math.floor(s / 60)} min` : s < 86400
    ? `${Math.floor(s / 3600)} h ${Math.floor(s % 3600 / 60)} min` : `${Math.floor(s / 86400)} d ${Math.floor(s % 86400 / 3600)} h`;
  const reasons = (o) => Object.entries(o).map(([k, v]) => v > 1 ? `${k} ×${v}` : k).join(', ');
  const mayAct = me.user.role !== 'compliance';

  async function act(e, what) {
    msg.textContent = '';
    let body;
    if (what === 'close') {
      const note = prompt(`Close ${e.number} without a callback: why?`);
      if (!note) return;
      body = { note };
    }
    try {
      await api(`/missed/${e.id}/${what}`, { method: 'POST', body });
      load(false);
    } catch (err) { msg.className = 'error'; msg.textContent = err.message; }
  }

  function row(e) {
    const open = e.status !== 'closed';
    const claimedByOther = e.status === 'claimed' && e.claimed_by !== me.user.name;
    const num = e.number === 'anonymous' ? el('span', { class: 'muted' }, 'withheld number')
      : el('a', { href: 'tel:' + e.number, class: 'tel' }, e.number);
    return el('tr', { 'data-number': e.number, 'data-status': e.status },
      el('td', {}, num, e.customer ? el('div', { class: 'muted' }, e.customer + (e.segment ? ` (${e.segment})` : '')) : null),
      el('td', {}, e.queue || '—'),
      el('td', { class: 'num' }, e.attempts, e.our_attempts ? el('div', { class: 'muted', title: 'our callbacks nobody answered' }, `we tried ${e.our_attempts}×`) : null),
      el('td', {}, when(e.first_missed_at), e.after_hours ? el('div', { class: 'muted' }, 'after hours') : null),
      el('td', {}, reasons(e.reasons)),
      el('td', { class: 'num' }, open ? waited(e.waiting_s) : waited(e.time_to_callback_s)),
      el('td', {}, open
        ? (e.status === 'claimed' ? `${e.claimed_by} is calling back` : 'waiting')
        : `${e.closed_by.replace(/_/g, ' ')}${e.callback_operator ? ' by ' + e.callback_operator : ''}${e.note ? ': ' + e.note : ''}`),
      el('td', {}, open && mayAct ? [
        el('button', { class: 'claim', disabled: claimedByOther, onclick: () => act(e, 'claim') }, e.claimed_by === me.user.name ? 'Extend claim' : 'I am calling back'),
        ' ',
        el('button', { class: 'close', onclick: () => act(e, 'close') }, 'Close…'),
      ] : null));
  }

  function render() {
    const open = form.status.value === 'open';
    if (!rows.length) {
      document.getElementById('list').replaceChildren(el('p', { class: 'muted' }, open ? 'Nobody is waiting for a callback.' : 'Nothing returned yet.'));
      return;
    }
    document.getElementById('list').replaceChildren(el('table', { id: 'missed-table' },
      el('thead', {}, el('tr', {}, ['Number', 'Queue', 'Attempts', 'First missed', 'Why', open ? 'Waiting' : 'Called back after', 'State', ''].map((h) => el('th', {}, h)))),
      el('tbody', {}, rows.map(row))));
  }

  // a refresh, a filter and "more" may overlap: only the newest is drawn
  const load = newest(async (current, append) => {
    const q = new URLSearchParams({ status: form.status.value, limit: '100' });
    if (form.queue.value) q.set('queue', form.queue.value);
    if (append && next) { q.set('after_key', next.after_key); q.set('after_id', next.after_id); }
    try {
      const r = await api('/missed?' + q);
      if (!current()) return;
      rows = append ? rows.concat(r.entries) : r.entries;
      next = r.next || null;
      more.hidden = !next;
      render();
    } catch (err) { if (current()) fail(document.getElementById('list'), err); }
  });

  async function summary() {
    if (me.user.role === 'operator') return;
    const d = new Date(), day = (x) => `${x.getFullYear()}-${String(x.getMonth() + 1).padStart(2, '0')}-${String(x.getDate()).padStart(2, '0')}`;
    const from = new Date(d.getTime() - 6 * 86400000);
    try {
      const r = await api(`/missed/report?from=${day(from)}&to=${day(d)}`);
      const pct = (v) => v === null ? '—' : (100 * v).toFixed(0) + ' %';
      const tile = (value, label) => el('div', { class: 'tile' }, el('div', { class: 'value' }, value), el('div', { class: 'label' }, label));
      document.getElementById('summary').replaceChildren(
        tile(r.missed, 'numbers missed, last 7 days'), tile(r.open, 'still waiting'),
        tile(r.median_s === null ? '—' : waited(r.median_s), 'median time to callback'),
        tile(pct(r.within_1h), 'called back within 1 h'), tile(pct(r.same_day), 'the same day'));
    } catch (err) { fail(document.getElementById('summary'), err); }
  }
  form.addEventListener('submit', (e) => { e.preventDefault(); load(false); });
  more.addEventListener('click', () => load(true));
  summary();
  load(false);
  setInterval(() => { if (!document.hidden && form.status.value === 'open') load(false); }, 30000);
})();
