// Operators: their evaluations, what they failed and the reviewer's comments at
// the exact second, with acknowledge and dispute. Supervisors: the disputes
// waiting for a resolution.
'use strict';
(async () => {
  const { api, el, nav, when, clock, badge, fail } = ES;
  const me = await nav('/feedback');
  const operator = me.user.role === 'operator';
  const list = document.getElementById('list');
  document.getElementById('title').textContent = operator ? 'My feedback' : 'Disputed evaluations';

  function card(e) {
    const msg = el('p', { role: 'alert' });
    const actions = el('p', {});
    const reason = el('textarea', { rows: 2, cols: 50, placeholder: operator ? 'Why you disagree' : 'Resolution' });
    async function act(path, body) {
      try {
        await api(`/evaluations/${e.id}/${path}`, { method: 'POST', body });
        await load();
      } catch (err) { msg.className = 'error'; msg.textContent = err.message; }
    }
    if (operator && e.status === 'submitted') {
      actions.append(
        el('button', { class: 'primary', onclick: () => act('acknowledge') }, 'Acknowledge'), ' ',
        reason, ' ',
        el('button', { onclick: () => act('dispute', { comment: reason.value }) }, 'Dispute'));
    }
    if (!operator && e.status === 'disputed') {
      actions.append(reason, ' ', el('button', { class: 'primary', onclick: () => act('resolve', { comment: reason.value }) }, 'Resolve'));
    }
    return el('div', { class: 'card item', 'data-eval': e.id, 'data-status': e.status },
      el('div', {}, badge(e), ' ', el('a', { href: '/calls/' + e.call_id }, when(e.call_started_at)),
        ` · ${e.rubric_id} v${e.rubric_version} · reviewer ${e.reviewer} · `, el('strong', { class: 'status' }, e.status),
        operator ? '' : ` · operator ${e.operator}`),
      e.errors && e.errors.length ? el('div', { class: 'error' }, 'Failed: ' + e.errors.join(', ')) : el('div', { class: 'muted' }, 'No errors'),
      e.comment ? el('div', { class: 'comment' }, e.comment) : null,
      (e.comments || []).map((c) => el('div', { class: 'comment' },
        c.at_ms != null ? el('a', { href: `/calls/${e.call_id}#t=${c.at_ms}` }, `[${clock(c.at_ms)}] `) : null,
        c.item_id ? `${c.item_id}: ` : '', c.text)),
      e.disputed ? el('div', { class: 'comment' }, `Disputed by ${e.disputed.by}: ${e.disputed.reason}`) : null,
      e.resolved ? el('div', { class: 'comment' }, `Resolved by ${e.resolved.by}: ${e.resolved.resolution || ''}`) : null,
      actions, msg);
  }

  async function load() {
    try {
      const q = operator ? '/evaluations' : '/evaluations?status=disputed';
      const { evaluations } = await api(q);
      const full = await Promise.all(evaluations.map((e) => api('/evaluations/' + e.id)));
      list.replaceChildren(...(full.length ? full.map(card) : [el('p', { class: 'muted' }, 'Nothing here.')]));
    } catch (err) { fail(list, err); }
  }
  load();
})();
