'use strict';
(async () => {
  const { api, el, nav, when, fail, newest } = ES;
  // the defaults and the handlers are in place before the first await, so
  // nothing typed or submitted while the page starts is overwritten or lost
  const form = document.getElementById('q');
  const day = 86400000, iso = (d) => new Date(d).toISOString().slice(0, 10);
  form.from.value = iso(Date.now() - 7 * day);
  form.to.value = iso(Date.now() + day);
  const draw = newest(async (current) => {
    const p = new URLSearchParams({ n: form.n.value, from: form.from.value, to: form.to.value });
    if (form.seed.value) p.set('seed', form.seed.value);
    const list = document.getElementById('list');
    try {
      const r = await api('/queue?' + p);
      if (!current()) return;
      document.getElementById('seed').textContent = `Seed ${r.seed}: enter it to draw the same calls again.`;
      list.replaceChildren(r.calls.length ? el('table', {},
        el('thead', {}, el('tr', {}, ['Operator', 'Call', ''].map((h) => el('th', {}, h)))),
        el('tbody', {}, r.calls.map((c) => el('tr', {}, el('td', {}, c.operator),
          el('td', {}, when(c.started_at)), el('td', {}, el('a', { href: '/calls/' + c.call_id }, 'Listen and score'))))))
        : el('p', { class: 'muted' }, 'Every call in this period has been scored.'));
    } catch (err) { if (current()) fail(list, err); }
  });
  form.addEventListener('submit', (e) => { e.preventDefault(); draw(); });
  await nav('/queue');
  draw();
})();
