// API tests against a running `earshot serve`: sessions, CSRF, roles and
// owners route by route, filters (with SQL metacharacters), keyset pagination,
// audio ranges, headers, throttling. Prints one line per failure and a count.
// usage: node api-test.mjs BASE_URL FIXTURE.json
import { readFileSync } from 'node:fs';
import http from 'node:http';

const base = process.argv[2] + '/api/v1';
const fx = JSON.parse(readFileSync(process.argv[3], 'utf8'));
let passed = 0, failed = 0;
const check = (what, ok, detail = '') => {
  if (ok) passed++;
  else { failed++; console.log(`FAIL: ${what} ${detail}`); }
};

async function req(path, { method = 'GET', body, session, csrf, headers = {} } = {}) {
  const h = { ...headers };
  if (session) h.Cookie = `earshot_session=${session}`;
  if (csrf) h['X-CSRF-Token'] = csrf;
  if (body !== undefined && !h['Content-Type']) h['Content-Type'] = 'application/json';
  const res = await fetch(base + path, {
    method, headers: h, redirect: 'manual',
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const buf = Buffer.from(await res.arrayBuffer());
  let json = null;
  try { json = JSON.parse(buf.toString('utf8')); } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, json, buf };
}

async function login(username, password) {
  const r = await req('/session', { method: 'POST', body: { username, password } });
  const cookie = (r.headers.get('set-cookie') || '').match(/earshot_session=([0-9a-f]{64})/);
  return { status: r.status, session: cookie && cookie[1], csrf: r.json && r.json.csrf, r };
}

// one RFC 4180 line into fields
function parseCsvLine(line) {
  const out = [];
  let cur = '', q = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (q) {
      if (ch === '"' && line[i + 1] === '"') { cur += '"'; i++; }
      else if (ch === '"') q = false;
      else cur += ch;
    } else if (ch === '"') q = true;
    else if (ch === ',') { out.push(cur); cur = ''; }
    else cur += ch;
  }
  out.push(cur);
  return out;
}

const users = {};
for (const [role, u] of Object.entries(fx.users)) {
  const l = await login(u.name, u.password);
  check(`login as ${role}`, l.status === 200 && l.session && l.csrf, `status ${l.status}`);
  users[role] = l;
}
const sup = users.supervisor, op = users.operator, comp = users.compliance;

// cookie attributes and headers
{
  const sc = sup.r.headers.get('set-cookie');
  check('cookie HttpOnly; SameSite=Strict; Path=/', /HttpOnly/.test(sc) && /SameSite=Strict/.test(sc) && /Path=\//.test(sc), sc);
  check('no Secure without TLS', !/Secure/.test(sc));
  const r = await req('/calls', { session: sup.session });
  check('CSP without inline script', /script-src 'self'/.test(r.headers.get('content-security-policy')) && !/unsafe-inline/.test(r.headers.get('content-security-policy')));
  check('frame-ancestors none', /frame-ancestors 'none'/.test(r.headers.get('content-security-policy')));
  check('nosniff', r.headers.get('x-content-type-options') === 'nosniff');
}

// authentication
{
  check('no session: 401', (await req('/calls')).status === 401);
  check('forged session: 401', (await req('/calls', { session: 'a'.repeat(64) })).status === 401);
  const bad = await login(fx.users.supervisor.name, 'wrong password!');
  const unknown = await login('nobody-here', 'wrong password!');
  check('wrong password: 401', bad.status === 401);
  check('same message for unknown user and wrong password', bad.r.json.error === unknown.r.json.error, `${bad.r.json.error} / ${unknown.r.json.error}`);
  const me = await req('/session', { session: op.session });
  check('GET /session says who', me.status === 200 && me.json.user.role === 'operator' && me.json.csrf === op.csrf);
}

// CSRF
{
  const del = await req('/session', { method: 'DELETE', session: comp.session });
  check('DELETE without X-CSRF-Token: 403', del.status === 403);
  const wrong = await req('/session', { method: 'DELETE', session: comp.session, csrf: sup.csrf });
  check('another session\'s CSRF token: 403', wrong.status === 403);
}

// the call list: pagination walks every call once, newest first
{
  const seen = new Set();
  let cursor = null, pages = 0, last = null, ordered = true;
  do {
    const r = await req(`/calls?limit=3${cursor ? '&cursor=' + cursor : ''}`, { session: sup.session });
    check(`page ${pages} status`, r.status === 200, r.status);
    for (const c of r.json.calls) {
      if (last && (c.started_at > last.started_at || (c.started_at === last.started_at && c.id > last.id))) ordered = false;
      seen.has(c.id) ? check('no call twice', false, c.id) : seen.add(c.id);
      last = c;
    }
    cursor = r.json.next;
    pages++;
  } while (cursor && pages < 100);
  check(`keyset pages cover all ${fx.calls.length} calls (${seen.size})`, seen.size === fx.calls.length);
  check('newest first', ordered);
  check('several pages', pages >= 3, pages);
}

// filters
{
  const byOp = await req(`/calls?operator=${fx.operator}&limit=1000`, { session: sup.session });
  const want = fx.calls.filter(c => c.operator === fx.operator).length;
  check(`operator filter (${want})`, byOp.json.calls.length === want && byOp.json.calls.every(c => c.operator === fx.operator));
  const scored = await req('/calls?scored=true&limit=1000', { session: sup.session });
  check(`scored=true (${fx.evaluated.length})`, scored.json.calls.length === fx.evaluated.length && scored.json.calls.every(c => c.evaluation));
  let cur = null, paged = [];
  do {
    const r = await req(`/calls?scored=true&limit=2${cur ? '&cursor=' + cur : ''}`, { session: sup.session });
    paged = paged.concat(r.json.calls.map((c) => c.id));
    cur = r.json.next;
  } while (cur && paged.length < 100);
  check('scored=true pages through the same calls', JSON.stringify(paged) === JSON.stringify(scored.json.calls.map((c) => c.id)), `${paged.length} vs ${scored.json.calls.length}`);
  const unscored = await req('/calls?scored=false&limit=1000', { session: sup.session });
  check('scored=false', unscored.json.calls.length === fx.calls.length - fx.evaluated.length);
  // a wrong price scores 85.0 with the example rubric, everything right 100.0
  const low = await req('/calls?max_score=90&limit=1000', { session: sup.session });
  check(`max_score=90 (${fx.wrong_price})`, low.json.calls.length === fx.wrong_price && low.json.calls.every(c => c.evaluation.score <= 90), JSON.stringify(low.json.calls.map(c => c.evaluation && c.evaluation.score)));
  const high = await req('/calls?min_score=90&limit=1000', { session: sup.session });
  check('min_score=90', high.json.calls.length === fx.evaluated.length - fx.wrong_price && high.json.calls.every(c => c.evaluation.score >= 90));
  // attempts the PBX refused (a scanner's) only when asked for, in the list and the export
  const rej = await req('/calls?disposition=rejected&limit=1000', { session: sup.session });
  check(`disposition=rejected (${fx.rejected})`, rej.json.calls.length === fx.rejected && rej.json.calls.every(c => c.disposition === 'rejected' && c.reason === 'forbidden'), JSON.stringify(rej.json.calls.map(c => c.reason)));
  const every = await req('/calls?limit=1000', { session: sup.session });
  check('no disposition: rejected attempts left out', every.json.calls.length === fx.calls.length && every.json.calls.every(c => c.disposition !== 'rejected'));
  const rejCsv = await req('/export.csv?disposition=rejected', { session: sup.session });
  const rejLines = rejCsv.buf.toString('utf8').split('\r\n').filter(l => l.length).slice(1).map(parseCsvLine);
  check(`export with disposition=rejected (${rejLines.length})`, rejCsv.status === 200 && rejLines.length === fx.rejected && rejLines.every(f => f.includes('rejected') && f.includes('forbidden')), rejCsv.status);
  const tag = await req('/calls?error_tag=wrong-price&limit=1000', { session: sup.session });
  check(`error_tag=wrong-price (${fx.wrong_price})`, tag.json.calls.length === fx.wrong_price);
  for (const evil of ["' OR 1=1 --", '%', '_', '"; DROP TABLE calls; --', '\\', '%25%27']) {
    const r = await req(`/calls?q=${encodeURIComponent(evil)}&operator=${encodeURIComponent(evil)}&error_tag=${encodeURIComponent(evil)}`, { session: sup.session });
    check(`SQL metacharacters in filters are data: ${evil}`, r.status === 200 && r.json.calls.length === 0, r.status);
  }
  for (const [k, v] of [['from', 'yesterday'], ['limit', '0'], ['limit', '1001'], ['min_score', 'x'], ['direction', 'sideways'], ['cursor', '1_../../x'], ['scored', 'maybe']]) {
    const r = await req(`/calls?${k}=${encodeURIComponent(v)}`, { session: sup.session });
    check(`bad ${k}=${v}: 400 naming it`, r.status === 400 && r.json.error.includes(k), `${r.status} ${r.json && r.json.error}`);
  }
  const q = await req(`/calls?q=${encodeURIComponent(fx.calls[0].caller)}`, { session: sup.session });
  check('q finds a caller', q.json.calls.some(c => c.id === fx.calls[0].id));
}

// operators: their own calls only, everything else is 404
{
  const mine = await req('/calls?limit=1000', { session: op.session });
  check('operator list holds only own calls', mine.json.calls.length > 0 && mine.json.calls.every(c => c.operator === fx.users.operator.operator));
  const asks = await req(`/calls?operator=${fx.other_operator}`, { session: op.session });
  check('operator asking for another operator gets nothing', asks.json.calls.length === 0);
  for (const path of ['', '/audio', '/peaks']) {
    const r = await req(`/calls/${fx.other_call}${path}`, { session: op.session });
    check(`operator on another's call${path}: 404`, r.status === 404, r.status);
    const own = await req(`/calls/${fx.own_call}${path}`, { session: op.session });
    check(`operator on own call${path}: 200`, own.status === 200, own.status);
  }
  const c = await req(`/calls/${fx.other_call}`, { session: comp.session });
  check('compliance reads any call', c.status === 200);
}

// audio
{
  const id = fx.own_call;
  const full = await req(`/calls/${id}/audio`, { session: sup.session });
  check('audio 200 audio/ogg', full.status === 200 && full.headers.get('content-type') === 'audio/ogg' && full.buf.subarray(0, 4).toString() === 'OggS');
  check('Accept-Ranges: bytes', full.headers.get('accept-ranges') === 'bytes');
  const part = await req(`/calls/${id}/audio`, { session: sup.session, headers: { Range: 'bytes=10-19' } });
  check('Range: 206 with 10 bytes', part.status === 206 && part.buf.length === 10 && part.buf.equals(full.buf.subarray(10, 20)));
  check('Content-Range', part.headers.get('content-range') === `bytes 10-19/${full.buf.length}`, part.headers.get('content-range'));
  const tail = await req(`/calls/${id}/audio`, { session: sup.session, headers: { Range: 'bytes=-5' } });
  check('suffix range', tail.status === 206 && tail.buf.equals(full.buf.subarray(full.buf.length - 5)));
  for (const bad of [`bytes=${full.buf.length}-`, 'bytes=5-1', 'bytes=x-y', 'lines=1-2']) {
    const r = await req(`/calls/${id}/audio`, { session: sup.session, headers: { Range: bad } });
    check(`bad range ${bad}: 416`, r.status === 416 && r.headers.get('content-range') === `bytes */${full.buf.length}`, r.status);
  }
  const missed = await req(`/calls/${fx.missed_call}/audio`, { session: sup.session });
  check('missed call has no audio: 404', fx.missed_call === null || missed.status === 404, missed.status);
  check('recordings are not cached (Cache-Control: no-store)', full.headers.get('cache-control') === 'no-store', full.headers.get('cache-control'));
  // a listening is audited once, whatever range it starts with
  const rows = async () => (await req(`/audit?action=audio&limit=1000`, { session: comp.session })).json.entries.filter(e => e.target === fx.other_call).length;
  const before = await rows();
  const other = await login(fx.users.supervisor.name, fx.users.supervisor.password);
  const skip = await req(`/calls/${fx.other_call}/audio`, { session: other.session, headers: { Range: 'bytes=1-' } });
  check('Range: bytes=1- is served (all but the first byte)', skip.status === 206, skip.status);
  check('... and audited though it does not start at 0', await rows() === before + 1);
  await req(`/calls/${fx.other_call}/audio`, { session: other.session, headers: { Range: 'bytes=0-99' } });
  await req(`/calls/${fx.other_call}/audio`, { session: other.session, headers: { Range: 'bytes=-5' } });
  check('later ranges of the same listening add no row', await rows() === before + 1);
  await req(`/calls/${fx.other_call}/audio`, { session: sup.session, headers: { Range: 'bytes=7-' } });
  check('another session listening adds its own row', await rows() === before + 2);
}

// malformed requests
{
  check('unknown route 404', (await req('/nope', { session: sup.session })).status === 404);
  check('wrong method 405', (await req('/calls', { method: 'PUT', session: sup.session, csrf: sup.csrf })).status === 405);
  check('bad id 404', (await req('/calls/..%2F..%2Fcatalog.db', { session: sup.session })).status === 404);
  check('unknown call 404', (await req('/calls/01a20000-0000-7000-8000-000000000000', { session: sup.session })).status === 404);
  // a client announcing a too-large body is refused before it sends it
  const status = await new Promise((resolve) => {
    const body = '{"username":"' + 'x'.repeat(2 << 20) + '"}';
    const r = http.request(base + '/session', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': body.length, Expect: '100-continue' },
    }, (res) => { res.resume(); resolve(res.statusCode); });
    r.on('continue', () => r.end(body));
    r.on('error', (e) => resolve(e.code));
  });
  check('oversized body 413', status === 413, status);
  const notjson = await req('/session', { method: 'POST', body: 'username=a&password=b' });
  check('form body 400', notjson.status === 400);
}

// evaluations: supervisors score, the operator acknowledges or disputes, supervisors resolve
{
  const answers = { greeting: 'yes', 'customer-type': 'yes', 'needs-questions': 3, 'price-correct': 'no',
    'specs-correct': 'na', 'stock-delivery': 'yes', 'read-back': 'yes', 'no-rudeness': 'yes', 'polite-close': 'yes' };
  const body = { rubric: 'inbound-order', answers, comment: '<script>alert(1)</script>',
    comments: [{ item: 'price-correct', at_ms: 1500, text: 'said 19.90, <b>list</b> says 21.90' }] };
  const path = `/calls/${fx.own_call}/evaluations`;
  check('compliance cannot score: 403', (await req(path, { method: 'POST', body, session: users.compliance2.session, csrf: users.compliance2.csrf })).status === 403);
  check('operators cannot score: 403', (await req(path, { method: 'POST', body, session: op.session, csrf: op.csrf })).status === 403);
  check('scoring without CSRF: 403', (await req(path, { method: 'POST', body, session: sup.session })).status === 403);
  const bad = await req(path, { method: 'POST', body: { rubric: 'inbound-order', answers: { greeting: 'yes' } }, session: sup.session, csrf: sup.csrf });
  check('incomplete answers: 400 naming the item', bad.status === 400 && /customer-type|not answered/.test(bad.json.error), bad.json && bad.json.error);
  const nor = await req(path, { method: 'POST', body: { rubric: 'no-such', answers }, session: sup.session, csrf: sup.csrf });
  check('unknown rubric: 400', nor.status === 400, nor.status);
  const e1 = await req(path, { method: 'POST', body, session: sup.session, csrf: sup.csrf });
  check('supervisor scores: 201, the server computes the score', e1.status === 201 && typeof e1.json.score === 'number' && e1.json.score < 100, JSON.stringify(e1.json).slice(0, 200));
  check('comments kept as text', e1.json.comment === '<script>alert(1)</script>' && e1.json.comments[0].at_ms === 1500 && e1.json.comments[0].text.includes('<b>list</b>'));
  check('errors listed', JSON.stringify(e1.json.errors) === '["wrong-price"]', JSON.stringify(e1.json.errors));
  const id1 = e1.json.id;
  const seen = await req(`/evaluations/${id1}`, { session: op.session });
  check('the operator reads their evaluation with history', seen.status === 200 && Array.isArray(seen.json.history));
  const otherEval = await req(`/calls/${fx.other_call}/evaluations`, { method: 'POST', body: { ...body, answers: { ...answers } }, session: sup.session, csrf: sup.csrf });
  check('evaluation of another operator\'s call created', otherEval.status === 201, otherEval.status);
  check('operator: another operator\'s evaluation is 404', (await req(`/evaluations/${otherEval.json.id}`, { session: op.session })).status === 404);
  check('operator cannot acknowledge another\'s: 404', (await req(`/evaluations/${otherEval.json.id}/acknowledge`, { method: 'POST', session: op.session, csrf: op.csrf })).status === 404);
  check('a supervisor cannot acknowledge for the operator: 403', (await req(`/evaluations/${id1}/acknowledge`, { method: 'POST', session: sup.session, csrf: sup.csrf })).status === 403);
  const ack = await req(`/evaluations/${id1}/acknowledge`, { method: 'POST', session: op.session, csrf: op.csrf });
  check('operator acknowledges', ack.status === 200 && ack.json.status === 'acknowledged' && ack.json.acknowledged.by === fx.users.operator.name, ack.status);
  const again = await req(`/evaluations/${id1}/dispute`, { method: 'POST', body: { comment: 'late' }, session: op.session, csrf: op.csrf });
  check('acknowledged cannot be disputed: 409', again.status === 409, again.status);
  const e2 = await req(path, { method: 'POST', body, session: sup.session, csrf: sup.csrf });
  const noreason = await req(`/evaluations/${e2.json.id}/dispute`, { method: 'POST', body: {}, session: op.session, csrf: op.csrf });
  check('a dispute needs a comment: 400', noreason.status === 400, noreason.status);
  const disp = await req(`/evaluations/${e2.json.id}/dispute`, { method: 'POST', body: { comment: 'the price list changed that morning' }, session: op.session, csrf: op.csrf });
  check('operator disputes', disp.status === 200 && disp.json.status === 'disputed' && disp.json.disputed.reason.includes('price list'));
  check('operators cannot resolve: 403', (await req(`/evaluations/${e2.json.id}/resolve`, { method: 'POST', body: { comment: 'x' }, session: op.session, csrf: op.csrf })).status === 403);
  const res = await req(`/evaluations/${e2.json.id}/resolve`, { method: 'POST', body: { comment: 'agreed, price corrected', answers: { ...answers, 'price-correct': 'yes' } }, session: sup.session, csrf: sup.csrf });
  check('supervisor resolves with corrected answers', res.status === 200 && res.json.status === 'resolved' && res.json.score > e2.json.score && res.json.history.length >= 4, `${res.status} ${res.json && res.json.score}`);
  const draft = await req(path, { method: 'POST', body: { ...body, draft: true }, session: sup.session, csrf: sup.csrf });
  check('draft created', draft.status === 201 && draft.json.status === 'draft');
  check('operators do not see drafts', (await req(`/evaluations/${draft.json.id}`, { session: op.session })).status === 404);
  const mine = await req('/evaluations', { session: op.session });
  check('operator evaluation list: own, no drafts', mine.status === 200 && mine.json.evaluations.length > 0 && mine.json.evaluations.every(e => e.operator === fx.users.operator.operator && e.status !== 'draft'));
  const sub = await req(`/evaluations/${draft.json.id}/submit`, { method: 'POST', session: sup.session, csrf: sup.csrf });
  check('supervisor submits the draft', sub.status === 200 && sub.json.status === 'submitted');
  const cm = await req(`/evaluations/${id1}/comments`, { method: 'POST', body: { item: 'greeting', at_ms: 500, text: 'nice' }, session: sup.session, csrf: sup.csrf });
  check('supervisor adds a pinned comment', cm.status === 201 && cm.json.comments.length === 2);
  const commented = await req(`/audit?action=evaluation.comment&limit=1000`, { session: comp.session });
  check('comments are audited (the item, not the text)', commented.json.entries.some(e => e.target === id1 && e.detail.item === 'greeting' && !JSON.stringify(e.detail).includes('nice')), JSON.stringify(commented.json.entries.slice(0, 2)));
  // resolving with answers a submitted evaluation, which cannot be resolved:
  // 409, and the answers are as they were
  const subm = await req(path, { method: 'POST', body, session: sup.session, csrf: sup.csrf });
  const wrongStep = await req(`/evaluations/${subm.json.id}/resolve`, { method: 'POST', body: { comment: 'sneaky', answers: { ...answers, 'price-correct': 'yes' } }, session: sup.session, csrf: sup.csrf });
  const after = await req(`/evaluations/${subm.json.id}`, { session: sup.session });
  check('a refused resolve (409) changes nothing', wrongStep.status === 409 && after.json.score === subm.json.score && after.json.status === 'submitted' && after.json.answers['price-correct'] === 'no', `${wrongStep.status} ${after.json.score} vs ${subm.json.score}`);
  const edits = await req(`/audit?action=evaluation.edit&limit=1000`, { session: comp.session });
  check('... and audits nothing', !edits.json.entries.some(e => e.target === subm.json.id));
  const late = await req(`/evaluations/${id1}/comments`, { method: 'POST', body: { text: 'x', at_ms: 99999999 }, session: sup.session, csrf: sup.csrf });
  check('comment past the end of the call: 400', late.status === 400);
  const ed = await req(`/evaluations/${id1}`, { method: 'PUT', body: { answers }, session: sup.session, csrf: sup.csrf });
  check('an acknowledged evaluation cannot be edited: 409', ed.status === 409, ed.status);
}

// reports, rubrics, audit
{
  const all = await req('/reports/errors?from=2000-01-01&to=2100-01-01', { session: sup.session });
  const wp = all.json.rows.filter(r => r.error_tag === 'wrong-price').reduce((a, r) => a + r.count, 0);
  check('error report counts wrong prices', all.status === 200 && wp >= fx.wrong_price && all.json.items.length > 0 && all.json.team.evaluations > 0, JSON.stringify(all.json.team));
  const mine = await req('/reports/errors?from=2000-01-01&to=2100-01-01&operator=' + fx.other_operator, { session: op.session });
  check('operators get only their own report rows', mine.status === 200 && mine.json.rows.every(r => r.operator === fx.users.operator.operator), JSON.stringify(mine.json.rows.map(r => r.operator)));
  const sc = await req('/reports/scores?from=2000-01-01&to=2100-01-01', { session: sup.session });
  check('score report', sc.status === 200 && sc.json.operators.length >= 2 && sc.json.operators.every(o => typeof o.average === 'number'));
  const sco = await req('/reports/scores?from=2000-01-01&to=2100-01-01', { session: op.session });
  check('operator score report: own only', sco.json.operators.length === 1 && sco.json.operators[0].operator === fx.users.operator.operator);
  check('bad report window: 400', (await req('/reports/errors?from=2030-01-01&to=2020-01-01', { session: sup.session })).status === 400);
  const rl = await req('/rubrics', { session: sup.session });
  check('rubric list', rl.status === 200 && rl.json.rubrics.some(x => x.id === 'inbound-order'));
  const rb = await req('/rubrics?id=inbound-order', { session: sup.session });
  check('rubric for the scoring form', rb.status === 200 && rb.json.sections.length === 5 && rb.json.sections[0].items[0].guidance.length > 0);
  check('unknown rubric: 404', (await req('/rubrics?id=nope', { session: sup.session })).status === 404);
  check('supervisors cannot read the audit log: 403', (await req('/audit', { session: sup.session })).status === 403);
  check('operators cannot read the audit log: 403', (await req('/audit', { session: op.session })).status === 403);
  const au = await req('/audit?limit=5', { session: comp.session });
  check('compliance reads the audit log, newest first, paged', au.status === 200 && au.json.entries.length === 5 && au.json.entries[0].id > au.json.entries[4].id && au.json.next, au.status);
  const au2 = await req('/audit?limit=5&cursor=' + au.json.next, { session: comp.session });
  check('audit next page', au2.status === 200 && au2.json.entries[0].id < au.json.entries[4].id);
  const logins = await req('/audit?action=login.failed&limit=1000', { session: comp.session });
  check('failed logins are in the audit log, passwords are not', logins.json.entries.length >= 2 && !JSON.stringify(logins.json).includes('wrong password!'));
  const plays = await req('/audit?action=audio&limit=1000', { session: comp.session });
  check('playbacks are audited', plays.json.entries.some(e => e.target === fx.own_call));
}

// exports: the same filters as /calls, RFC 4180 CSV and XLSX
{
  const csv = await req('/export.csv', { session: comp.session });
  const text = csv.buf.toString('utf8');
  const lines = text.split('\r\n').filter(l => l.length);
  check('CSV 200 text/csv', csv.status === 200 && /^text\/csv/.test(csv.headers.get('content-type')));
  check(`CSV has a header and ${fx.calls.length} rows (${lines.length - 1})`, lines[0].startsWith('call_id,started_at,duration_s') && lines.length - 1 === fx.calls.length);
  check('CSV rows have 19 fields', lines.slice(1).every(l => parseCsvLine(l).length === 19), lines[1]);
  const scoredCsv = await req('/export.csv?scored=true&bom=1', { session: sup.session });
  const st = scoredCsv.buf.toString('utf8');
  check('CSV with BOM', st.charCodeAt(0) === 0xfeff);
  const srows = st.slice(1).split('\r\n').filter(l => l.length).slice(1).map(parseCsvLine);
  check('scored export: only scored calls, with score and tags', srows.length > 0 && srows.every(r => r[12] !== '' && r[9] === 'inbound-order'));
  check('a wrong price shows as an error tag', srows.some(r => r[15].split(' ').includes('wrong-price')));
  check('operators cannot export: 403', (await req('/export.csv', { session: op.session })).status === 403);
  const x = await req('/export.xlsx', { session: comp.session });
  check('XLSX 200, a zip', x.status === 200 && x.buf.subarray(0, 2).toString() === 'PK' && /spreadsheetml/.test(x.headers.get('content-type')));
  (await import('node:fs')).writeFileSync(process.argv[3] + '.xlsx', x.buf);
  const ex = await req('/audit?action=export.csv', { session: comp.session });
  check('exports are audited with their filters', ex.json.entries.some(e => e.detail.scored === 'true'));
}

// administration: users, rubric uploads, API tokens; pushed recordings
{
  const adm = users.admin;
  check('compliance cannot manage users: 403', (await req('/users', { session: comp.session })).status === 403);
  check('supervisors cannot manage users: 403', (await req('/users', { session: sup.session })).status === 403);
  const ul = await req('/users', { session: adm.session });
  check('admin lists users', ul.status === 200 && ul.json.users.some((u) => u.name === 'op102'));
  const nu = await req('/users', { method: 'POST', body: { name: 'newsup', role: 'supervisor' }, session: adm.session, csrf: adm.csrf });
  check('admin adds a user; a generated password is shown once', nu.status === 201 && /^[A-Za-z0-9]{20}$/.test(nu.json.password), nu.status);
  const li = await login('newsup', nu.json.password);
  check('the new user logs in with it', li.status === 200);
  check('duplicate user: 409', (await req('/users', { method: 'POST', body: { name: 'newsup', role: 'admin' }, session: adm.session, csrf: adm.csrf })).status === 409);
  check('operator without extension: 400', (await req('/users', { method: 'POST', body: { name: 'op9', role: 'operator', password: 'long enough pw' }, session: adm.session, csrf: adm.csrf })).status === 400);
  check('disable a user', (await req('/users/newsup/disable', { method: 'POST', session: adm.session, csrf: adm.csrf })).status === 200);
  check('a disabled user\'s session ends', (await req('/calls', { session: li.session })).status === 401);
  check('no disabling oneself: 409', (await req(`/users/${fx.users.admin.name}/disable`, { method: 'POST', session: adm.session, csrf: adm.csrf })).status === 409);
  check('unknown user: 404', (await req('/users/ghost/disable', { method: 'POST', session: adm.session, csrf: adm.csrf })).status === 404);
  check('a name with a path in it matches no route', (await req('/users/..%2Fx/disable', { method: 'POST', session: adm.session, csrf: adm.csrf })).status === 404);

  const bad = await req('/rubrics', { method: 'POST', body: 'id: Bad\ntitle: x\npass_score: 120\nsections: []\n', session: adm.session, csrf: adm.csrf, headers: { 'Content-Type': 'application/yaml' } });
  check('a bad rubric upload lists every problem with line and column', bad.status === 400 && bad.json.problems.length === 3 && bad.json.problems[1].line === 3 && bad.json.problems[1].col === 13, JSON.stringify(bad.json));
  const yaml = readFileSync(fx.src + '/scripts-rubric/examples/complaint.yaml', 'utf8');
  const up = await req('/rubrics', { method: 'POST', body: yaml, session: adm.session, csrf: adm.csrf, headers: { 'Content-Type': 'application/yaml' } });
  check('rubric upload: 201 new', up.status === 201 && up.json.id === 'complaint' && up.json.version === 1, JSON.stringify(up.json));
  const same = await req('/rubrics', { method: 'POST', body: yaml, session: adm.session, csrf: adm.csrf, headers: { 'Content-Type': 'application/yaml' } });
  check('the same upload again: unchanged', same.status === 200 && same.json.outcome === 'unchanged');

  const tk = await req('/tokens', { method: 'POST', body: { name: 'pbx-1' }, session: adm.session, csrf: adm.csrf });
  check('admin creates an API token, shown once', tk.status === 201 && /^[0-9a-f]{64}$/.test(tk.json.token));
  const tl = await req('/tokens', { session: adm.session });
  check('token list holds no secret', tl.status === 200 && tl.json.tokens[0].name === 'pbx-1' && !JSON.stringify(tl.json).includes(tk.json.token));
  // like a PBX's curl: multipart, and "Expect: 100-continue" so that a refusal comes
  // before the file is sent
  const push = (file, meta, token, contentType) => new Promise((resolve) => {
    const b = '----earshot' + Math.random().toString(16).slice(2);
    const parts = [Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="file"; filename="${file.split('/').pop()}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
      readFileSync(file), Buffer.from('\r\n')];
    if (meta) parts.push(Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="meta"\r\n\r\n${JSON.stringify(meta)}\r\n`));
    parts.push(Buffer.from(`--${b}--\r\n`));
    const body = contentType ? Buffer.from('raw') : Buffer.concat(parts);
    const headers = { 'Content-Type': contentType || `multipart/form-data; boundary=${b}`, 'Content-Length': body.length, Expect: '100-continue' };
    if (token) headers.Authorization = 'Bearer ' + token;
    const rq = http.request(base + '/recordings', { method: 'POST', headers }, (res) => {
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => { let json = null; try { json = JSON.parse(data); } catch { /* */ } resolve({ status: res.statusCode, json }); });
    });
    rq.on('continue', () => rq.end(body));
    rq.on('error', (e) => resolve({ status: e.code, json: null }));
  });
  const wav = fx.sounds + '/vm-goodbye.wav';
  const meta = { started_at: '2026-11-10T09:00:00Z', operator: '102', caller: '+4930555', direction: 'inbound' };
  check('push without a token: 401', (await push(wav, meta, null)).status === 401);
  check('push with a wrong token: 401', (await push(wav, meta, 'f'.repeat(64))).status === 401);
  const p1 = await push(wav, meta, tk.json.token);
  check('pushed recording archived: 201', p1.status === 201 && p1.json.status === 'archived' && p1.json.id, JSON.stringify(p1.json));
  const c = await req('/calls/' + p1.json.id, { session: sup.session });
  check('it is in the catalog with its metadata', c.status === 200 && c.json.source === 'api' && c.json.operator === '102' && c.json.caller === '+4930555');
  // chunked (no Content-Length): counted as it streams, refused past the cap
  const chunked = await new Promise((resolve) => {
    const b = '----earshotbig';
    const rq = http.request(base + '/recordings', { method: 'POST', headers: { 'Content-Type': `multipart/form-data; boundary=${b}`, Authorization: 'Bearer ' + tk.json.token } }, (res) => { res.resume(); resolve(res.statusCode); });
    rq.on('error', (e) => resolve(e.code));
    rq.write(`--${b}\r\nContent-Disposition: form-data; name="file"; filename="big.wav"\r\n\r\n`);
    const chunk = Buffer.alloc(64 * 1024, 1);
    let i = 0;
    const more = () => {
      while (i < 48) { i++; if (!rq.write(chunk)) { rq.once('drain', more); return; } }
      rq.end(`\r\n--${b}--\r\n`);
    };
    more();
  });
  check(`a chunked push of 3 MB past --max-upload 1: 413 (${chunked})`, chunked === 413);
  const p2 = await push(wav, meta, tk.json.token);
  check('the same recording again: skipped', p2.status === 200 && p2.json.status === 'skipped', JSON.stringify(p2.json));
  const junk = process.argv[3] + '.junk.wav';
  (await import('node:fs')).writeFileSync(junk, Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(200, 7)]));
  const p3 = await push(junk, null, tk.json.token);
  check('a corrupt file: 422 with the reason', p3.status === 422 && p3.json.error.length > 0, JSON.stringify(p3.json));
  const notform = await push(wav, null, tk.json.token, 'application/octet-stream');
  check('not multipart: 415', notform.status === 415, notform.status);
  check('revoke the token', (await req('/tokens/pbx-1', { method: 'DELETE', session: adm.session, csrf: adm.csrf })).status === 200);
  check('a revoked token: 401', (await push(wav, meta, tk.json.token)).status === 401);
}

// logout ends the session
{
  const out = await req('/session', { method: 'DELETE', session: comp.session, csrf: comp.csrf });
  check('logout 204', out.status === 204);
  check('after logout: 401', (await req('/calls', { session: comp.session })).status === 401);
}

// brute force: the sixth wrong password in a row waits
{
  let last;
  for (let i = 0; i < 6; i++) last = await login(fx.users.throttled.name, 'not the password');
  check('sixth failure: 429 with a wait', last.status === 429 && /try again in \d+ seconds/.test(last.r.json.error), `${last.status}`);
  const right = await login(fx.users.throttled.name, fx.users.throttled.password);
  check('even the right password waits', right.status === 429);
}

// login CSRF: JSON only as application/json, and only from this site's own page
{
  const u = fx.users.compliance;
  const plain = await req('/session', { method: 'POST', body: JSON.stringify({ username: u.name, password: u.password }), headers: { 'Content-Type': 'text/plain' } });
  check('login as text/plain (a cross-site form): 415', plain.status === 415, plain.status);
  const evil = await req('/session', { method: 'POST', body: { username: u.name, password: u.password }, headers: { Origin: 'http://attacker.example' } });
  check('login with a foreign Origin: 403', evil.status === 403, evil.status);
  const cross = await req('/session', { method: 'POST', body: { username: u.name, password: u.password }, headers: { 'Sec-Fetch-Site': 'cross-site' } });
  check('login with Sec-Fetch-Site: cross-site: 403', cross.status === 403, cross.status);
  const own = await req('/session', { method: 'POST', body: { username: u.name, password: u.password }, headers: { Origin: base.replace(/\/api\/v1$/, ''), 'Sec-Fetch-Site': 'same-origin' } });
  check('login from the site itself: 200', own.status === 200, own.status);
  const c2 = users.compliance2;
  const form = await req('/score', { method: 'POST', body: JSON.stringify({ rubric: 'inbound-order', answers: {} }), session: c2.session, csrf: c2.csrf, headers: { 'Content-Type': 'text/plain' } });
  check('a JSON route with text/plain: 415', form.status === 415, form.status);
}

// a password change ends the user's other sessions; an admin's reset ends all
{
  const u = fx.users.operator;
  const a = await login(u.name, u.password), b = await login(u.name, u.password);
  const ch = await req('/session/password', { method: 'POST', body: { current: u.password, new: 'a brand new passphrase' }, session: a.session, csrf: a.csrf });
  check('password changed', ch.status === 200, `${ch.status} ${ch.json && ch.json.error}`);
  check('... the session that changed it goes on', (await req('/calls', { session: a.session })).status === 200);
  check('... the other session is over', (await req('/calls', { session: b.session })).status === 401);
  check('... so is the one logged in at the start', (await req('/calls', { session: op.session })).status === 401);
  const wrong = await req('/session/password', { method: 'POST', body: { current: 'not it', new: 'another new passphrase' }, session: a.session, csrf: a.csrf });
  check('a wrong current password: 403', wrong.status === 403, wrong.status);
  const adm = users.admin;
  const reset = await req(`/users/${u.name}/password`, { method: 'POST', body: {}, session: adm.session, csrf: adm.csrf });
  check('admin reset: a password shown once', reset.status === 200 && typeof reset.json.password === 'string' && reset.json.password.length >= 10, reset.status);
  check('... and every session of the user is over', (await req('/calls', { session: a.session })).status === 401);
  const back = await login(u.name, reset.json.password);
  check('... the new password works', back.status === 200, back.status);
  const audited = await req('/audit?action=user.passwd&limit=10', { session: users.compliance2.session });
  check('both changes audited', audited.status === 200 && audited.json.entries.filter(e => e.target === u.name).length === 2, `${audited.status} ${JSON.stringify(audited.json)}`);
}

// parallel wrong passwords cannot all slip in before the first failure is counted
{
  const tries = await Promise.all(Array.from({ length: 12 }, () => login(fx.users.compliance2.name, 'parallel guess')));
  const through = tries.filter((t) => t.status === 401).length;
  check(`12 parallel wrong logins: 5 checked, the rest wait (${through} checked)`, through === 5 && tries.filter((t) => t.status === 429).length === 7);
}

// names chosen to land on the counters' slots (FNV-1a modulo 4096, as an
// attacker reading the old code would search them) reset nothing
{
  const slot = (kind, v) => {
    let h = 1469598103934665603n ^ BigInt(kind.charCodeAt(0));
    for (const b of Buffer.from(v)) h = ((h ^ BigInt(b)) * 1099511628211n) & 0xffffffffffffffffn;
    return (h === 0n ? 1n : h) % 4096n;
  };
  const find = (kind, target) => {
    const want = slot(kind, target);
    for (let i = 0; ; i++) if (slot('u', `junk${i}`) === want) return `junk${i}`;
  };
  const target = 'supervisor-guess';
  const onUser = find('u', target), onAddr = find('a', '127.0.0.1');
  let got429 = false;
  for (let i = 0; i < 32 && !got429; i++) {
    got429 = (await login(target, 'wrong')).status === 429;
    if (i % 4 === 3) { await login(onUser, 'x'); await login(onAddr, 'x'); }
  }
  check('colliding junk logins do not reset the counts: a 429 comes', got429);
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
