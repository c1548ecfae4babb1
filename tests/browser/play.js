// Reports, for the file named in ?src=: the <audio> element's duration, and
// Web Audio's decoded duration, channel count and per-channel RMS level.
(async function () {
  const out = document.getElementById('result');
  const src = new URLSearchParams(location.search).get('src');
  const report = {};
  try {
    const a = document.getElementById('a');
    await new Promise(function (resolve, reject) {
      a.addEventListener('loadedmetadata', resolve, { once: true });
      a.addEventListener('error', function () { reject(new Error('audio error ' + (a.error && a.error.code))); }, { once: true });
      a.src = src;
    });
    if (!isFinite(a.duration)) {
      await new Promise(function (resolve) { a.addEventListener('durationchange', resolve, { once: true }); });
    }
    report.element_duration = a.duration;
    const bytes = await (await fetch(src)).arrayBuffer();
    const ctx = new OfflineAudioContext(2, 48000, 48000);
    const buf = await ctx.decodeAudioData(bytes);
    report.decoded_duration = buf.duration;
    report.channels = buf.numberOfChannels;
    report.rms = [];
    for (let c = 0; c < buf.numberOfChannels; c++) {
      const d = buf.getChannelData(c);
      let s = 0;
      for (let i = 0; i < d.length; i++) s += d[i] * d[i];
      report.rms.push(Math.sqrt(s / d.length));
    }
  } catch (e) {
    report.error = String(e);
  }
  out.textContent = JSON.stringify(report);
  document.title = 'done';
})();
