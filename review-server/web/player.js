// The call player: play/pause, speed, skip-silence, keyboard, and the waveform
// from stored peaks (customer lane on top, operator lane below) with
// click-to-seek, silences, overtalk and DTMF markers; PCI pauses and
// redactions as hatched bands; comment markers (a click seeks to the comment);
// with onSelect, a drag selects a range.
'use strict';
const Player = (audio, canvas, { peaks, channels, overtalk, dtmf, hatched, onTime, onSelect }) => {
  const ctx = canvas.getContext('2d');
  let skipSilence = false, drag = null, selection = null, markers = [];
  const hatch = (() => { // diagonal stripes: audio that was never kept
    const t = document.createElement('canvas');
    t.width = t.height = 8;
    const c = t.getContext('2d');
    c.strokeStyle = 'rgba(90,90,90,.55)';
    c.beginPath(); c.moveTo(0, 8); c.lineTo(8, 0); c.stroke();
    return ctx.createPattern(t, 'repeat');
  })();

  // stretches where both sides are silent (2 s or more, from the analysis)
  const both = (() => {
    if (!channels || channels.length === 0) return [];
    if (channels.length === 1) return channels[0].silences;
    const out = [], a = channels[0].silences, b = channels[1].silences;
    for (const [s1, e1] of a) for (const [s2, e2] of b) {
      const s = Math.max(s1, s2), e = Math.min(e1, e2);
      if (e - s >= 1000) out.push([s, e]);
    }
    return out.sort((x, y) => x[0] - y[0]);
  })();

  function draw() {
    const w = canvas.width, h = canvas.height, dur = (audio.duration || 0) * 1000;
    ctx.clearRect(0, 0, w, h);
    const lanes = peaks.peaks || [];
    const n = lanes.length ? lanes[0].length / 2 : 0;
    const laneH = h / Math.max(lanes.length, 1);
    const css = getComputedStyle(document.documentElement);
    const colors = [css.getPropertyValue('--cust') || '#2457c5', css.getPropertyValue('--oper') || '#1d7a3a'];
    // silences of both sides as grey bands
    if (dur) {
      ctx.fillStyle = 'rgba(120,130,150,.12)';
      for (const [s, e] of both) ctx.fillRect(s / dur * w, 0, (e - s) / dur * w, h);
    }
    lanes.forEach((lane, c) => {
      const mid = laneH * c + laneH / 2;
      ctx.fillStyle = colors[c % 2];
      for (let x = 0; x < w; x++) {
        const i0 = Math.floor(x / w * n), i1 = Math.max(i0 + 1, Math.floor((x + 1) / w * n));
        let lo = 0, hi = 0;
        for (let i = i0; i < i1 && i < n; i++) { lo = Math.min(lo, lane[2 * i]); hi = Math.max(hi, lane[2 * i + 1]); }
        const y0 = mid - hi / 128 * laneH / 2, y1 = mid - lo / 128 * laneH / 2;
        ctx.fillRect(x, y0, 1, Math.max(1, y1 - y0));
      }
    });
    if (dur) {
      ctx.fillStyle = hatch;
      for (const r of hatched || []) ctx.fillRect(r.from_ms / dur * w, 0, Math.max(2, (r.to_ms - r.from_ms) / dur * w), h);
      const sel = drag || selection;
      if (sel) {
        ctx.fillStyle = 'rgba(179,38,30,.18)';
        const a = Math.min(sel.a, sel.b), b = Math.max(sel.a, sel.b);
        ctx.fillRect(a / dur * w, 0, (b - a) / dur * w, h);
      }
      // comments pinned to a moment: a line and the evaluation's number
      ctx.fillStyle = '#6a1b9a';
      for (const m of markers) {
        const x = m.at_ms / dur * w;
        ctx.fillRect(x, 0, 2, h);
        ctx.fillText(m.label, x + 3, h - 4);
      }
      ctx.fillStyle = '#9a6200';
      for (const d of dtmf || []) {
        const x = d.at_ms / dur * w;
        ctx.fillRect(x, 0, 2, 10);
        ctx.fillText(d.digit || '•', x + 3, 10);
      }
      ctx.fillStyle = '#b3261e';
      ctx.fillRect(audio.currentTime * 1000 / dur * w, 0, 2, h);
    }
  }

  function tick() {
    if (skipSilence && !audio.paused) {
      const t = audio.currentTime * 1000;
      const gap = both.find(([s, e]) => t >= s + 300 && t < e - 300);
      if (gap) audio.currentTime = (gap[1] - 300) / 1000;
    }
    draw();
    onTime && onTime(audio.currentTime, audio.duration);
    requestAnimationFrame(tick);
  }

  const msAt = (e) => {
    const r = canvas.getBoundingClientRect();
    return Math.max(0, Math.min(1, (e.clientX - r.left) / r.width)) * (audio.duration || 0) * 1000;
  };
  canvas.addEventListener('mousedown', (e) => { if (onSelect && audio.duration) drag = { a: msAt(e), b: msAt(e), x: e.clientX }; });
  canvas.addEventListener('mousemove', (e) => { if (drag) drag.b = msAt(e); });
  canvas.addEventListener('mouseup', (e) => {
    const d = drag;
    drag = null;
    if (d && Math.abs(e.clientX - d.x) > 4) { // a drag: a range, not a seek
      selection = { a: Math.min(d.a, msAt(e)), b: Math.max(d.a, msAt(e)) };
      onSelect(Math.round(selection.a), Math.round(selection.b));
      return;
    }
    if (!audio.duration) return;
    // a click on (or within 5 px of) a comment's marker seeks to the comment itself
    const r = canvas.getBoundingClientRect(), px = (e.clientX - r.left) / r.width * canvas.width;
    const near = markers.find((m) => Math.abs(m.at_ms / (audio.duration * 1000) * canvas.width - px) <= 5 * canvas.width / r.width);
    audio.currentTime = (near ? near.at_ms : msAt(e)) / 1000;
  });
  document.addEventListener('keydown', (e) => {
    if (['INPUT', 'TEXTAREA', 'SELECT'].includes(document.activeElement.tagName)) return;
    if (e.code === 'Space') { e.preventDefault(); audio.paused ? audio.play() : audio.pause(); }
    if (e.code === 'ArrowLeft') audio.currentTime = Math.max(0, audio.currentTime - 5);
    if (e.code === 'ArrowRight') audio.currentTime = Math.min(audio.duration || 0, audio.currentTime + 5);
  });
  requestAnimationFrame(tick);
  return {
    setSkip(v) { skipSilence = v; },
    seekMs(ms) { audio.currentTime = ms / 1000; },
    clearSelection() { selection = null; },
    setMarkers(list) { markers = list; }, // [{at_ms, label}]
    silences: both,
    overtalk,
  };
};
