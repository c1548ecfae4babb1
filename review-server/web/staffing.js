'use strict';
(async () => {
  const { api, el, nav, fail, newest } = ES;
  // the defaults and the handlers are in place before the first await, so
  // nothing typed or submitted while the page starts is overwritten or lost
  const form = document.getElementById('window'), whatif = document.getElementById('whatif');
  const day = 86400000;
  const iso = (d) => new Date(d).toISOString().slice(0, 10);
  const params = new URLSearchParams(location.search);
  form.from.value = params.get('from') || iso(Date.now() - 28 * day);
  form.to.value = params.get('to') || iso(Date.now() - day);
  const days = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

  function weekdays(hours) {
    if (!hours.length) return [el('p', { class: 'muted' }, 'No calls in this window.')];
    return [1, 2, 3, 4, 5, 6, 7].filter((wd) => hours.some((h) => h.weekday === wd)).map((wd) => {
      const rows = hours.filter((h) => h.weekday === wd);
      const max = Math.max(1, ...rows.map((h) => Math.max(h.agents_with_shrinkage || 0, h.observed_agents)));
      return el('div', { class: 'card weekday', 'data-weekday': wd }, el('h2', {}, days[wd - 1]),
        el('table', {}, el('thead', {}, el('tr', {}, ['Hour', 'Calls/h', 'AHT', 'Needed', 'With shrinkage', 'Present', 'Within target', ''].map((h) => el('th', {}, h)))),
          el('tbody', {}, rows.map((h) => {
            const need = el('span', { class: 'bar need' }), here = el('span', { class: 'bar present' });
            need.style.width = `${((h.agents_with_shrinkage || 0) / max * 45).toFixed(1)}%`;
            here.style.width = `${(h.observed_agents / max * 45).toFixed(1)}%`;
            const short = h.agents !== null && h.observed_agents + 0.5 < h.agents;
            return el('tr', { class: short ? 'short' : null }, el('td', {}, `${String(h.hour).padStart(2, '0')}:00`),
              el('td', { class: 'num' }, h.calls_per_hour.toFixed(1)), el('td', { class: 'num' }, `${Math.round(h.aht_s)} s`),
              el('td', { class: 'num' }, h.agents ?? '—'), el('td', { class: 'num' }, h.agents_with_shrinkage ?? '—'),
              el('td', { class: 'num' }, h.observed_agents.toFixed(1)),
              el('td', { class: 'num' }, h.service_level_observed === null ? '—' : (100 * h.service_level_observed).toFixed(0) + ' %'),
              el('td', { class: 'wide' }, need, el('br'), here, short ? el('span', { class: 'missed' }, ' under-staffed') : ''));
          }))));
    });
  }

  const load = newest(async (current) => {
    const q = new URLSearchParams({ from: form.from.value, to: form.to.value, target_s: form.target_s.value,
      service_level: form.service_level.value, shrinkage: form.shrinkage.value });
    try {
      const r = await api(`/analytics/staffing?${q}`);
      if (!current()) return;
      document.getElementById('weekdays').replaceChildren(...weekdays(r.hours));
    } catch (err) { if (current()) fail(document.getElementById('weekdays'), err); }
  });

  const calculate = newest(async (current) => {
    const q = new URLSearchParams();
    for (const k of ['calls', 'period_s', 'aht_s', 'target_s', 'service_level', 'patience_s'])
      if (whatif[k].value) q.set(k, whatif[k].value);
    if (whatif.patience_s.value) q.set('model', 'a');
    const out = document.getElementById('answer');
    try {
      const r = await api(`/analytics/erlang?${q}`);
      if (!current()) return;
      out.replaceChildren(el('strong', { id: 'agents' }, `${r.agents} operators`),
        ` answer ${(100 * r.service_level).toFixed(1)} % within ${whatif.target_s.value} s; average wait ${r.asa_s} s, ` +
        `${(100 * r.occupancy).toFixed(1)} % busy, ${(100 * r.p_wait).toFixed(1)} % of callers wait` +
        (r.abandon !== undefined ? `, ${(100 * r.abandon).toFixed(1)} % give up` : '') + '.');
    } catch (err) { if (current()) fail(out, err); }
  });
  form.addEventListener('submit', (e) => { e.preventDefault(); load(); });
  whatif.addEventListener('submit', (e) => { e.preventDefault(); calculate(); });
  await nav('/staffing');
  load();
  calculate();
})();
