// An operator's progress: weekly average and pass rate against the team's
// median (one number: no other operator's name or score), recurring errors
// with the rubric's question and the calls, what came since the last
// acknowledgement, and coaching goals (supervisors set them here).
'use strict';
(async () => {
  const { api, el, nav, when, fail, newest } = ES;
  // the period is set before the first await, so a date typed while the page
  // starts is not overwritten
  const form = document.getElementById('pick'), msg = document.getElementById('msg');
  const q = new URLSearchParams(location.search);
  const day = (ms) => new Date(ms).toISOString().slice(0, 10);
  form.to.value = q.get('to') || day(Date.now());
  form.from.value = q.get('from') || day(Date.now() - 12 * 7 * 86400000);
  const me = await nav('/progress');
  const operator = me.user.role === 'operator';
  document.getElementById('title').textContent = operator ? 'My progress' : 'Progress';
  if (!operator) {
    document.getElementById('who').hidden = false;
    form.operator.value = q.get('operator') || '';
    document.getElementById('goalform').hidden = false;
  }
  const ext = () => (operator ? me.user.operator : form.operator.value.trim());

  const SVG = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text != null) e.textContent = text;
    return e;
  }
  function chart(p) {
    const W = 720, H = 220, L = 36, B = 28, T = 10, weeks = p.weeks;
    const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'trend', role: 'img', 'aria-label': 'score by week' });
    const y = (v) => T + (H - T - B) * (1 - v / 100);
    for (const v of [0, 50, 100]) {
      s.append(svg('line', { x1: L, x2: W, y1: y(v), y2: y(v), class: 'grid' }));
      s.append(svg('text', { x: 2, y: y(v) + 4, class: 'axis' }, String(v)));
    }
    const n = Math.max(weeks.length, 1), step = (W - L) / n;
    weeks.forEach((w, i) => {
      const x = L + i * step;
      s.append(svg('rect', { x: x + step * 0.2, width: step * 0.6, y: y(w.pass_rate * 100), height: y(0) - y(w.pass_rate * 100), class: 'bar' },
      ));
      s.append(svg('text', { x: x + step / 2, y: H - 8, class: 'axis', 'text-anchor': 'middle' }, w.week.slice(5)));
    });
    const pts = weeks.map((w, i) => `${L + i * step + step / 2},${y(w.average)}`).join(' ');
    if (weeks.length) s.append(svg('polyline', { points: pts, class: 'line' }));
    weeks.forEach((w, i) => s.append(svg('circle', { cx: L + i * step + step / 2, cy: y(w.average), r: 3, class: 'dot' },
      )));
    if (p.team_median_average != null)
      s.append(svg('line', { x1: L, x2: W, y1: y(p.team_median_average), y2: y(p.team_median_average), class: 'median' }));
    return s;
  }
  function goalText(g) {
    return g.kind === 'errors'
      ? `at most ${g.max_errors} × ${g.error_tag} in the next ${g.next_evaluations} evaluations — so far ${g.progress.errors} in ${g.progress.evaluations}`
      : `an average of at least ${g.min_average} until ${when(g.ends_at)} — so far ${g.progress.average == null ? '—' : g.progress.average} over ${g.progress.evaluations}`;
  }
  const show = newest(async (current) => {
    msg.textContent = '';
    if (!ext()) return;
    // the "to" day is included: the period ends at the start of the next one
    const next = form.to.value ? day(Date.parse(form.to.value + 'T00:00:00Z') + 86400000) : '';
    const qs = new URLSearchParams({ from: form.from.value, to: next });
    try {
      const p = await api(`/operators/${encodeURIComponent(ext())}/progress?${qs}`);
      if (!current()) return;
      const since = p.since_last_acknowledgement;
      document.getElementById('tiles').replaceChildren(
        ...[['your average', p.average == null ? '—' : p.average.toFixed(1)],
          ['team median', p.team_median_average == null ? '—' : p.team_median_average.toFixed(1)],
          ['evaluations', p.evaluations],
          ['since your last acknowledgement', `${since.evaluations} evaluations, ${since.errors} errors`]]
          .map(([k, v]) => el('div', { class: 'tile' }, el('div', { class: 'value' }, String(v)), el('div', { class: 'label' }, k))));
      document.getElementById('chart').replaceChildren(p.weeks.length ? chart(p) : el('p', { class: 'muted' }, 'No evaluations in this period.'));
      document.getElementById('errors').replaceChildren(p.errors.length
        ? el('table', {}, el('thead', {}, el('tr', {}, ['Error', 'Times', 'What the script asks', 'Calls'].map((h) => el('th', {}, h)))),
          el('tbody', {}, p.errors.map((e) => el('tr', { 'data-tag': e.tag }, el('td', {}, e.tag), el('td', { class: 'num' }, e.count),
            el('td', {}, e.question), el('td', {}, e.calls.map((c) => el('a', { href: '/calls/' + c.call_id }, when(c.at) + ' ')))))))
        : el('p', { class: 'muted' }, 'No errors in this period.'));
      document.getElementById('goals').replaceChildren(p.goals.length
        ? el('ul', {}, p.goals.map((g) => el('li', { 'data-goal': g.id, 'data-state': g.state },
          el('span', { class: 'badge ' + (g.state === 'met' ? 'pass' : g.state === 'missed' ? 'fail' : 'none') }, g.state), ' ',
          goalText(g), g.note ? el('span', { class: 'muted' }, ` · ${g.note}`) : null, el('span', { class: 'muted' }, ` · set by ${g.created_by}`))))
        : el('p', { class: 'muted' }, 'No goals yet.'));
      document.getElementById('result').hidden = false;
    } catch (err) { if (current()) fail(msg, err); }
  });
  form.addEventListener('submit', (e) => { e.preventDefault(); show(); });
  const gf = document.getElementById('goalform');
  gf.kind.addEventListener('change', () => {
    gf.querySelector('.k-errors').hidden = gf.kind.value !== 'errors';
    gf.querySelector('.k-average').hidden = gf.kind.value !== 'average';
  });
  gf.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = gf.kind.value === 'errors'
      ? { kind: 'errors', error_tag: gf.error_tag.value, max_errors: Number(gf.max_errors.value), next_evaluations: Number(gf.next_evaluations.value) }
      : { kind: 'average', min_average: Number(gf.min_average.value), weeks: Number(gf.weeks.value) };
    if (gf.note.value) body.note = gf.note.value;
    try {
      await api(`/operators/${encodeURIComponent(ext())}/goals`, { method: 'POST', body });
      await show();
    } catch (err) { fail(msg, err); }
  });
  show();
})();
