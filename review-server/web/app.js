// Shared by every page: API calls with the session's CSRF token, a small DOM
// builder that only ever sets text (never HTML), the navigation bar, formats.
'use strict';
const ES = (() => {
  let me = null;

  async function api(path, { method = 'GET', body } = {}) {
    const headers = {};
    if (method !== 'GET') {
      headers['X-CSRF-Token'] = sessionStorage.getItem('csrf') || '';
      if (body !== undefined) headers['Content-Type'] = 'application/json';
    }
    const res = await fetch('/api/v1' + path, {
      method, headers, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status === 401 && path !== '/session') { location.href = '/login'; throw new Error('not logged in'); }
    const type = res.headers.get('content-type') || '';
    const data = type.startsWith('application/json') ? await res.json() : null;
    if (!res.ok) throw new Error((data && data.error) || `HTTP ${res.status}`);
    return data;
  }

  // el('a', {href: x, class: 'y', onclick: f}, 'text', child, ...): strings become text nodes
  function el(tag, attrs = {}, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k === 'class') e.className = v;
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const k of kids.flat()) if (k !== null && k !== undefined && k !== false)
      e.append(k instanceof Node ? k : document.createTextNode(String(k)));
    return e;
  }

  async function session() {
    if (me) return me;
    me = await api('/session');
    sessionStorage.setItem('csrf', me.csrf);
    return me;
  }

  async function nav(here) {
    const s = await session();
    const role = s.user.role;
    const links = [];
    if (role !== 'operator') links.push(['/calls', 'Calls']);
    links.push(['/feedback', role === 'operator' ? 'My feedback' : 'Disputes']);
    if (role === 'supervisor' || role === 'admin') links.push(['/queue', 'Review queue']);
    if (role === 'supervisor' || role === 'admin') links.push(['/calibration', 'Calibration']);
    if (role !== 'compliance') links.push(['/progress', role === 'operator' ? 'My progress' : 'Progress']);
    links.push(['/missed', 'Missed calls']);
    if (role !== 'operator') links.push(['/errors', 'Recurring errors']);
    if (role !== 'operator') links.push(['/analytics', 'Analytics']);
    links.push(['/presence', role === 'operator' ? 'My presence' : 'Presence']);
    if (role !== 'operator') links.push(['/staffing', 'Staffing']);
    if (role === 'admin' || role === 'compliance') links.push(['/compliance', 'Data subjects']);
    if (role === 'admin' || role === 'compliance') links.push(['/admin', 'Admin']);
    const logout = el('button', { onclick: async () => {
      try { await api('/session', { method: 'DELETE' }); } finally { sessionStorage.clear(); location.href = '/login'; }
    } }, 'Log out');
    document.body.prepend(el('header', {},
      el('strong', {}, 'earshot'),
      links.map(([href, text]) => el('a', { href, class: href === here ? 'here' : null }, text)),
      el('span', { class: 'who' }, `${s.user.name} (${role}${s.user.operator ? ' ' + s.user.operator : ''})`),
      logout));
    return s;
  }

  const pad = (n) => String(n).padStart(2, '0');
  function when(iso) {
    const d = new Date(iso);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }
  function clock(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    return `${Math.floor(s / 60)}:${pad(s % 60)}`;
  }
  function badge(ev) {
    if (!ev) return el('span', { class: 'badge none' }, '—');
    return el('span', { class: 'badge ' + (ev.passed ? 'pass' : 'fail'), title: ev.status },
      ev.score.toFixed(1));
  }
  function fail(where, err) {
    where.replaceChildren(el('p', { class: 'error' }, String(err.message || err)));
  }
  // A page's loader that draws only the answer to its newest call: the first
  // load (the default window) may answer after the window the user asked for,
  // and must not replace it. load(current, ...args): after each await, stop
  // unless current() is still true.
  function newest(load) {
    let last = 0;
    return (...args) => {
      const mine = ++last;
      return load(() => mine === last, ...args);
    };
  }
  return { api, el, session, nav, when, clock, badge, fail, newest };
})();
