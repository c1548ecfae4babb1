#!/usr/bin/env python3
"""Plays SIP calls over UDP on loopback at real-time pace, for live capture
tests: an answered call (caller sends a 400 Hz tone, callee 1000 Hz, G.711
u-law, 20 ms packets) and a call refused with 486 Busy Here. Sends to
127.0.0.1 only; nothing needs to listen. --dtmf T:SIDE:DIGITS sends RFC 4733
telephone-events from SIDE (caller or callee) at T seconds into the call;
--at T:COMMAND runs a shell command then (e.g. an API request).
usage: sipcall.py [--seconds S] [--call-id PREFIX] [--dtmf T:SIDE:DIGITS]... [--at T:CMD]..."""
import argparse
import math
import socket
import struct
import subprocess
import time

HOST = '127.0.0.1'


def ulaw(sample):
    """16-bit linear to G.711 u-law (the standard segment encoding)."""
    BIAS, CLIP = 0x84, 32635
    sign = 0x80 if sample < 0 else 0
    sample = min(abs(sample), CLIP) + BIAS
    exp = 7
    mask = 0x4000
    while exp > 0 and not sample & mask:
        exp -= 1
        mask >>= 1
    mant = (sample >> (exp + 3)) & 0x0F
    return ~(sign | (exp << 4) | mant) & 0xFF


def sdp(port):
    return ('v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n'
            f'm=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n'
            'a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n')


EVENTS = '0123456789*#ABCD'


def dtmf_plan(specs):
    """{packet index: [(side, payload, rtp_ts)]}: per digit five 20 ms event
    packets, then the end packet three times, then 60 ms apart."""
    plan = {}
    for spec in specs:
        t, side, digits = spec.split(':', 2)
        start = int(float(t) * 50)
        for k, d in enumerate(digits):
            s0 = start + k * 9
            for j in range(6):
                end = j == 5
                payload = struct.pack('!BBH', EVENTS.index(d), (0x80 if end else 0) | 10,
                                      160 * (j + 1))
                for _ in range(3 if end else 1):
                    plan.setdefault(s0 + j, []).append((side, payload, s0 * 160))
    return plan


def msg(first, call_id, cseq, to_tag=None, body=''):
    to = '<sip:101@127.0.0.1>' + (f';tag={to_tag}' if to_tag else '')
    return (f'{first}\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK{call_id}{cseq}\r\n'
            f'From: <sip:+4930123456@127.0.0.1>;tag=caller\r\nTo: {to}\r\nCall-ID: {call_id}\r\n'
            f'CSeq: {cseq}\r\nUser-Agent: sipcall.py\r\n'
            + ('Content-Type: application/sdp\r\n' if body else '')
            + f'Content-Length: {len(body)}\r\n\r\n{body}').encode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--seconds', type=float, default=3.0)
    ap.add_argument('--call-id', default='live')
    ap.add_argument('--no-bye', action='store_true',
                    help='the answered call just stops sending (it must end by RTP timeout)')
    ap.add_argument('--dtmf', action='append', default=[], help='T:caller|callee:DIGITS')
    ap.add_argument('--at', action='append', default=[], help='T:shell command')
    a = ap.parse_args()
    plan = dtmf_plan(a.dtmf)
    hooks = {}
    for spec in a.at:
        t, cmd = spec.split(':', 1)
        hooks.setdefault(int(float(t) * 50), []).append(cmd)
    running = []
    ev_seq = {'caller': 0, 'callee': 0}
    sip_caller = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sip_caller.bind((HOST, 5062))
    sip_pbx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sip_pbx.bind((HOST, 5060))
    rtp_caller = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtp_caller.bind((HOST, 20002))
    rtp_callee = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtp_callee.bind((HOST, 20000))
    to_pbx, to_caller = (HOST, 5060), (HOST, 5062)

    cid = f'{a.call_id}-answered@127.0.0.1'
    sip_caller.sendto(msg('INVITE sip:101@127.0.0.1 SIP/2.0', cid, '1 INVITE', body=sdp(20002)), to_pbx)
    time.sleep(0.05)
    sip_pbx.sendto(msg('SIP/2.0 180 Ringing', cid, '1 INVITE', 'callee'), to_caller)
    time.sleep(0.5)
    sip_pbx.sendto(msg('SIP/2.0 200 OK', cid, '1 INVITE', 'callee', sdp(20000)), to_caller)
    sip_caller.sendto(msg('ACK sip:101@127.0.0.1 SIP/2.0', cid, '1 ACK', 'callee'), to_pbx)
    start = time.monotonic()
    n = int(a.seconds * 50)
    for i in range(n):
        for sock, dst, hz, ssrc in ((rtp_caller, (HOST, 20000), 400, 0x1111),
                                    (rtp_callee, (HOST, 20002), 1000, 0x2222)):
            payload = bytes(ulaw(int(8000 * math.sin(2 * math.pi * hz * (i * 160 + k) / 8000)))
                            for k in range(160))
            sock.sendto(struct.pack('!BBHII', 0x80, 0, i & 0xFFFF, i * 160, ssrc) + payload, dst)
        for side, payload, ts in plan.get(i, []):
            sock, dst, ssrc = ((rtp_caller, (HOST, 20000), 0x3333) if side == 'caller'
                               else (rtp_callee, (HOST, 20002), 0x4444))
            ev_seq[side] += 1
            sock.sendto(struct.pack('!BBHII', 0x80, 101, ev_seq[side] & 0xFFFF, ts, ssrc) + payload,
                        dst)
        for cmd in hooks.get(i, []):
            running.append(subprocess.Popen(cmd, shell=True))
        delay = start + (i + 1) * 0.02 - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    for p in running:
        p.wait()
    if not a.no_bye:
        sip_caller.sendto(msg('BYE sip:101@127.0.0.1 SIP/2.0', cid, '2 BYE', 'callee'), to_pbx)
        sip_pbx.sendto(msg('SIP/2.0 200 OK', cid, '2 BYE', 'callee'), to_caller)

    cid = f'{a.call_id}-busy@127.0.0.1'
    sip_caller.sendto(msg('INVITE sip:101@127.0.0.1 SIP/2.0', cid, '1 INVITE', body=sdp(20004)), to_pbx)
    time.sleep(0.05)
    sip_pbx.sendto(msg('SIP/2.0 486 Busy Here', cid, '1 INVITE', 'callee'), to_caller)
    sip_caller.sendto(msg('ACK sip:101@127.0.0.1 SIP/2.0', cid, '1 ACK', 'callee'), to_pbx)


main()
