'use strict';
(async () => {
  const { api, el, nav, when, clock, badge, fail } = ES;
  const me = await nav('/calls');
  const id = location.pathname.split('/').pop();
  const main = document.querySelector('main');
  let call, peaks = { peaks: [], channels: [] };
  try {
    call = await api('/calls/' + id);
  } catch (err) { return fail(main, err); }
  try { peaks = await api(`/calls/${id}/peaks`); } catch { /* a missed call has none */ }

  document.getElementById('title').textContent =
    `${when(call.started_at)} · ${call.caller || '?'} → ${call.callee || '?'} · operator ${call.operator || '—'}`;

  // player
  const audio = document.getElementById('player');
  const playBtn = document.getElementById('play'), time = document.getElementById('time');
  if (call.path) audio.src = `/api/v1/calls/${id}/audio`;
  else { playBtn.disabled = true; time.textContent = call.disposition === 'answered' ? 'audio removed' : `${call.disposition}: ${call.reason}`; }
  const player = Player(audio, document.getElementById('wave'), {
    peaks, channels: peaks.channels, overtalk: peaks.overtalk_ms, dtmf: call.dtmf,
    hatched: [...(call.pci_pauses || []), ...(call.redactions || [])],
    // supervisors, compliance staff and admins drag a range to redact it
    onSelect: call.path && ['supervisor', 'compliance', 'admin'].includes(me.user.role) && !call.legal_hold
      ? (from, to) => showRedact(from, to) : null,
    onTime: (t, d) => { if (call.path) time.textContent = `${clock(t * 1000)} / ${clock((d || 0) * 1000)}`; },
  });
  const redact = document.getElementById('redact');
  let range = null;
  function showRedact(from, to) {
    range = { from_ms: from, to_ms: to };
    document.getElementById('redact-range').textContent = `${clock(from)}–${clock(to)}`;
    document.getElementById('redact-msg').textContent = '';
    redact.hidden = false;
    document.getElementById('redact-reason').focus();
  }
  document.getElementById('redact-cancel').addEventListener('click', () => { redact.hidden = true; player.clearSelection(); });
  redact.addEventListener('submit', async (e) => {
    e.preventDefault();
    const reason = document.getElementById('redact-reason').value.trim();
    try {
      await api(`/calls/${id}/redact`, { method: 'POST', body: { ...range, reason } });
      location.reload(); // the new audio, waveform and details
    } catch (err) { document.getElementById('redact-msg').textContent = err.message; }
  });
  playBtn.addEventListener('click', () => (audio.paused ? audio.play() : audio.pause()));
  audio.addEventListener('play', () => { playBtn.textContent = 'Pause'; });
  audio.addEventListener('pause', () => { playBtn.textContent = 'Play'; });
  document.getElementById('speed').addEventListener('change', (e) => { audio.playbackRate = Number(e.target.value); });
  document.getElementById('skip').addEventListener('change', (e) => player.setSkip(e.target.checked));
  const ch = peaks.channels || [];
  document.getElementById('bars').textContent = ch.length === 2
    ? `talk: customer ${clock(ch[0].talk_ms)}, operator ${clock(ch[1].talk_ms)} · overtalk ${clock(peaks.overtalk_ms || 0)} · silences ${player.silences.length}`
    : '';

  // details and RTP quality
  const dl = document.getElementById('details');
  const rows = [['Call id', call.id], ['Started', when(call.started_at)], ['Length', clock(call.duration_ms)],
    ['Direction', call.direction], ['Caller', call.caller], ['Callee', call.callee], ['Operator', call.operator],
    ['Customer', call.customer], ['Queue', call.queue], ['Outcome', call.disposition + (call.reason ? ': ' + call.reason : '')],
    ['Tags', (call.tags || []).join(', ')], ['Codecs', (call.codecs || []).join(', ')],
    ['Ring / talk', call.ring_ms != null ? `${clock(call.ring_ms)} / ${clock(call.talk_ms)}` : ''],
    ['Paused (PCI)', (call.pci_pauses || []).map((p) => `${clock(p.from_ms)}–${clock(p.to_ms)} (${p.by})`).join(', ')],
    ['Redacted', (call.redactions || []).map((r) => `${clock(r.from_ms)}–${clock(r.to_ms)} by ${r.by}: ${r.reason}`).join('; ')],
    ['Source', call.source], ['Audio SHA-256', call.sha256]];
  dl.replaceChildren(...rows.filter(([, v]) => v).flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  if (call.rtp && call.rtp.length) {
    document.getElementById('rtp').replaceChildren(el('table', {},
      el('thead', {}, el('tr', {}, ['Side', 'Codec', 'Packets', 'Lost', 'Jitter ms', 'Max jitter', 'Max delta'].map((h) => el('th', {}, h)))),
      el('tbody', {}, call.rtp.map((s) => el('tr', {}, el('td', {}, s.side), el('td', {}, s.codec),
        el('td', { class: 'num' }, s.packets), el('td', { class: 'num' }, s.lost),
        el('td', { class: 'num' }, Number(s.jitter_ms).toFixed(2)), el('td', { class: 'num' }, Number(s.max_jitter_ms).toFixed(2)),
        el('td', { class: 'num' }, Number(s.max_delta_ms).toFixed(1)))))));
  }

  // evaluations of this call: every item with its question, guidance, answer
  // and what it cost; comments pinned to a moment are markers on the waveform
  const outcomeMark = { passed: '✓', failed: '✗', na: 'N/A' };
  function answerText(a) { return a == null ? '—' : a === 'na' ? 'N/A' : String(a); }
  function evalCard(e, n) {
    const items = e.items || [];
    const sections = (e.sections || []).map((s) => el('div', { class: 'section' },
      el('h3', {}, `${s.title || s.id}`, el('span', { class: 'muted' }, s.score == null ? ' — n/a' : ` — ${s.score.toFixed(1)}`)),
      items.filter((it) => it.section === s.id).map((it) => el('div', { class: `eval-item ${it.outcome}`, 'data-item': it.id },
        el('span', { class: 'outcome', title: it.outcome }, outcomeMark[it.outcome] || it.outcome), ' ',
        el('span', { class: 'q' }, it.question),
        it.critical ? el('span', { class: 'badge fail', title: 'a critical item: failing it fails the call' }, 'critical') : null,
        el('span', { class: 'muted' }, ` · answer: ${answerText(it.answer)}`),
        it.points_lost > 0 ? el('span', { class: 'lost' }, ` −${it.points_lost.toFixed(1)} points`) : null,
        it.guidance ? el('div', { class: 'guidance' }, it.guidance) : null,
        it.comment ? el('div', { class: 'comment' }, it.comment) : null))));
    const timed = (e.comments || []).filter((c) => c.at_ms != null);
    return el('div', { class: 'item evaluation', 'data-eval': e.id },
      el('div', {}, el('strong', {}, `Evaluation ${n}`), ' ', badge(e), ' ',
        `${e.rubric_id} v${e.rubric_version} by ${e.reviewer} · ${e.status === 'acknowledged' && e.acknowledged && e.acknowledged.by === 'deadline' ? 'acknowledged (deadline)' : e.status}`,
        e.pass_score != null ? el('span', { class: 'muted' }, ` · pass ${e.pass_score}`) : null),
      e.errors && e.errors.length ? el('div', { class: 'error' }, 'Errors: ' + e.errors.join(', ')) : null,
      sections,
      e.comment ? el('div', { class: 'comment' }, el('strong', {}, 'Overall: '), e.comment) : null,
      timed.length || (e.comments || []).length ? el('div', { class: 'comments' },
        (e.comments || []).map((c) => el('div', { class: 'comment', 'data-at': c.at_ms == null ? '' : c.at_ms },
          c.at_ms != null ? el('a', { href: '#', class: 'seek', onclick: (ev) => { ev.preventDefault(); player.seekMs(c.at_ms); } }, `[${clock(c.at_ms)}] `) : null,
          c.item_id ? `${c.item_id}: ` : '', c.text, el('span', { class: 'muted' }, ` — ${c.by || c.author} (evaluation ${n})`)))) : null);
  }
  async function showEvals() {
    const box = document.getElementById('evals');
    const { evaluations } = await api(`/calls/${id}/evaluations`);
    if (!evaluations.length) return box.replaceChildren(el('p', { class: 'muted' }, 'Not evaluated yet.'));
    const full = await Promise.all(evaluations.map((e) => api('/evaluations/' + e.id)));
    box.replaceChildren(...full.map((e, i) => evalCard(e, i + 1)));
    player.setMarkers(full.flatMap((e, i) => (e.comments || []).filter((c) => c.at_ms != null)
      .map((c) => ({ at_ms: c.at_ms, label: String(i + 1) }))));
  }
  showEvals().catch((err) => fail(document.getElementById('evals'), err));

  // the scoring panel, for supervisors
  if (me.user.role !== 'supervisor' && me.user.role !== 'admin') return;
  const panel = document.getElementById('scoring');
  panel.hidden = false;
  const sel = document.getElementById('rubric'), items = document.getElementById('items');
  const totalEl = document.getElementById('total'), note = document.getElementById('totalnote');
  const msg = document.getElementById('msg'), pinsBox = document.getElementById('pins');
  const pins = [];
  let rubric = null, focusItem = null;
  const { rubrics } = await api('/rubrics');
  sel.replaceChildren(...rubrics.map((r) => el('option', { value: r.id }, `${r.title} (v${r.version})`)));

  function answers() {
    const a = {};
    for (const input of items.querySelectorAll('input:checked, select')) {
      if (input.tagName === 'SELECT') { if (input.value !== '') a[input.name] = input.value === 'na' ? 'na' : Number(input.value); }
      else a[input.name] = input.value;
    }
    return a;
  }
  async function updateTotal() {
    try {
      const r = await api('/score', { method: 'POST', body: { rubric: rubric.id, version: rubric.version, answers: answers(), tags: call.tags } });
      totalEl.textContent = r.score.toFixed(1);
      note.textContent = r.critical_failed ? 'critical item failed' : r.passed ? 'passes' : `below ${rubric.pass_score}`;
    } catch (err) { totalEl.textContent = '—'; note.textContent = err.message; }
  }
  function itemForm(it) {
    let choices;
    if (it.type === 'yes_no') {
      const opts = ['yes', 'no'].concat(it.na_allowed ? ['na'] : []);
      choices = opts.map((v) => el('label', {}, el('input', { type: 'radio', name: it.id, value: v, onchange: updateTotal }), v === 'na' ? 'N/A' : v));
    } else {
      const opts = [el('option', { value: '' }, '—')];
      for (let v = it.scale.min; v <= it.scale.max; v++)
        opts.push(el('option', { value: v }, it.scale.labels[v] ? `${v} — ${it.scale.labels[v]}` : String(v)));
      if (it.na_allowed) opts.push(el('option', { value: 'na' }, 'N/A'));
      choices = [el('select', { name: it.id, onchange: updateTotal }, opts)];
    }
    const box = el('div', { class: 'item' + (it.critical ? ' critical' : ''), onfocusin: () => { focusItem = it.id; } },
      el('div', { class: 'text' }, it.text),
      it.guidance ? el('div', { class: 'guidance' }, it.guidance) : null,
      it.applies_to.length ? el('div', { class: 'guidance' }, 'Only for: ' + it.applies_to.join(', ')) : null,
      el('div', { class: 'choices' }, choices));
    return box;
  }
  async function loadRubric() {
    rubric = await api('/rubrics?id=' + encodeURIComponent(sel.value));
    items.replaceChildren(...rubric.sections.map((s) => el('div', {},
      el('h2', {}, `${s.title} (weight ${s.weight})`), s.items.map(itemForm))));
    updateTotal();
  }
  sel.addEventListener('change', loadRubric);
  if (rubrics.length) await loadRubric();

  document.getElementById('pin').addEventListener('click', () => {
    const text = prompt(`Comment at ${clock(audio.currentTime * 1000)}${focusItem ? ' on ' + focusItem : ''}:`);
    if (!text) return;
    const pin = { at_ms: Math.round(audio.currentTime * 1000), text, item: focusItem || undefined };
    pins.push(pin);
    pinsBox.append(el('div', { class: 'comment' }, el('a', { onclick: () => player.seekMs(pin.at_ms) }, `[${clock(pin.at_ms)}] `),
      pin.item ? `${pin.item}: ` : '', text));
  });
  async function save(draft) {
    msg.textContent = '';
    msg.className = '';
    try {
      const e = await api(`/calls/${id}/evaluations`, { method: 'POST', body: {
        rubric: rubric.id, version: rubric.version, answers: answers(), comments: pins,
        comment: document.getElementById('overall').value || undefined, tags: call.tags, draft } });
      msg.textContent = `${draft ? 'Draft saved' : 'Submitted'}: ${e.score.toFixed(1)}`;
      pins.length = 0;
      pinsBox.replaceChildren();
      await showEvals();
    } catch (err) { msg.className = 'error'; msg.textContent = err.message; }
  }
  document.getElementById('submit').addEventListener('click', () => save(false));
  document.getElementById('draft').addEventListener('click', () => save(true));
})();
