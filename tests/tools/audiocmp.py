#!/usr/bin/env python3
"""Compares a decoded archive file with its source, channel by channel.

usage: audiocmp.py REF.wav REFCH OUT.wav OUTCH
Both files must be 16-bit PCM at the same rate (convert with sox/ffmpeg first).
Prints "level_db=<out-ref> lag_ms=<out-ref>" where lag comes from the
cross-correlation of 10 ms energy envelopes."""
import math
import struct
import sys
import wave


def channel(path, ch):
    w = wave.open(path, "rb")
    n, nch, rate = w.getnframes(), w.getnchannels(), w.getframerate()
    data = struct.unpack("<%dh" % (n * nch), w.readframes(n))
    return [x / 32768.0 for x in data[ch::nch]], rate


def envelope(x, rate):
    step = rate // 100
    return [math.sqrt(sum(v * v for v in x[i:i + step]) / step + 1e-12)
            for i in range(0, len(x) - step, step)]


def main():
    ref, rate = channel(sys.argv[1], int(sys.argv[2]))
    out, rate2 = channel(sys.argv[3], int(sys.argv[4]))
    assert rate == rate2, "rates differ"
    n = min(len(ref), len(out))
    rms = lambda x: math.sqrt(sum(v * v for v in x) / max(len(x), 1) + 1e-20)
    level = 20 * math.log10(rms(out[:n]) / rms(ref[:n]))
    a, b = envelope(ref[:n], rate), envelope(out[:n], rate)
    best, lag = -1.0, 0
    for k in range(-10, 11):  # +-100 ms
        s = sum(a[i] * b[i + k] for i in range(max(0, -k), min(len(a), len(b) - k)))
        if s > best:
            best, lag = s, k
    print("level_db=%.2f lag_ms=%d" % (level, lag * 10))


main()
