#!/usr/bin/env python3
"""A webhook receiver for the notification tests, on loopback.

Every POST is appended to LOG as one JSON line: path, the X-Earshot-* headers,
the body, whether the signature checks out against SECRET, and what was
answered. What it answers is read from MODE_FILE on each request: "ok" (204),
"500", "hang" (sleeps 30 s, then 204) or "fail-until EPOCH" (500 before EPOCH,
204 after). The port it got is written to PORT_FILE.

usage: hook-receiver.py PORT_FILE LOG MODE_FILE SECRET
"""
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port_file, log_path, mode_file, secret = sys.argv[1:5]
lock = threading.Lock()


def mode():
    try:
        with open(mode_file) as f:
            return f.read().split()
    except OSError:
        return ['ok']


class Hook(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get('Content-Length', '0'))
        body = self.rfile.read(n)
        sig = self.headers.get('X-Earshot-Signature', '')
        parts = dict(p.split('=', 1) for p in sig.split(',') if '=' in p)
        want = hmac.new(secret.encode(), (parts.get('t', '') + '.').encode() + body,
                        hashlib.sha256).hexdigest()
        signed = hmac.compare_digest(want, parts.get('v1', ''))
        fresh = abs(time.time() - int(parts.get('t', '0') or 0)) < 300
        m = mode()
        status = 204
        if m[0] == '500' or (m[0] == 'fail-until' and time.time() < float(m[1])):
            status = 500
        elif m[0] == 'hang':
            time.sleep(30)
        rec = {'path': self.path, 'event': self.headers.get('X-Earshot-Event'),
               'id': self.headers.get('X-Earshot-Id'), 'signed': signed and fresh,
               'status': status, 'at': time.time()}
        try:
            rec['body'] = json.loads(body)
        except ValueError:
            rec['body'] = None
        with lock, open(log_path, 'a') as f:
            f.write(json.dumps(rec) + '\n')
        self.send_response(status)
        self.send_header('Content-Length', '0')
        self.end_headers()


srv = ThreadingHTTPServer(('127.0.0.1', 0), Hook)
srv.daemon_threads = True
with open(port_file + '.tmp', 'w') as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(port_file + '.tmp', port_file)
srv.serve_forever()
