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

  const statusText = (e) => e.status === 'acknowledged' && e.acknowledged && e.acknowledged.by === 'deadline'
    ? 'acknowledged (deadline)' : e.status;
  const answerText = (a) => (a == null ? '—' : a === 'na' ? 'N/A' : String(a));

  function card(e) {
    const msg = el('p', { role: 'alert' });
    const actions = el('div', {});
    const reason = el('textarea', { rows: 2, cols: 50, placeholder: operator ? 'Why you disagree' : 'Resolution' });
    async function act(path, body) {
      try {
        await api(`/evaluations/${e.id}/${path}`, { method: 'POST', body });
        await load();
      } catch (err) { msg.className = 'error'; msg.textContent = err.message; }
    }
    const items = e.items || [];
    const disputes = e.item_disputes || [];
    const open = disputes.filter((d) => !d.decision);
    if (operator && e.status === 'submitted') {
      // dispute single items: each failed one with a reason of its own
      const rows = items.filter((it) => it.outcome === 'failed').map((it) => {
        const box = el('input', { type: 'checkbox', name: 'dispute-' + it.id });
        const why = el('input', { type: 'text', size: 40, placeholder: 'why this is wrong', name: 'reason-' + it.id });
        return { it, box, why, row: el('div', { class: 'dispute-item', 'data-item': it.id },
          el('label', {}, box, ` ${it.question}`), ' ', why) };
      });
      actions.append(
        el('p', {}, el('button', { class: 'primary', onclick: () => act('acknowledge') }, 'Acknowledge')),
        rows.length ? el('div', {}, el('strong', {}, 'Dispute items'), rows.map((x) => x.row),
          el('button', { class: 'dispute-items', onclick: () => {
            const body = {};
            for (const x of rows) if (x.box.checked) body[x.it.id] = x.why.value;
            if (!Object.keys(body).length) { msg.className = 'error'; msg.textContent = 'Tick the items you dispute.'; return; }
            act('dispute', { items: body });
          } }, 'Dispute the ticked items')) : null,
        el('p', {}, reason, ' ', el('button', { onclick: () => act('dispute', { comment: reason.value }) }, 'Dispute the whole evaluation')));
    }
    if (!operator && e.status === 'disputed' && open.length) {
      // resolve each disputed item: upheld, or the answer changed; a note each
      const rows = open.map((d) => {
        const it = items.find((x) => x.id === d.item_id) || { id: d.item_id, question: d.item_id };
        const name = 'decision-' + d.item_id;
        const upheld = el('input', { type: 'radio', name, value: 'upheld', checked: true });
        const changed = el('input', { type: 'radio', name, value: 'changed' });
        const values = it.scale ? Array.from({ length: it.scale.max - it.scale.min + 1 }, (_, k) => String(it.scale.min + k)) : ['yes', 'no', 'na'];
        const answer = el('select', { name: 'answer-' + d.item_id }, values.map((v) => el('option', { value: v }, v)));
        const note = el('input', { type: 'text', size: 40, placeholder: 'note for the operator', name: 'note-' + d.item_id });
        return { d, it, upheld, changed, answer, note, row: el('div', { class: 'resolve-item', 'data-item': d.item_id },
          el('div', {}, el('strong', {}, it.question), el('span', { class: 'muted' }, ` · answer ${answerText(it.answer)} · ${d.by}: `), d.reason),
          el('label', {}, upheld, ' upheld'), ' ', el('label', {}, changed, ' changed to '), answer, ' ', note) };
      });
      actions.append(el('div', {}, rows.map((x) => x.row),
        el('button', { class: 'primary resolve-items', onclick: () => {
          const body = {};
          for (const x of rows) {
            const v = x.answer.value;
            body[x.d.item_id] = x.changed.checked
              ? { decision: 'changed', answer: x.it.scale ? Number(v) : v, note: x.note.value }
              : { decision: 'upheld', note: x.note.value };
          }
          act('resolve', { items: body });
        } }, 'Resolve these items')));
    } else if (!operator && e.status === 'disputed') {
      actions.append(reason, ' ', el('button', { class: 'primary', onclick: () => act('resolve', { comment: reason.value }) }, 'Resolve'));
    }
    const failed = items.filter((it) => it.outcome === 'failed');
    return el('div', { class: 'card item', 'data-eval': e.id, 'data-status': e.status },
      el('div', {}, badge(e), ' ', el('a', { href: '/calls/' + e.call_id }, when(e.call_started_at)),
        ` · ${e.rubric_id} v${e.rubric_version} · reviewer ${e.reviewer} · `, el('strong', { class: 'status' }, statusText(e)),
        operator ? '' : ` · operator ${e.operator}`),
      failed.length ? el('div', { class: 'failed-items' }, failed.map((it) => el('div', { class: 'eval-item failed', 'data-item': it.id },
        el('span', { class: 'outcome' }, '✗'), ' ', it.question,
        it.points_lost > 0 ? el('span', { class: 'lost' }, ` −${it.points_lost.toFixed(1)} points`) : null,
        it.critical ? el('span', { class: 'badge fail' }, 'critical') : null,
        it.guidance ? el('div', { class: 'guidance' }, it.guidance) : null)))
        : el('div', { class: 'muted' }, 'No errors'),
      e.comment ? el('div', { class: 'comment' }, e.comment) : null,
      (e.comments || []).map((c) => el('div', { class: 'comment' },
        c.at_ms != null ? el('a', { href: `/calls/${e.call_id}#t=${c.at_ms}` }, `[${clock(c.at_ms)}] `) : null,
        c.item_id ? `${c.item_id}: ` : '', c.text)),
      disputes.map((d) => el('div', { class: 'comment item-dispute', 'data-item': d.item_id },
        `${d.item_id}: disputed by ${d.by}: ${d.reason}`,
        d.decision ? ` → ${d.decision} by ${d.resolved_by}` + (d.decision === 'changed' ? ` (${answerText(d.answer_before)} → ${answerText(d.answer_after)})` : '') + `: ${d.note || ''}` : ' (waiting for a decision)')),
      e.disputed && !disputes.length ? el('div', { class: 'comment' }, `Disputed by ${e.disputed.by}: ${e.disputed.reason}`) : null,
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
