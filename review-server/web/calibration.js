// Calibration sessions: start one (the lead), score blind, then see the answers
// side by side with the agreement per item and Krippendorff's alpha; the lead
// sets the reference.
'use strict';
(async () => {
  const { api, el, nav, when, fail } = ES;
  const me = await nav('/calibration');
  const msg = document.getElementById('msg');
  const q = new URLSearchParams(location.search);
  const { rubrics } = await api('/rubrics');
  const create = document.getElementById('create');
  create.rubric.replaceChildren(...rubrics.map((r) => el('option', { value: r.id }, `${r.title} (v${r.version})`)));
  const text = (a) => (a == null ? '—' : a === 'na' ? 'N/A' : String(a));

  function itemForm(it) {
    let choices;
    if (it.type === 'yes_no') {
      const opts = ['yes', 'no'].concat(it.na_allowed ? ['na'] : []);
      choices = opts.map((v) => el('label', {}, el('input', { type: 'radio', name: it.id, value: v }), v === 'na' ? 'N/A' : v));
    } else {
      const opts = [el('option', { value: '' }, '—')];
      for (let v = it.scale.min; v <= it.scale.max; v++) opts.push(el('option', { value: v }, String(v)));
      if (it.na_allowed) opts.push(el('option', { value: 'na' }, 'N/A'));
      choices = [el('select', { name: it.id }, opts)];
    }
    return el('div', { class: 'item', 'data-item': it.id }, el('div', { class: 'text' }, it.text),
      it.guidance ? el('div', { class: 'guidance' }, it.guidance) : null, el('div', { class: 'choices' }, choices));
  }
  function answers(box) {
    const a = {};
    for (const input of box.querySelectorAll('input:checked, select')) {
      if (input.tagName === 'SELECT') { if (input.value !== '') a[input.name] = input.value === 'na' ? 'na' : Number(input.value); }
      else a[input.name] = input.value;
    }
    return a;
  }

  async function showSession(id) {
    const box = document.getElementById('session');
    try {
      const s = await api('/calibrations/' + id);
      const rubric = await api(`/rubrics?id=${encodeURIComponent(s.rubric_id)}&version=${s.rubric_version}`);
      const items = rubric.sections.flatMap((x) => x.items);
      document.getElementById('stitle').textContent = `Call ${s.call_id} · ${s.rubric_id} v${s.rubric_version} · lead ${s.lead}`;
      const mine = s.reviewers.find((r) => r.name === me.user.name);
      const body = [el('p', {}, el('a', { href: '/calls/' + s.call_id }, 'Listen to the call'), ` · ${s.submitted} of ${s.reviewers.length} reviewers have answered`)];
      if (s.blind) {
        body.push(el('p', { class: 'blind' }, 'Scoring blind: the others\' answers show once yours are in.'));
      } else {
        const per = (s.agreement && s.agreement.per_item) || {};
        body.push(el('p', { class: 'alpha' }, 'Krippendorff\'s alpha: ',
          el('strong', {}, s.agreement && s.agreement.alpha != null ? s.agreement.alpha.toFixed(3) : 'not yet')));
        body.push(el('table', { class: 'sidebyside' },
          el('thead', {}, el('tr', {}, el('th', {}, 'Item'), s.reviewers.map((r) => el('th', {}, r.name)),
            s.reference ? el('th', {}, 'Reference') : null, el('th', {}, 'Agree'))),
          el('tbody', {}, items.map((it) => el('tr', { 'data-item': it.id }, el('td', {}, it.text),
            s.reviewers.map((r) => el('td', {}, r.answers ? text(r.answers[it.id]) : '…')),
            s.reference ? el('td', {}, text(s.reference[it.id])) : null,
            el('td', { class: 'num' }, per[it.id] != null ? `${Math.round(per[it.id] * 100)}%` : '—'))))));
      }
      box.hidden = false;
      document.getElementById('sbody').replaceChildren(...body);
      // the form: my blind answers, or the lead's reference
      const ab = document.getElementById('answerbox');
      const asLead = s.lead === me.user.name && !s.blind && s.submitted >= 2;
      const asReviewer = mine && !mine.submitted;
      ab.hidden = !(asLead || asReviewer);
      document.getElementById('answerwhat').textContent = asReviewer ? 'Your answers' : 'The reference answers';
      document.getElementById('items').replaceChildren(...items.map(itemForm));
      document.getElementById('send').onclick = async () => {
        try {
          await api(`/calibrations/${id}/${asReviewer ? 'answers' : 'reference'}`, { method: 'POST', body: { answers: answers(ab) } });
          await showSession(id);
          await list();
          await report();
        } catch (err) { msg.className = 'error'; msg.textContent = err.message; }
      };
    } catch (err) { fail(msg, err); }
  }

  async function list() {
    const { calibrations } = await api('/calibrations');
    document.getElementById('list').replaceChildren(calibrations.length
      ? el('ul', {}, calibrations.map((s) => el('li', { 'data-session': s.id },
        el('a', { href: '?id=' + s.id }, when(s.created_at)), ` · call ${s.call_id.slice(0, 8)}… · lead ${s.lead} · ${s.submitted}/${s.reviewers.length} answered`,
        s.blind ? ' · waiting for your answers' : s.agreement && s.agreement.alpha != null ? ` · alpha ${s.agreement.alpha.toFixed(2)}` : '')))
      : el('p', { class: 'muted' }, 'No calibration yet.'));
  }
  // each reviewer's agreement with the lead's reference answers, session by session
  async function report() {
    const r = await api('/calibrations/report');
    const names = Object.keys(r);
    if (!names.length) return;
    const pct = (v) => (v == null ? '—' : `${Math.round(v * 100)}%`);
    document.getElementById('report').replaceChildren(el('table', {},
      el('thead', {}, el('tr', {}, ['Reviewer', 'Sessions', 'Mean agreement', 'Latest first'].map((h) => el('th', {}, h)))),
      el('tbody', {}, names.map((n) => {
        const xs = r[n].filter((x) => x.agreement != null);
        const mean = xs.length ? xs.reduce((a, x) => a + x.agreement, 0) / xs.length : null;
        return el('tr', { 'data-reviewer': n }, el('td', {}, n), el('td', { class: 'num' }, r[n].length),
          el('td', { class: 'num' }, pct(mean)), el('td', {}, r[n].slice().reverse().slice(0, 8).map((x) => pct(x.agreement)).join(' ')));
      }))));
  }
  create.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const s = await api('/calibrations', { method: 'POST', body: {
        call_id: create.call_id.value.trim(), rubric: create.rubric.value,
        reviewers: create.reviewers.value.split(',').map((x) => x.trim()).filter(Boolean) } });
      location.search = '?id=' + s.id;
    } catch (err) { msg.className = 'error'; msg.textContent = err.message; }
  });
  if (q.get('call')) create.call_id.value = q.get('call');
  await list();
  await report();
  if (q.get('id')) await showSession(q.get('id'));
})();
