'use strict';
(async () => {
  const { api, el, nav, fail, newest } = ES;
  // the defaults and the handlers are in place before the first await, so
  // nothing typed or submitted while the page starts is overwritten or lost
  const form = document.getElementById('window');
  const day = 86400000;
  const iso = (d) => new Date(d).toISOString().slice(0, 10);
  form.from.value = iso(Date.now() - 30 * day);
  form.to.value = iso(Date.now() + day);

  function heat(rows) {
    const ops = [...new Set(rows.map((r) => r.operator))].sort();
    const tags = [...new Set(rows.map((r) => r.error_tag))].sort();
    const max = Math.max(1, ...rows.map((r) => r.count));
    const at = new Map(rows.map((r) => [r.operator + '\u0000' + r.error_tag, r]));
    if (!rows.length) return el('p', { class: 'muted' }, 'No errors in this window.');
    return el('table', { class: 'heat' },
      el('thead', {}, el('tr', {}, el('th', {}, 'Operator'), tags.map((t) => el('th', {}, t)))),
      el('tbody', {}, ops.map((op) => el('tr', {}, el('td', {}, op || '—'), tags.map((t) => {
        const r = at.get(op + '\u0000' + t);
        if (!r || (!r.count && !r.previous_count)) return el('td', { class: 'cell' });
        const alpha = (r.count / max * 0.6).toFixed(2);
        const cell = el('td', { class: 'cell', title: `${r.count} now, ${r.previous_count} before` },
          String(r.count),
          r.count > r.previous_count ? el('span', { class: 'up' }, ' ▲') : r.count < r.previous_count ? el('span', { class: 'down' }, ' ▼') : '',
          r.repeat ? el('strong', { class: 'up', title: `${r.after_acknowledgement} after acknowledgement` }, ' ↻') : '');
        cell.style.background = `rgba(179,38,30,${alpha})`;
        return cell;
      })))));
  }

  // one line per operator: errors in each of the last 8 weeks of the window
  async function weeks(to, base) {
    const end = Math.min(new Date(to).getTime(), Date.now() + day), n = 8; // weeks up to now at most
    const per = await Promise.all([...Array(n).keys()].map((i) => {
      const a = end - (n - i) * 7 * day, b = end - (n - i - 1) * 7 * day;
      return api(`/reports/errors?from=${iso(a)}&to=${iso(b)}${base}`);
    }));
    const ops = [...new Set(per.flatMap((w) => w.rows.map((r) => r.operator)))].sort();
    const ns = 'http://www.w3.org/2000/svg';
    const svgEl = (tag, attrs) => {
      const e = document.createElementNS(ns, tag);
      for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
      return e;
    };
    if (!ops.length) return el('p', { class: 'muted' }, 'No errors in the last 8 weeks.');
    return el('div', {}, ops.map((op) => {
      const counts = per.map((w) => w.rows.filter((r) => r.operator === op).reduce((s, r) => s + r.count, 0));
      const max = Math.max(1, ...counts), W = 240, H = 40;
      const svg = svgEl('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img' });
      svg.append(svgEl('polyline', { fill: 'none', stroke: '#b3261e', 'stroke-width': 2,
        points: counts.map((c, i) => `${(i / (n - 1) * (W - 8) + 4).toFixed(1)},${(H - 4 - c / max * (H - 8)).toFixed(1)}`).join(' ') }));
      const title = svgEl('title', {});
      title.textContent = `${op}: ${counts.join(', ')} errors per week`;
      svg.append(title);
      return el('div', { class: 'item' }, el('strong', {}, op || '—'), ' ', svg, ' ', el('span', { class: 'muted' }, counts.join(' · ')));
    }));
  }

  const load = newest(async (current) => {
    const q = `?from=${form.from.value}&to=${form.to.value}&repeat=${form.repeat.value || 3}`;
    try {
      const r = await api('/reports/errors' + q);
      if (!current()) return;
      document.getElementById('team').textContent =
        `Team: ${r.team.evaluations} evaluations, ${r.team.errors} errors (${r.team.previous_errors} in the window before).`;
      document.getElementById('heat').replaceChildren(heat(r.rows));
      document.getElementById('items').replaceChildren(r.items.length ? el('table', {},
        el('thead', {}, el('tr', {}, ['Rubric', 'Item', 'Answered', 'Failed', 'Fail rate'].map((h) => el('th', {}, h)))),
        el('tbody', {}, r.items.filter((i) => i.answered).map((i) => el('tr', {},
          el('td', {}, i.rubric_id), el('td', {}, i.item_id), el('td', { class: 'num' }, i.answered),
          el('td', { class: 'num' }, i.failed), el('td', { class: 'num' }, (100 * i.failed / i.answered).toFixed(1) + '%')))))
        : el('p', { class: 'muted' }, 'No evaluations in this window.'));
      const w = await weeks(form.to.value, ''); // eight more answers: drawn when they come
      if (!current()) return;
      document.getElementById('weeks').replaceChildren(w);
    } catch (err) { if (current()) fail(document.getElementById('heat'), err); }
  });
  form.addEventListener('submit', (e) => { e.preventDefault(); load(); });
  await nav('/errors');
  load();
})();
