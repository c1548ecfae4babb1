#!/usr/bin/env python3
"""Writes an Asterisk queue_log (and, with --cdr, a cdr_csv Master.csv of the
calls that never reached a queue) for a generated contact centre: operators
log in to their queues in the morning, pause for lunch, log off in the
evening; callers arrive by a daily profile, wait, are answered or abandon,
time out or press a key. The true counts go to --truth as JSON, so a test can
hold earshot's report to them.

usage: mkqueuelog.py OUT [--days N] [--start YYYY-MM-DD] [--operators N]
                     [--queues N] [--calls-per-day N] [--seed N] [--cdr FILE]
                     [--truth FILE]
Times are UTC."""
import argparse
import calendar
import json
import random
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('out')
    ap.add_argument('--days', type=int, default=7)
    ap.add_argument('--start', default='2026-11-30')
    ap.add_argument('--operators', type=int, default=6)
    ap.add_argument('--queues', type=int, default=2)
    ap.add_argument('--calls-per-day', type=int, default=200)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--cdr')
    ap.add_argument('--truth')
    a = ap.parse_args()
    rng = random.Random(a.seed)
    day0 = calendar.timegm(time.strptime(a.start, '%Y-%m-%d'))
    queues = [f'q{i + 1}' for i in range(a.queues)]
    ops = [f'PJSIP/{101 + i}' for i in range(a.operators)]
    truth = {'offered': 0, 'answered': 0, 'missed': 0, 'missed_reasons': {}, 'talk_s': 0,
             'cdr_calls': 0, 'cdr_missed': {}}
    lines = [(day0 - 3600, 'NONE|NONE|NONE|QUEUESTART|')]
    cdr = []
    n = 0
    for d in range(a.days):
        base = day0 + d * 86400
        weekday = time.gmtime(base).tm_wday  # 0 Monday
        if weekday == 6:
            continue  # closed on Sundays
        for o in ops:
            login = base + 8 * 3600 + rng.randrange(0, 900)
            logoff = base + 17 * 3600 + rng.randrange(0, 900)
            for q in queues:
                lines.append((login, f'NONE|{q}|{o}|ADDMEMBER|'))
                lines.append((logoff, f'NONE|{q}|{o}|REMOVEMEMBER|'))
            lunch = base + 12 * 3600 + rng.randrange(0, 3600)
            lines.append((lunch, f'NONE|NONE|{o}|PAUSEALL|lunch'))
            lines.append((lunch + 1800, f'NONE|NONE|{o}|UNPAUSEALL|'))
        for _ in range(a.calls_per_day):
            # more calls in the morning and after lunch
            hour = rng.choices(range(8, 18), weights=[3, 6, 8, 7, 4, 5, 7, 6, 4, 2])[0]
            t = base + hour * 3600 + rng.randrange(0, 3600)
            n += 1
            cid = f'{t}.{n}'
            q = rng.choice(queues)
            caller = f'+4930{rng.randrange(1000000, 9999999)}'
            lines.append((t, f'{cid}|{q}|NONE|ENTERQUEUE||{caller}|1'))
            truth['offered'] += 1
            r = rng.random()
            if r < 0.78:
                hold = rng.randrange(1, 60)
                talk = rng.randrange(30, 600)
                o = rng.choice(ops)
                if rng.random() < 0.2:
                    other = rng.choice(ops)
                    lines.append((t + max(hold - 5, 0), f'{cid}|{q}|{other}|RINGNOANSWER|15000'))
                lines.append((t + hold, f'{cid}|{q}|{o}|CONNECT|{hold}|{cid}.1|3'))
                end = 'COMPLETECALLER' if rng.random() < 0.6 else 'COMPLETEAGENT'
                lines.append((t + hold + talk, f'{cid}|{q}|{o}|{end}|{hold}|{talk}|1'))
                truth['answered'] += 1
                truth['talk_s'] += talk
                continue
            wait = rng.randrange(1, 120)
            if r < 0.92:
                reason, ev = 'abandoned', f'ABANDON|1|1|{wait}'
            elif r < 0.97:
                reason, ev = 'timeout', f'EXITWITHTIMEOUT|1|1|{wait}'
            elif r < 0.99:
                reason, ev = 'exit-key', f'EXITWITHKEY|0|1|1|{wait}'
            else:
                reason, ev = 'exit-empty', f'EXITEMPTY|1|1|{wait}'
            lines.append((t + wait, f'{cid}|{q}|NONE|{ev}'))
            truth['missed'] += 1
            truth['missed_reasons'][reason] = truth['missed_reasons'].get(reason, 0) + 1
        # direct calls that never reached a queue, for the CDR
        for _ in range(a.calls_per_day // 10):
            t = base + rng.randrange(9, 17) * 3600 + rng.randrange(0, 3600)
            n += 1
            disp = rng.choices(['ANSWERED', 'NO ANSWER', 'BUSY', 'FAILED'], weights=[6, 2, 1, 1])[0]
            ts = lambda x: time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(x))
            ans = ts(t + 5) if disp == 'ANSWERED' else ''
            bill = rng.randrange(20, 300) if disp == 'ANSWERED' else 0
            cdr.append(f'"","+4930{rng.randrange(10**6, 10**7)}","10{rng.randrange(1, 9)}",'
                       f'"from-pstn","","SIP/trunk-{n:08x}","PJSIP/101-{n:08x}","Dial","",'
                       f'"{ts(t)}","{ans}","{ts(t + 5 + bill)}",{5 + bill},{bill},"{disp}",'
                       f'"DOCUMENTATION","direct.{n}",""')
            truth['cdr_calls'] += 1
            if disp != 'ANSWERED':
                key = {'NO ANSWER': 'no-answer', 'BUSY': 'busy', 'FAILED': 'failed'}[disp]
                truth['cdr_missed'][key] = truth['cdr_missed'].get(key, 0) + 1
    lines.sort(key=lambda x: x[0])
    with open(a.out, 'w') as f:
        for t, rest in lines:
            f.write(f'{t}|{rest}\n')
    if a.cdr:
        with open(a.cdr, 'w') as f:
            f.write('\n'.join(cdr) + '\n')
    if a.truth:
        with open(a.truth, 'w') as f:
            json.dump(truth, f)


if __name__ == '__main__':
    main()
