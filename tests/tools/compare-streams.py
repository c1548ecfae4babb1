#!/usr/bin/env python3
"""Compares the RTP streams earshot recorded with tshark's view of the same capture.

usage: compare-streams.py CAPTURE CALLS.jsonl [--heuristic] [--except SSRC,...] [--stray N]

CALLS.jsonl is `earshot ls --json` (or show --json lines) of the calls made from
CAPTURE. Every stream tshark lists (`-z rtp,streams`; with --heuristic also RTP
no SDP set up) must be in exactly one call, keyed by source, destination and
SSRC, with the same packet count, lost count and maximum delta (and jitter
where tshark knows the clock), or, with --stray N, in no call at all if such
streams add up to the N packets earshot reported as stray RTP (with --video,
to the video packets the calls counted). Streams named by --except (T.38, SRTP) are
skipped and listed as such. Prints one line per stream; exit 1 on any mismatch.
"""
import argparse
import json
import re
import subprocess
import sys

# the payload column may list several types ("g711A, CN, RTPType-100")
LINE = re.compile(r'\s*[\d.]+\s+[\d.]+\s+(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\s+0x([0-9A-F]+)\s+.+?\s+(\d+)\s+'
                  r'(-?\d+)\s+\(.*?\)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(-?[\d.]+)\s+([\d.]+)\s+([\d.]+)')


def endpoint(addr, port):
    return f'[{addr}]:{port}' if ':' in addr else f'{addr}:{port}'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('capture')
    ap.add_argument('calls')
    ap.add_argument('--heuristic', action='store_true')
    ap.add_argument('--except', dest='skip', default='')
    ap.add_argument('--video', action='store_true',
                    help="streams in no call are the calls' video: they must add up to video_packets")
    ap.add_argument('--stray', type=int, default=0,
                    help='packets earshot counted as stray RTP: streams in no call must add up to it')
    a = ap.parse_args()
    capture, calls, heuristic = a.capture, a.calls, a.heuristic
    skip = {int(x, 16) for x in a.skip.split(',') if x}
    ours = {}
    video_packets = 0
    for line in open(calls):
        call = json.loads(line)
        video_packets += call.get('video_packets') or call.get('details', {}).get('video_packets') or 0
        for s in call.get('rtp') or call.get('details', {}).get('rtp') or []:
            key = (s['src'], s['dst'], s['ssrc'])
            ours.setdefault(key, []).append((call['id'], s))
    cmd = ['tshark', '-r', capture, '-q', '-z', 'rtp,streams']
    if heuristic:
        cmd[4:4] = ['-o', 'rtp.heuristic_rtp:TRUE']
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    bad = 0
    seen = set()
    stray = 0
    video = 0
    for line in out.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        ssrc = int(m.group(5), 16)
        key = (endpoint(m.group(1), m.group(2)), endpoint(m.group(3), m.group(4)), ssrc)
        seen.add(key)
        if ssrc in skip:
            print(f'{key}: skipped (not audio RTP)')
            continue
        found = ours.get(key, [])
        if not found and a.video:
            video += int(m.group(6))
            print(f'{key}: video, not audio ({m.group(6)} packets)')
            continue
        if not found and a.stray:
            stray += int(m.group(6))
            print(f'{key}: in no call, stray RTP ({m.group(6)} packets)')
            continue
        if len(found) != 1:
            print(f'{key}: in {len(found)} calls, want exactly 1')
            bad += 1
            continue
        s = found[0][1]
        want = dict(packets=int(m.group(6)), lost=int(m.group(7)), max_delta_ms=float(m.group(10)))
        got = dict(packets=s['packets'], lost=s['lost'], max_delta_ms=s['max_delta_ms'])
        if float(m.group(11)) >= 0:  # tshark knows the clock: jitter too
            want.update(jitter_ms=float(m.group(12)), max_jitter_ms=float(m.group(13)))
            got.update(jitter_ms=s['jitter_ms'], max_jitter_ms=s['max_jitter_ms'])
        diff = [k for k in want if abs(want[k] - got[k]) > 0.0015]
        for k in diff:
            print(f'{key} {k}: ours {got[k]} tshark {want[k]}')
        bad += len(diff)
        if not diff:
            print(f'{key}: {got} as tshark')
    for key in ours:
        if key not in seen and key[2] not in skip:
            print(f'{key}: ours only, tshark lists no such stream')
            bad += 1
    if a.video and video != video_packets:
        print(f'video: {video} packets in streams of no call, the calls counted {video_packets}')
        bad += 1
    if stray != a.stray:
        print(f'stray RTP: {stray} packets in streams of no call, earshot counted {a.stray}')
        bad += 1
    sys.exit(1 if bad else 0)


main()
