'use strict';
(async () => {
  const { api, el, nav, fail, newest } = ES;
  // the defaults and the handlers are in place before the first await, so
  // nothing typed or submitted while the page starts is overwritten or lost
  const form = document.getElementById('window');
  const day = 86400000;
  const iso = (d) => new Date(d).toISOString().slice(0, 10);
  const params = new URLSearchParams(location.search);
  form.from.value = params.get('from') || iso(Date.now() - 27 * day);
  form.to.value = params.get('to') || iso(Date.now());
  const pct = (v) => (v === null || v === undefined ? '—' : (100 * v).toFixed(1) + ' %');
  const secs = (v) => `${Math.round(v)} s`;
  const days = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
  let heatRows = [];

  function tiles(s) {
    const tile = (label, value) => el('div', { class: 'tile' }, el('div', { class: 'value' }, value), el('div', { class: 'label' }, label));
    const missedPct = s.offered ? s.missed / s.offered : null;
    return [tile('Offered', s.offered), tile('Answered', s.answered), tile('Missed', pct(missedPct)),
      tile(`Answered within ${form.sl_seconds.value} s`, pct(s.service_level)), tile('Average wait (ASA)', secs(s.asa_s)),
      tile('Average talk (AHT)', secs(s.aht_s)),
      s.answered_by_account_manager !== undefined ? tile('B2B answered by their account manager', pct(s.answered_by_account_manager)) : null].filter(Boolean);
  }

  function heat() {
    const metric = document.getElementById('metric').value;
    const val = (b) => metric === 'offered' ? b.offered : metric === 'missed' ? b.missed : (b.offered ? b.missed / b.offered : 0);
    const hours = [...Array(24).keys()].filter((h) => heatRows.some((b) => b.hour === h && b.offered));
    if (!hours.length) return el('p', { class: 'muted' }, 'No calls in this window.');
    const max = Math.max(1e-9, ...heatRows.map(val));
    return el('table', { class: 'heat', id: 'heat-table' },
      el('thead', {}, el('tr', {}, el('th', {}, ''), hours.map((h) => el('th', {}, String(h).padStart(2, '0'))))),
      el('tbody', {}, [1, 2, 3, 4, 5, 6, 7].map((wd) => el('tr', {}, el('th', {}, days[wd - 1]), hours.map((h) => {
        const b = heatRows.find((x) => x.weekday === wd && x.hour === h) || { offered: 0, missed: 0 };
        const v = val(b);
        const cell = el('td', { class: 'cell', title: `${days[wd - 1]} ${h}:00 — ${b.offered} offered, ${b.missed} missed` },
          b.offered ? (metric === 'missed_pct' ? Math.round(100 * v) + '%' : String(v)) : '');
        cell.style.background = `rgba(31,95,191,${(v / max * 0.7).toFixed(2)})`;
        return cell;
      })))));
  }

  function reasons(s) {
    const entries = Object.entries(s.missed_reasons || {}).sort((a, b) => b[1] - a[1]);
    if (!entries.length) return el('p', { class: 'muted' }, 'No missed calls.');
    const max = Math.max(...entries.map((e) => e[1]));
    return el('div', { id: 'reason-bars' }, entries.map(([r, n]) => {
      const bar = el('span', { class: 'bar' });
      bar.style.width = `${(n / max * 60).toFixed(1)}%`;
      return el('div', { class: 'item' }, el('span', { class: 'reason' }, r), bar, ' ', String(n));
    }));
  }

  function series(buckets) {
    if (!buckets.length) return el('p', { class: 'muted' }, 'No calls in this window.');
    const max = Math.max(1, ...buckets.map((b) => b.offered));
    return el('table', { id: 'day-table' },
      el('thead', {}, el('tr', {}, ['Day', 'Offered', 'Answered', 'Missed', ''].map((h) => el('th', {}, h)))),
      el('tbody', {}, buckets.map((b) => {
        const d = b.start.slice(0, 10), next = iso(new Date(d).getTime() + day);
        const bar = el('span', { class: 'bar' });
        bar.style.width = `${(b.offered / max * 100).toFixed(1)}%`;
        return el('tr', {}, el('td', {}, el('a', { href: `/calls?from=${d}&to=${next}` }, d)),
          el('td', { class: 'num' }, b.offered), el('td', { class: 'num' }, b.answered),
          el('td', { class: 'num' }, b.missed ? el('a', { href: `/calls?from=${d}&to=${next}&disposition=missed` }, String(b.missed)) : '0'),
          el('td', { class: 'wide' }, bar));
      })));
  }

  function queues(rows) {
    if (!rows.length) return el('p', { class: 'muted' }, 'No queue calls in this window.');
    return el('table', { id: 'queue-table' },
      el('thead', {}, el('tr', {}, ['Queue', 'Offered', 'Answered', 'Missed', 'Within target', 'ASA', 'AHT'].map((h) => el('th', {}, h)))),
      el('tbody', {}, rows.map((q) => el('tr', {}, el('td', {}, q.queue), el('td', { class: 'num' }, q.offered),
        el('td', { class: 'num' }, q.answered), el('td', { class: 'num' }, q.missed), el('td', { class: 'num' }, pct(q.service_level)),
        el('td', { class: 'num' }, secs(q.asa_s)), el('td', { class: 'num' }, secs(q.aht_s))))));
  }

  const load = newest(async (current) => {
    const base = `from=${form.from.value}&to=${form.to.value}&sl_seconds=${form.sl_seconds.value || 20}` +
      (form.queue.value ? `&queue=${encodeURIComponent(form.queue.value)}` : '') +
      (form.segment.value ? `&segment=${form.segment.value}` : '');
    try {
      const [wh, byDay] = await Promise.all([api(`/analytics/calls?${base}&by=weekday-hour`), api(`/analytics/calls?${base}&by=day`)]);
      if (!current()) return;
      document.getElementById('tiles').replaceChildren(...tiles(wh.summary));
      heatRows = wh.buckets;
      document.getElementById('heat').replaceChildren(heat());
      document.getElementById('reasons').replaceChildren(reasons(wh.summary));
      document.getElementById('days').replaceChildren(series(byDay.buckets));
      if (!form.queue.value) {
        document.getElementById('queues').replaceChildren(queues(wh.queues));
        const keep = form.queue.value;
        form.queue.replaceChildren(el('option', { value: '' }, 'all'), ...wh.queues.map((q) => el('option', {}, q.queue)));
        form.queue.value = keep;
      }
    } catch (err) { if (current()) fail(document.getElementById('tiles'), err); }
  });
  document.getElementById('metric').addEventListener('change', () => document.getElementById('heat').replaceChildren(heat()));
  form.addEventListener('submit', (e) => { e.preventDefault(); load(); });
  await nav('/analytics');
  load();
})();
