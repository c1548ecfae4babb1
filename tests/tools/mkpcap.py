#!/usr/bin/env python3
"""Writes pcap captures of SIP calls made from WAV files, for the recorder's
tests and benchmark. Every scenario is reproducible from --seed.

usage: mkpcap.py OUT.pcap [--calls N] [--seconds S] [--codec pcmu|pcma|g722|gsm|opus|l16|
                 l16-stereo|speex|speex-wb|g726-16|g726-24|g726-32|g726-40|aal2-g726-32|
                 g723|amr|amr-be|amr-wb|amr-wb-be]
                 [--customer WAV] [--operator WAV] [--loss P] [--reorder P]
                 [--duplicate P] [--jitter MS] [--ssrc-change S] [--reinvite S]
                 [--reinvite-codec CODEC]
                 [--hold S] [--dtmf DIGITS] [--dtmf-side 0|1] [--vlan ID] [--ipv6] [--fragment]
                 [--encap pppoe|mpls|ipip|ip6ip|gre|erspan2|erspan3|vxlan]
                 [--tcp] [--missed REASON] [--stagger MS]

The caller (customer, sip:+4930...) calls the operator (sip:10x); the
customer's WAV is sent caller->callee, the operator's callee->caller, in 20 ms
packets (G.711 by Python's audioop; G.722, GSM, Opus, Speex, G.726, G.723.1 and L16
by ffmpeg; AMR and AMR-WB by opencore-amrnb and vo-amrwbenc, in both RFC 4867 formats). --missed makes every call fail: cancel, busy, noanswer,
declined, unavailable, or a SIP status code. A JSON line per call goes to
stdout: what the capture holds, for tests to compare with.
"""
import argparse
import json
import os
import random
import struct
import subprocess
import sys
import wave

import warnings

with warnings.catch_warnings():
    warnings.simplefilter('ignore', DeprecationWarning)
    import audioop  # G.711 encoders; in the standard library up to Python 3.12


def read_wav(path, seconds):
    w = wave.open(path, 'rb')
    assert w.getsampwidth() == 2 and w.getnchannels() == 1 and w.getframerate() == 8000, \
        f'{path}: need 8 kHz 16-bit mono'
    data = w.readframes(w.getnframes())
    need = int(seconds * 8000) * 2
    while len(data) < need:
        data += data
    return data[:need]


# SDP format parameters a codec needs
CODEC_FMTP = {'amr': 'octet-align=1', 'amr-wb': 'octet-align=1'}

# name: (payload type, rtpmap, RTP clock per second)
CODECS = {'pcmu': (0, 'PCMU/8000', 8000), 'pcma': (8, 'PCMA/8000', 8000),
          'g722': (9, 'G722/8000', 8000), 'gsm': (3, 'GSM/8000', 8000),
          'opus': (111, 'opus/48000/2', 48000),
          'l16': (96, 'L16/16000', 16000), 'l16-stereo': (96, 'L16/8000/2', 8000),
          'speex': (97, 'speex/8000', 8000), 'speex-wb': (97, 'speex/16000', 16000),
          'g726-16': (98, 'G726-16/8000', 8000), 'g726-24': (98, 'G726-24/8000', 8000),
          'g726-32': (2, 'G726-32/8000', 8000), 'g726-40': (98, 'G726-40/8000', 8000),
          'aal2-g726-32': (98, 'AAL2-G726-32/8000', 8000),
          'g723': (4, 'G723/8000', 8000),
          'amr': (99, 'AMR/8000', 8000), 'amr-be': (99, 'AMR/8000', 8000),
          'amr-wb': (100, 'AMR-WB/16000', 16000), 'amr-wb-be': (100, 'AMR-WB/16000', 16000)}


def ptime(codec):
    """Seconds of audio in one packet: 20 ms, but G.723.1's frames are 30 ms."""
    return 0.03 if codec == 'g723' else 0.02


def ffmpeg(pcm, rate, args):
    return subprocess.run(['ffmpeg', '-v', 'error', '-f', 's16le', '-ar', '8000', '-ac', '1', '-i', '-',
                           '-ar', str(rate)] + args + ['-'], input=pcm, capture_output=True,
                          check=True).stdout


def amr_storage_frames(pcm, wide):
    """Speech in the AMR / AMR-WB storage format (a header byte, then the bits),
    one 20 ms frame each, from the encoders Debian ships (opencore-amrnb,
    vo-amrwbenc) through ctypes."""
    import ctypes
    if wide:
        lib = ctypes.CDLL('libvo-amrwbenc.so.0')
        lib.E_IF_init.restype = ctypes.c_void_p
        st = lib.E_IF_init()
        pcm = ffmpeg(pcm, 16000, ['-f', 's16le'])
        size, mode = 640, 2  # 12.65 kb/s
    else:
        lib = ctypes.CDLL('libopencore-amrnb.so.0')
        lib.Encoder_Interface_init.restype = ctypes.c_void_p
        st = lib.Encoder_Interface_init(0)
        size, mode = 320, 7  # 12.2 kb/s
    out = []
    buf = ctypes.create_string_buffer(128)
    for i in range(len(pcm) // size):
        speech = (ctypes.c_short * (size // 2)).from_buffer_copy(pcm[i * size:(i + 1) * size])
        if wide:
            n = lib.E_IF_encode(ctypes.c_void_p(st), mode, speech, buf, 0)
        else:
            n = lib.Encoder_Interface_Encode(ctypes.c_void_p(st), mode, speech, buf, 0)
        out.append(buf.raw[:n])
    return out


def amr_payload(frame, wide, octet_aligned):
    """One storage-format frame as an RFC 4867 payload."""
    ft, q = frame[0] >> 3 & 15, frame[0] >> 2 & 1
    nbits = ([132, 177, 253, 285, 317, 365, 397, 461, 477, 40] if wide else
             [95, 103, 118, 134, 148, 159, 204, 244, 39])[ft]
    if octet_aligned:  # CMR byte (15: no request), ToC byte, the frame padded to a byte
        return bytes([0xf0, ft << 3 | q << 2]) + frame[1:]
    bits = '1111' + '0' + format(ft, '04b') + str(q)  # CMR, ToC: F=0, FT, Q
    bits += ''.join(format(b, '08b') for b in frame[1:])[:nbits]
    bits += '0' * (-len(bits) % 8)
    return bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))


def ogg_packets(data):
    """The packets of an Ogg stream (one logical stream), in order."""
    packets, cur, pos = [], b'', 0
    while pos + 27 <= len(data) and data[pos:pos + 4] == b'OggS':
        nseg = data[pos + 26]
        lacing = data[pos + 27:pos + 27 + nseg]
        body = pos + 27 + nseg
        for l in lacing:
            cur += data[body:body + l]
            body += l
            if l < 255:
                packets.append(cur)
                cur = b''
        pos = body
    return packets


def frames(pcm, codec, n):
    """n RTP payloads (ptime each) of 8 kHz 16-bit mono pcm in codec."""
    if codec in ('pcmu', 'pcma'):
        f = audioop.lin2ulaw if codec == 'pcmu' else audioop.lin2alaw
        return [f(pcm[i * 320:(i + 1) * 320], 2) for i in range(n)]
    if codec == 'l16':
        out = ffmpeg(pcm, 16000, ['-f', 's16be'])
        return [out[i * 640:(i + 1) * 640] for i in range(n)]
    if codec == 'l16-stereo':  # the same voice on both channels, big-endian
        mono = struct.unpack('<%dh' % (len(pcm) // 2), pcm)
        out = struct.pack('>%dh' % (2 * len(mono)), *[v for v in mono for _ in (0, 1)])
        return [out[i * 640:(i + 1) * 640] for i in range(n)]
    if codec.startswith('speex'):
        rate = 16000 if codec == 'speex-wb' else 8000
        out = ffmpeg(pcm, rate, ['-c:a', 'libspeex', '-f', 'ogg'])
        return ogg_packets(out)[2:2 + n]  # after the Speex header and comments
    if 'g726' in codec:
        kbps = int(codec[-2:])
        fmt = 'g726' if codec.startswith('aal2') else 'g726le'
        out = ffmpeg(pcm, 8000, ['-c:a', fmt, '-b:a', f'{kbps}k', '-f', fmt])
        size = kbps * 20 // 8
        return [out[i * size:(i + 1) * size] for i in range(n)]
    if codec == 'g723':
        out = ffmpeg(pcm, 8000, ['-c:a', 'g723_1', '-b:a', '6300', '-f', 'g723_1'])
        return [out[i * 24:(i + 1) * 24] for i in range(n)]
    if codec.startswith('amr'):
        wide = codec.startswith('amr-wb')
        fr = amr_storage_frames(pcm, wide)
        return [amr_payload(fr[i], wide, not codec.endswith('-be')) for i in range(n)]
    args = {'g722': ['-ar', '16000', '-c:a', 'g722', '-f', 'g722'],
            'gsm': ['-c:a', 'libgsm', '-f', 'gsm'],
            'opus': ['-ar', '48000', '-c:a', 'libopus', '-b:a', '24k', '-frame_duration', '20',
                     '-application', 'voip', '-f', 'ogg']}[codec]
    out = subprocess.run(['ffmpeg', '-v', 'error', '-f', 's16le', '-ar', '8000', '-ac', '1',
                          '-i', '-'] + args + ['-'], input=pcm, capture_output=True, check=True).stdout
    if codec == 'opus':
        return ogg_packets(out)[2:2 + n]  # after OpusHead and OpusTags
    size = 160 if codec == 'g722' else 33
    return [out[i * size:(i + 1) * size] for i in range(n)]


def csum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ipv4_header(proto, payload, src=b'\xc0\0\x02\x01', dst=b'\xc0\0\x02\x02'):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), 7, 0, 64, proto, 0, src, dst)
    return h[:10] + struct.pack('!H', csum(h)) + h[12:]


def encapsulate(encap, etype, ip_packet):
    """(ethertype, bytes) of ip_packet (of ethertype etype) in a tunnel, as
    mirror ports, DSL lines and overlay networks deliver it."""
    inner_v6 = etype == 0x86dd
    ether = b'\x02\0\0\0\0\x04\x02\0\0\0\0\x03' + struct.pack('!H', etype) + ip_packet
    if not encap:
        return etype, ip_packet
    if encap == 'pppoe':
        ppp = struct.pack('!H', 0x0057 if inner_v6 else 0x0021) + ip_packet
        return 0x8864, struct.pack('!BBHH', 0x11, 0, 0x0001, len(ppp)) + ppp
    if encap == 'mpls':  # two labels, the second the bottom of the stack
        return 0x8847, struct.pack('!II', (1000 << 12) | 64, (2000 << 12) | 0x100 | 64) + ip_packet
    if encap == 'ipip':
        return 0x0800, ipv4_header(41 if inner_v6 else 4, ip_packet) + ip_packet
    if encap == 'ip6ip':
        src, dst = bytes.fromhex('20010db8ffff' + '0' * 18 + '01'), bytes.fromhex('20010db8ffff' + '0' * 18 + '02')
        return 0x86dd, struct.pack('!IHBB', 0x60000000, len(ip_packet), 41 if inner_v6 else 4, 64) + src + dst + ip_packet
    if encap == 'gre':
        g = struct.pack('!HH', 0, etype) + ip_packet
        return 0x0800, ipv4_header(47, g) + g
    if encap == 'erspan2':  # GRE with a sequence number, ERSPAN II header, the frame
        g = struct.pack('!HHI', 0x1000, 0x88be, 1) + struct.pack('!II', 0x10000000 | 7, 0) + ether
        return 0x0800, ipv4_header(47, g) + g
    if encap == 'erspan3':  # ERSPAN III: 12-byte header (no platform subheader)
        g = struct.pack('!HHI', 0x1000, 0x22eb, 1) + struct.pack('!III', 0x20000000 | 7, 0, 0) + ether
        return 0x0800, ipv4_header(47, g) + g
    if encap == 'vxlan':
        v = struct.pack('!II', 0x08000000, 42 << 8) + ether
        u = struct.pack('!HHHH', 49152, 4789, 8 + len(v), 0) + v
        return 0x0800, ipv4_header(17, u) + u
    raise SystemExit(f'mkpcap: unknown --encap {encap}')


class Writer:
    def __init__(self, path, vlan, ipv6, encap=''):
        self.f = open(path, 'wb')
        self.f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        self.vlan, self.ipv6, self.encap = vlan, ipv6, encap
        self.ipid = 1
        self.tcp_seq = {}
        self.records = []

    def ip(self, n):
        """Host number n as an address: 10.0.x.y, or 2001:db8::n in hex."""
        return (f'2001:db8::{n:x}' if self.ipv6 else f'10.0.{n >> 8}.{n & 255}')

    def frame(self, t, ip_packet):
        etype = 0x86dd if self.ipv6 else 0x0800
        etype, ip_packet = encapsulate(self.encap, etype, ip_packet)
        eth = b'\x02\0\0\0\0\x02' + b'\x02\0\0\0\0\x01'
        if self.vlan:
            eth += struct.pack('!HHH', 0x8100, self.vlan, etype)
        else:
            eth += struct.pack('!H', etype)
        self.records.append((t, eth + ip_packet))

    def ip_packets(self, src, dst, proto, payload, fragment_mtu=None):
        if self.ipv6:
            s = bytes.fromhex('20010db8' + '0' * 20 + '%04x' % src)
            d = bytes.fromhex('20010db8' + '0' * 20 + '%04x' % dst)
            return [struct.pack('!IHBB', 0x60000000, len(payload), proto, 64) + s + d + payload]
        s, d = bytes([10, 0, src >> 8, src & 255]), bytes([10, 0, dst >> 8, dst & 255])
        self.ipid = (self.ipid + 1) & 0xffff
        if not fragment_mtu or len(payload) + 20 <= fragment_mtu:
            h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), self.ipid, 0, 64, proto, 0, s, d)
            h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
            return [h + payload]
        out, off, step = [], 0, (fragment_mtu - 20) // 8 * 8
        while off < len(payload):
            chunk = payload[off:off + step]
            more = off + step < len(payload)
            h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(chunk), self.ipid,
                            (0x2000 if more else 0) | off // 8, 64, proto, 0, s, d)
            h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
            out.append(h + chunk)
            off += step
        return out

    def udp(self, t, src, sport, dst, dport, payload, fragment=False):
        seg = struct.pack('!HHHH', sport, dport, 8 + len(payload), 0) + payload
        for p in self.ip_packets(src, dst, 17, seg, 576 if fragment else None):
            self.frame(t, p)

    def tcp(self, t, src, sport, dst, dport, payload):
        key = (src, sport, dst, dport)
        if key not in self.tcp_seq:
            self.tcp_seq[key] = 1000
            self.frame(t, self.ip_packets(src, dst, 6, struct.pack('!HHIIBBHHH', sport, dport, 999, 0, 0x50, 0x02, 65535, 0, 0))[0])
        # split each message in two segments to exercise reassembly
        half = len(payload) // 2
        for part in (payload[:half], payload[half:]):
            seq = self.tcp_seq[key]
            seg = struct.pack('!HHIIBBHHH', sport, dport, seq, 1, 0x50, 0x18, 65535, 0, 0) + part
            self.frame(t, self.ip_packets(src, dst, 6, seg)[0])
            self.tcp_seq[key] = seq + len(part)

    def close(self):
        self.records.sort(key=lambda r: r[0])
        for t, data in self.records:
            sec = int(t)
            self.f.write(struct.pack('<IIII', sec, int(round((t - sec) * 1e6)), len(data), len(data)))
            self.f.write(data)
        self.f.close()


MISSED = {'cancel': None, 'busy': 486, 'noanswer': 480, 'declined': 603, 'unavailable': 503}
REASON = {'cancel': 'abandoned', 'busy': 'busy', 'noanswer': 'no-answer', 'declined': 'declined',
          'unavailable': 'unavailable'}


def sdp(w, host, port, codec, direction='sendrecv', pad=0, video=None, t38=False):
    """An SDP body offering codec (plus telephone-event) at host:port, with a
    video stream at port + 10, or (t38) audio refused and a T.38 fax at port."""
    pt, name, _ = CODECS[codec]
    fam = 'IP6' if w.ipv6 else 'IP4'
    extra = ''.join(f'a=x-padding-{i}:{"x" * 60}\r\n' for i in range(pad))
    fmtp = f'a=fmtp:{pt} {CODEC_FMTP[codec]}\r\n' if codec in CODEC_FMTP else ''
    head = f'v=0\r\no=- 1 1 IN {fam} {w.ip(host)}\r\ns=-\r\nc=IN {fam} {w.ip(host)}\r\nt=0 0\r\n'
    if t38:
        return (head + f'm=audio 0 RTP/AVP {pt}\r\nm=image {port} udptl t38\r\n'
                'a=T38FaxVersion:0\r\na=T38FaxRateManagement:transferredTCF\r\n')
    body = (head + f'm=audio {port} RTP/AVP {pt} 101\r\na=rtpmap:{pt} {name}\r\n{fmtp}'
            f'a=rtpmap:101 telephone-event/8000\r\na={direction}\r\n{extra}')
    if video == 'h263':
        body += f'm=video {port + 10} RTP/AVP 34\r\na=rtpmap:34 H263/90000\r\n'
    elif video:
        body += f'm=video {port + 10} RTP/AVP 96\r\na=rtpmap:96 {video.upper()}/90000\r\n'
    return body


def sip(first, call_id, cseq, caller, callee, to_tag=None, body='', transport='UDP'):
    to = f'<sip:{callee}@pbx>' + (f';tag={to_tag}' if to_tag else '')
    return (f'{first}\r\nVia: SIP/2.0/{transport} 10.0.0.1;branch=z9hG4bK{call_id}{cseq.split()[0]}\r\n'
            f'From: <sip:{caller}@pbx>;tag=c{call_id}\r\nTo: {to}\r\nCall-ID: {call_id}\r\n'
            f'CSeq: {cseq}\r\nUser-Agent: mkpcap\r\n'
            + ('Content-Type: application/sdp\r\n' if body else '')
            + f'Content-Length: {len(body.encode())}\r\n\r\n{body}').encode()


def make_call(w, a, rng, n, t0, enc):
    caller, callee = f'+49301{n:06d}', str(100 + n % 100)
    cid = f'call{n}-{a.seed}'
    hc, ho = 1, 2  # caller host .1, callee host .2
    cport, oport = 20000 + 4 * n % 40000, 40000 + 4 * n % 20000
    sp, cp = a.sip_port, a.caller_sip_port
    send = (lambda t, s, d, p: w.tcp(t, s, cp, d, sp, p) if d == 2 else w.tcp(t, s, sp, d, cp, p)) \
        if a.tcp else \
        (lambda t, s, d, p: w.udp(t, s, cp, d, sp, p, fragment=a.fragment) if d == 2
         else w.udp(t, s, sp, d, cp, p, fragment=a.fragment))
    tr = 'TCP' if a.tcp else 'UDP'
    pad = 30 if a.fragment else 0
    t = t0
    hm = a.media_host or hc  # where the caller's side receives (and sends) RTP
    if a.challenge:  # asked for credentials first; the INVITE below carries them
        send(t - 0.2, hc, ho, sip('INVITE sip:%s@pbx SIP/2.0' % callee, cid, '0 INVITE', caller, callee,
                                  body=sdp(w, hm, cport, a.codec, pad=pad), transport=tr))
        send(t - 0.19, ho, hc, sip(f'SIP/2.0 {a.challenge} Authentication Required', cid, '0 INVITE',
                                   caller, callee, 'ch', transport=tr))
        send(t - 0.18, hc, ho, sip('ACK sip:%s@pbx SIP/2.0' % callee, cid, '0 ACK', caller, callee, 'ch',
                                   transport=tr))
    send(t, hc, ho, sip('INVITE sip:%s@pbx SIP/2.0' % callee, cid, '1 INVITE', caller, callee,
                        body=sdp(w, hm, cport, a.codec, pad=pad, video=a.video), transport=tr))
    if a.stray_early:
        # ringback from a media server to a port no SDP names
        for i in range(a.stray_early):
            pkt = struct.pack('!BBHII', 0x80, 0, 100 + i, 8000 + 160 * i, 0x5EED) + b'\xff' * 160
            w.udp(t + 0.1 + i * 0.02, 7, 31000, hc, cport + 100, pkt)
    send(t + 0.05, ho, hc, sip('SIP/2.0 180 Ringing', cid, '1 INVITE', caller, callee, 't', transport=tr))
    info = {'call_id': cid, 'caller': caller, 'callee': callee}
    if a.missed:
        end = t + 2
        if a.missed == 'cancel':
            send(end, hc, ho, sip('CANCEL sip:%s@pbx SIP/2.0' % callee, cid, '1 CANCEL', caller, callee, transport=tr))
            send(end + 0.01, ho, hc, sip('SIP/2.0 487 Request Terminated', cid, '1 INVITE', caller, callee, 't', transport=tr))
        else:
            code = MISSED.get(a.missed) or int(a.missed)
            send(end, ho, hc, sip(f'SIP/2.0 {code} Nope', cid, '1 INVITE', caller, callee, 't', transport=tr))
        info.update(disposition='missed', reason=REASON.get(a.missed, f'failed:{a.missed}'))
        return info
    ans = t + 0.5
    send(ans, ho, hc, sip('SIP/2.0 200 OK', cid, '1 INVITE', caller, callee, 't',
                          body=sdp(w, ho, oport, a.codec, video=a.video), transport=tr))
    send(ans + 0.01, hc, ho, sip('ACK sip:%s@pbx SIP/2.0' % callee, cid, '1 ACK', caller, callee, 't', transport=tr))
    start = ans + a.rtp_delay
    ps = ptime(a.codec)
    npk = int(round(a.seconds / ps))
    bye = start + npk * ps + 0.1
    lost = {0: set(), 1: set()}
    sent = {0: 0, 1: 0}
    for side, (src, dst, dport) in enumerate(((hm, ho, oport), (ho, hm, cport))):
        ssrc, seq0, ts0 = 0x1000 + n * 2 + side, rng.randrange(65536), rng.randrange(1 << 31)
        sport = cport if side == 0 else oport
        for i in range(npk):
            codec = a.codec
            if a.reinvite and i * ps >= a.reinvite:
                codec = a.reinvite_codec or a.codec  # both sides move to the new codec
                if side == 0:
                    dport = oport + 2
            pt, _, clock = CODECS[codec]
            step = int(round(clock * ps))
            t_send = start + i * ps
            seq, ts = (seq0 + i) & 0xffff, (ts0 + i * step) & 0xffffffff
            if a.ssrc_change and side == 0 and i * ps >= a.ssrc_change:
                ssrc, ts = 0x9000 + n, (ts0 + 777777 + i * step) & 0xffffffff
            if a.t38 and i * ps >= a.t38:
                break  # the fax takes over: no more audio
            if rng.random() < a.loss:
                lost[side].add(i)
                continue
            arrive = t_send + (rng.uniform(0, a.jitter / 1000) if a.jitter else 0)
            if side == 1 and i >= npk - a.late_rtp:
                arrive = bye + a.late_ms / 1000 + (i - (npk - a.late_rtp)) * 0.001  # after the BYE
            if rng.random() < a.reorder:
                arrive += 0.045  # lands after the next two packets
            payload = enc[codec][side][i]
            pkt = struct.pack('!BBHII', 0x80, pt, seq, ts, ssrc) + payload
            w.udp(arrive, src, sport, dst, dport, pkt)
            if a.copy_via:
                # the same packet seen again after NAT: the media host's address
                # and port translated, 0.2 ms later (or earlier)
                dt = -0.0002 if a.copy_first else 0.0002
                if side == 0:
                    w.udp(arrive + dt, a.copy_via, sport + 1000, dst, dport, pkt)
                else:
                    w.udp(arrive + dt, src, sport, a.copy_via, dport + 1000, pkt)
            sent[side] += 1
            if rng.random() < a.duplicate:
                w.udp(arrive + 0.001, src, sport, dst, dport, pkt)
        if a.dtmf and side == a.dtmf_side:
            for k, digit in enumerate(a.dtmf):
                ev = '0123456789*#'.index(digit)
                t_ev = start + 1.0 + k * 0.5
                for j, dur in enumerate((400, 800, 1120, 1120, 1120)):
                    end = j >= 2
                    body = struct.pack('!BBH', ev, (0x80 if end else 0) | 10, dur)
                    pk = struct.pack('!BBHII', 0x80, 101, (seq0 + 60000 + k * 5 + j) & 0xffff,
                                     (ts0 + 50 + k * 4000) & 0xffffffff, ssrc + 0x100) + body
                    w.udp(t_ev + j * 0.02, src, sport, dst, dport, pk)
    if a.reinvite:
        tre = start + a.reinvite - 0.01
        nc = a.reinvite_codec or a.codec
        send(tre, hc, ho, sip('INVITE sip:%s@pbx SIP/2.0' % callee, cid, '2 INVITE', caller, callee, 't',
                              body=sdp(w, hc, cport, nc), transport=tr))
        send(tre + 0.005, ho, hc, sip('SIP/2.0 200 OK', cid, '2 INVITE', caller, callee, 't',
                                      body=sdp(w, ho, oport + 2, nc), transport=tr))
    if a.video:  # 30 frames a second each way, payload type 96 (34 for H.263)
        vpt = 34 if a.video == 'h263' else 96
        for side, (src, dst, sport, dport) in enumerate(((hm, ho, cport + 10, oport + 10),
                                                         (ho, hm, oport + 10, cport + 10))):
            for i in range(int(a.seconds * 30)):
                pk = struct.pack('!BBHII', 0x80, vpt, (500 + i) & 0xffff, i * 3000, 0x7000 + side) + \
                    bytes(rng.randrange(256) for _ in range(200))
                w.udp(start + i / 30 + 0.003, src, sport, dst, dport, pk)
    if a.t38:  # re-INVITE to T.38 on the same ports, then UDPTL both ways
        tre = start + a.t38 - 0.01
        send(tre, hc, ho, sip('INVITE sip:%s@pbx SIP/2.0' % callee, cid, '2 INVITE', caller, callee, 't',
                              body=sdp(w, hm, cport, a.codec, t38=True), transport=tr))
        send(tre + 0.005, ho, hc, sip('SIP/2.0 200 OK', cid, '2 INVITE', caller, callee, 't',
                                      body=sdp(w, ho, oport, a.codec, t38=True), transport=tr))
        n38 = 0
        for side, (src, dst, sport, dport) in enumerate(((hm, ho, cport, oport), (ho, hm, oport, cport))):
            t = start + a.t38
            # sequence numbers from 0x8000: the first byte looks like RTP version 2
            for i in range(int((a.seconds - a.t38) / 0.03)):
                ifp = bytes(rng.randrange(256) for _ in range(20))
                pk = struct.pack('!HB', 0x8000 + i, len(ifp)) + ifp + b'\x00'
                w.udp(t + i * 0.03, src, sport, dst, dport, pk)
                n38 += 1
        info['t38_packets'] = n38
    if a.hold:
        th = start + a.hold
        send(th, hc, ho, sip('INVITE sip:%s@pbx SIP/2.0' % callee, cid, '3 INVITE', caller, callee, 't',
                             body=sdp(w, hc, cport, a.codec, 'sendonly'), transport=tr))
    send(bye, hc, ho, sip('BYE sip:%s@pbx SIP/2.0' % callee, cid, '4 BYE', caller, callee, 't', transport=tr))
    send(bye + 0.01, ho, hc, sip('SIP/2.0 200 OK', cid, '4 BYE', caller, callee, 't', transport=tr))
    info.update(disposition='answered', seconds=npk * ps, lost=[sorted(lost[0]), sorted(lost[1])],
                packets=[sent[0], sent[1]], start=start)
    return info


def scan(w, a, rng):
    """A SIP scanner's flood: INVITEs with unique Call-IDs to random extensions
    from --scanner-hosts addresses, spread over the calls' time, answered with
    --scanner-code by the PBX (.2) or not at all."""
    span = max(a.seconds + a.calls * a.stagger / 1000, 1)
    for i in range(a.scanners):
        t = 1700000000 + span * i / a.scanners
        src = 100 + i % a.scanner_hosts
        cid, ext = f'scan{i}-{rng.randrange(1 << 30)}', str(rng.randrange(100, 99999))
        w.udp(t, src, 5070, 2, 5060, sip(f'INVITE sip:{ext}@pbx SIP/2.0', cid, '1 INVITE', 'scanner', ext,
                                           body=sdp(w, src, 40000, 'pcmu')))
        if a.scanner_code:
            w.udp(t + 0.001, 2, 5060, src, 5070, sip(f'SIP/2.0 {a.scanner_code} Go away', cid, '1 INVITE',
                                                       'scanner', ext, 'x'))


def sounds_dir():
    """The PBX prompts directory: $ES_SOUNDS, else the one scripts/system-files names."""
    if os.environ.get('ES_SOUNDS'):
        return os.environ['ES_SOUNDS']
    listing = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'scripts', 'system-files')
    for line in open(listing):
        if line.startswith('ES_SOUNDS='):
            return line.split('=', 1)[1].strip()
    sys.exit('mkpcap: ES_SOUNDS is not set in scripts/system-files')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('out')
    ap.add_argument('--calls', type=int, default=1)
    ap.add_argument('--seconds', type=float, default=5)
    ap.add_argument('--codec', default='pcmu', choices=sorted(CODECS))
    ap.add_argument('--reinvite-codec', choices=sorted(CODECS), help='codec after --reinvite')
    ap.add_argument('--customer', default=os.path.join(sounds_dir(), 'vm-options.wav'))
    ap.add_argument('--operator', default=os.path.join(sounds_dir(), 'agent-loginok.wav'))
    ap.add_argument('--loss', type=float, default=0)
    ap.add_argument('--reorder', type=float, default=0)
    ap.add_argument('--duplicate', type=float, default=0)
    ap.add_argument('--jitter', type=float, default=0)
    ap.add_argument('--ssrc-change', type=float, default=0)
    ap.add_argument('--reinvite', type=float, default=0)
    ap.add_argument('--hold', type=float, default=0)
    ap.add_argument('--dtmf', default='')
    ap.add_argument('--dtmf-side', type=int, default=0, help='0: the caller sends them, 1: the callee')
    ap.add_argument('--vlan', type=int, default=0)
    ap.add_argument('--ipv6', action='store_true')
    ap.add_argument('--encap', default='', choices=['', 'pppoe', 'mpls', 'ipip', 'ip6ip', 'gre',
                                                    'erspan2', 'erspan3', 'vxlan'])
    ap.add_argument('--fragment', action='store_true')
    ap.add_argument('--tcp', action='store_true')
    ap.add_argument('--missed', default='')
    ap.add_argument('--media-host', type=int, default=0,
                    help="host number in the offer's c= (default: the caller's own)")
    ap.add_argument('--rtp-delay', type=float, default=0.05, help='s from 200 OK to the first RTP')
    ap.add_argument('--late-rtp', type=int, default=0,
                    help="the callee's last N packets arrive 30 ms after the BYE")
    ap.add_argument('--stray-early', type=int, default=0,
                    help='packets of ringback to a port no SDP names, while ringing')
    ap.add_argument('--copy-via', type=int, default=0,
                    help='every RTP packet is seen again with the caller side NATed to this host')
    ap.add_argument('--copy-first', action='store_true', help='the NATed copy comes first')
    ap.add_argument('--sip-port', type=int, default=5060, help="the callee's SIP port")
    ap.add_argument('--caller-sip-port', type=int, default=5060, help="the caller's SIP port")
    ap.add_argument('--late-ms', type=float, default=30, help='how long after the BYE (--late-rtp)')
    ap.add_argument('--t38', type=float, default=0, help='re-INVITE to a T.38 fax after S seconds')
    ap.add_argument('--video', default='', choices=['', 'h264', 'vp8', 'h263'])
    ap.add_argument('--challenge', type=int, default=0,
                    help='every call is first challenged with this code (401 or 407), then retried with credentials')
    ap.add_argument('--scanners', type=int, default=0, help="a SIP scanner's INVITEs among the calls")
    ap.add_argument('--scanner-hosts', type=int, default=10, help='addresses the scanner sends from')
    ap.add_argument('--scanner-code', type=int, default=0, help="the PBX's answer to them (0: none)")
    ap.add_argument('--stagger', type=float, default=3000, help='ms between call starts')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--start', type=float, default=1700000000,
                    help='when the first call starts (Unix time)')
    a = ap.parse_args()
    rng = random.Random(a.seed)
    cust = read_wav(a.customer, a.seconds)
    oper = read_wav(a.operator, a.seconds)
    w = Writer(a.out, a.vlan, a.ipv6, a.encap)
    if a.reinvite_codec and ptime(a.reinvite_codec) != ptime(a.codec):
        sys.exit('mkpcap: --reinvite-codec must have the packet time of --codec')
    npk = int(round(a.seconds / ptime(a.codec)))
    enc = {c: (frames(cust, c, npk), frames(oper, c, npk)) for c in {a.codec, a.reinvite_codec} if c}
    for n in range(a.calls):
        info = make_call(w, a, rng, n, a.start + n * a.stagger / 1000, enc)
        print(json.dumps(info))
    if a.scanners:
        scan(w, a, rng)
    w.close()


main()
