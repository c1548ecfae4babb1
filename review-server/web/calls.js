'use strict';
(async () => {
  const { api, el, nav, when, clock, badge, fail, newest } = ES;
  const form = document.getElementById('filters');
  const tbody = document.querySelector('#calls tbody');
  const more = document.getElementById('more'), status = document.getElementById('status');
  let rows = [], next = null, sort = null;

  // the form <-> the query string, so a filtered list can be bookmarked
  const params = new URLSearchParams(location.search);
  for (const [k, v] of params) if (form.elements[k]) form.elements[k].value = v;
  const started = nav('/calls');

  function query() {
    const q = new URLSearchParams();
    for (const e of form.elements) if (e.name && e.value) {
      q.set(e.name, (e.name === 'from' || e.name === 'to') ? e.value + 'T00:00' : e.value);
    }
    return q;
  }

  function render() {
    const shown = [...rows];
    if (sort) {
      const { key, dir } = sort;
      const val = (c) => key === 'score' ? (c.evaluation ? c.evaluation.score : -1) : c[key];
      shown.sort((a, b) => (val(a) > val(b) ? 1 : val(a) < val(b) ? -1 : 0) * dir);
    }
    tbody.replaceChildren(...shown.map((c) => el('tr', {},
      el('td', {}, el('a', { href: '/calls/' + c.id }, when(c.started_at))),
      el('td', { class: 'num' }, clock(c.duration_ms)),
      el('td', {}, c.direction),
      el('td', {}, c.operator || '—'),
      el('td', {}, c.caller), el('td', {}, c.callee),
      el('td', { class: c.disposition === 'answered' ? null : c.disposition },
        c.disposition === 'answered' ? 'answered' : `${c.disposition}: ${c.reason}`),
      el('td', {}, badge(c.evaluation)))));
    status.textContent = `${rows.length} calls` + (next ? ' so far' : '');
    more.hidden = !next;
  }

  // a new filter and "more" may overlap: only the newest answer is drawn
  const load = newest(async (current, append) => {
    const q = query();
    q.set('limit', '50');
    if (append && next) q.set('cursor', next);
    try {
      const r = await api('/calls?' + q);
      if (!current()) return;
      rows = append ? rows.concat(r.calls) : r.calls;
      next = r.next;
      render();
    } catch (err) { if (current()) fail(status, err); }
    const exp = query();
    document.getElementById('csv').href = '/api/v1/export.csv?' + exp;
    document.getElementById('xlsx').href = '/api/v1/export.xlsx?' + exp;
  });

  document.querySelectorAll('#calls th').forEach((th) => th.addEventListener('click', () => {
    const key = th.dataset.key;
    sort = { key, dir: sort && sort.key === key ? -sort.dir : 1 };
    document.querySelectorAll('#calls th').forEach((t) => t.classList.remove('sorted-asc', 'sorted-desc'));
    th.classList.add(sort.dir > 0 ? 'sorted-asc' : 'sorted-desc');
    render();
  }));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    history.replaceState(null, '', '/calls?' + new URLSearchParams([...new FormData(form)].filter(([, v]) => v)));
    load(false);
  });
  more.addEventListener('click', () => load(true));
  await started;
  load(false);
})();
