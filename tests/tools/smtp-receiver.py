#!/usr/bin/env python3
"""A local SMTP server for the notification tests (Debian's python3-aiosmtpd),
on loopback: every message is saved as DIR/N.eml with its envelope in
DIR/N.json. The port it got is written to PORT_FILE.

usage: smtp-receiver.py PORT_FILE DIR
"""
import json
import os
import socket
import sys
import time

from aiosmtpd.controller import Controller

port_file, out = sys.argv[1:3]
count = 0


class Save:
    async def handle_DATA(self, server, session, envelope):
        global count
        count += 1
        with open(os.path.join(out, '%d.eml' % count), 'wb') as f:
            f.write(envelope.original_content)
        with open(os.path.join(out, '%d.json' % count), 'w') as f:
            json.dump({'from': envelope.mail_from, 'to': envelope.rcpt_tos}, f)
        return '250 OK'


s = socket.socket()
s.bind(('127.0.0.1', 0))
port = s.getsockname()[1]
s.close()
c = Controller(Save(), hostname='127.0.0.1', port=port)
c.start()
with open(port_file + '.tmp', 'w') as f:
    f.write(str(port))
os.rename(port_file + '.tmp', port_file)
try:
    while True:
        time.sleep(3600)
finally:
    c.stop()
