'use strict';
(async () => {
  const { api, el, nav, when } = ES;
  // the handlers are in place before the first await: a search made while
  // the page starts is not lost to a plain form submission
  const form = document.getElementById('search'), msg = document.getElementById('msg');
  let current = null;
  const tile = (value, label) => el('div', { class: 'tile' }, el('div', { class: 'value' }, value), el('div', { class: 'label' }, label));
  const say = (text, error) => { msg.className = error ? 'error' : ''; msg.textContent = text; };

  function show(r) {
    current = r.subject;
    document.getElementById('result').hidden = false;
    document.getElementById('tiles').replaceChildren(
      tile(r.calls.length, 'calls'), tile(r.evaluations, 'evaluations'), tile(r.comments, 'comments'),
      tile(r.unreturned.length, 'missed-call entries'), tile(r.notifications.length, 'notifications not yet sent'),
      tile(r.legal_hold, 'under legal hold'));
    document.getElementById('calls').replaceChildren(r.calls.length ? el('table', { id: 'subject-calls' },
      el('thead', {}, el('tr', {}, ['When', 'Caller', 'Callee', 'Call', 'Audio', 'Evaluations', ''].map((h) => el('th', {}, h)))),
      el('tbody', {}, r.calls.map((c) => el('tr', { 'data-id': c.id, class: c.legal_hold ? 'held' : null },
        el('td', {}, when(c.started_at)), el('td', {}, c.caller || '—'), el('td', {}, c.callee || '—'),
        el('td', {}, `${c.direction}, ${c.disposition}`), el('td', {}, c.audio ? 'kept' : '—'),
        el('td', { class: 'num' }, c.evaluations.length),
        el('td', {}, c.legal_hold ? el('strong', {}, 'legal hold') : el('a', { href: '/calls/' + c.id }, 'open'))))))
      : el('p', { class: 'muted' }, 'No call with this number.'));
  }

  async function find(number, keepMessage) {
    if (!keepMessage) say('');
    try { show(await api('/subject?number=' + encodeURIComponent(number))); }
    catch (err) { document.getElementById('result').hidden = true; say(err.message, true); }
  }
  form.addEventListener('submit', (e) => { e.preventDefault(); find(form.number.value); });

  document.getElementById('export').addEventListener('click', () => {
    location.href = '/api/v1/subject/export?format=zip&number=' + encodeURIComponent(current);
  });
  document.getElementById('erase').addEventListener('click', async () => {
    try {
      const dry = await api('/subject/erase', { method: 'POST', body: { number: current, reason: 'preview', dry_run: true } });
      const reason = prompt(`Erase ${current}: ${dry.would_erase.length} calls lose their audio, numbers and comments`
        + (dry.held.length ? `; ${dry.held.length} under legal hold stay untouched` : '')
        + '. The request and its reference:');
      if (!reason) return;
      const r = await api('/subject/erase', { method: 'POST', body: { number: current, reason } });
      say(`Erased ${r.erased.length} calls, ${r.unreturned} missed-call entries, ${r.notifications} notifications`
        + (r.held.length ? `; ${r.held.length} under legal hold left untouched.` : '.'), false);
      await find(current, true);
    } catch (err) { say(err.message, true); }
  });
  await nav('/compliance');
  const q = new URLSearchParams(location.search).get('number');
  if (q) { form.number.value = q; find(q); }
})();
