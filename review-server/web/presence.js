'use strict';
(async () => {
  const { api, el, nav, fail, newest } = ES;
  // the defaults and the handlers are in place before the first await, so
  // nothing typed or submitted while the page starts is overwritten or lost
  const form = document.getElementById('window');
  const params = new URLSearchParams(location.search);
  const today = new Date();
  const local = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  form.day.value = params.get('day') || local(today);
  const hm = (s) => `${Math.floor(s / 3600)}:${String(Math.floor(s % 3600 / 60)).padStart(2, '0')}`;
  const ns = 'http://www.w3.org/2000/svg';
  const svgEl = (tag, attrs) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    return e;
  };

  // one row per operator: 24 hours, segments by state; calls drawn over the rest
  function timeline(segments, dayStart) {
    const ops = [...new Set(segments.map((g) => g.operator))].sort();
    if (!ops.length) return el('p', { class: 'muted' }, 'Nobody was logged in that day.');
    const W = 960, H = 22, x = (t) => Math.max(0, Math.min(W, (t - dayStart) / 86400000 * W));
    return el('div', { id: 'timeline-rows' }, ops.map((op) => {
      const svg = svgEl('svg', { width: '100%', height: H, viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img', class: 'timeline' });
      for (const h of [6, 9, 12, 15, 18]) svg.append(svgEl('line', { x1: h * W / 24, x2: h * W / 24, y1: 0, y2: H, class: 'grid' }));
      for (const state of ['in', 'paused', 'call']) {
        for (const g of segments.filter((s) => s.operator === op && s.state === state)) {
          const a = x(new Date(g.from).getTime()), b = x(new Date(g.to).getTime());
          const r = svgEl('rect', { x: a, width: Math.max(1, b - a), y: state === 'call' ? 6 : 2, height: state === 'call' ? H - 12 : H - 4, class: state });
          const t = svgEl('title', {});
          t.textContent = `${state}${g.reason ? ' (' + g.reason + ')' : ''}: ${new Date(g.from).toLocaleTimeString()}–${new Date(g.to).toLocaleTimeString()}`;
          r.append(t);
          svg.append(r);
        }
      }
      return el('div', { class: 'item timeline-row', 'data-operator': op }, el('strong', {}, op), svg);
    }));
  }

  function totals(rows) {
    if (!rows.length) return el('p', { class: 'muted' }, 'No presence that day.');
    return el('table', { id: 'presence-table' },
      el('thead', {}, el('tr', {}, ['Operator', 'Logged in', 'Paused', 'Sessions', 'Answered', 'Talk', 'Not answered', 'Occupancy'].map((h) => el('th', {}, h)))),
      el('tbody', {}, rows.map((r) => el('tr', {}, el('td', {}, r.operator), el('td', { class: 'num' }, hm(r.logged_in_s)),
        el('td', { class: 'num', title: Object.entries(r.pauses).map(([k, v]) => `${k}: ${hm(v)}`).join(', ') }, hm(r.paused_s)),
        el('td', { class: 'num' }, r.sessions), el('td', { class: 'num' }, r.answered), el('td', { class: 'num' }, hm(r.talk_s)),
        el('td', { class: 'num' }, r.ring_no_answer),
        el('td', { class: 'num' }, r.occupancy === null ? '—' : (100 * r.occupancy).toFixed(1) + ' %')))));
  }

  const load = newest(async (current) => {
    const d = form.day.value;
    const [y, m, dd] = d.split('-').map(Number);
    const dayStart = new Date(y, m - 1, dd).getTime();
    try {
      const [tl, pr] = await Promise.all([api(`/analytics/timeline?from=${d}&to=${d}`), api(`/analytics/presence?from=${d}&to=${d}`)]);
      if (!current()) return;
      document.getElementById('timeline').replaceChildren(timeline(tl.segments, dayStart));
      document.getElementById('totals').replaceChildren(totals(pr.operators));
    } catch (err) { if (current()) fail(document.getElementById('timeline'), err); }
  });
  form.addEventListener('submit', (e) => { e.preventDefault(); load(); });
  await nav('/presence');
  load();
})();
