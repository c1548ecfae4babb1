"""The checks of scripts/check-system-files (which see); run by it, not alone.

argv: repository root, entries file (kind, name, resolved path, package per
line, tab-separated); stdin: the packages scripts/install-deps names.
"""
import os
import re
import subprocess
import sys

root, entries_file = sys.argv[1], sys.argv[2]
listed = set(sys.stdin.read().split())
problems = []


def installed_closure(names):
    """Packages installed because of `names`: Depends and Pre-Depends followed
    through installed packages (any installed alternative of a | counts, and a
    virtual package counts through what provides it)."""
    out = subprocess.run(
        ['dpkg-query', '-W', '-f', '${Package}\t${Status}\t${Depends}\t${Pre-Depends}\t${Provides}\n'],
        capture_output=True, text=True, check=True).stdout
    deps, providers = {}, {}
    for line in out.splitlines():
        pkg, status, dep, predep, provides = (line.split('\t') + [''] * 5)[:5]
        if not status.endswith(' installed'):
            continue
        alts = []
        for clause in filter(None, (c.strip() for c in (dep + ',' + predep).split(','))):
            alts.append([re.split(r'[ (:]', a.strip())[0] for a in clause.split('|')])
        deps[pkg] = alts
        for p in filter(None, (x.strip() for x in provides.split(','))):
            providers.setdefault(re.split(r'[ (:]', p)[0], []).append(pkg)
    seen, todo = set(), [n for n in names if n in deps]
    while todo:
        pkg = todo.pop()
        if pkg in seen:
            continue
        seen.add(pkg)
        for alts in deps.get(pkg, []):
            for a in alts:
                for real in ([a] if a in deps else []) + providers.get(a, []):
                    if real not in seen:
                        todo.append(real)
    return seen


def owners_of(paths):
    """path -> packages whose file lists hold it (dpkg -S), for every path at
    once: dpkg-query reads its whole database per call. With merged /usr,
    dpkg may know /usr/bin/ip as /bin/ip: both spellings count."""
    alias = {p: re.sub(r'^/usr/(bin|sbin|lib|lib64)/', r'/\1/', p) for p in paths}
    asked = sorted(set(paths) | set(alias.values()))
    r = subprocess.run(['dpkg-query', '-S'] + asked, capture_output=True, text=True)
    found = {}
    for line in r.stdout.splitlines():
        pkgs, _, name = line.rpartition(': ')
        if not pkgs.startswith('diversion by'):
            found.setdefault(name, []).extend(x.strip().split(':')[0] for x in pkgs.split(','))
    return {p: found.get(p, []) + (found.get(alias[p], []) if alias[p] != p else []) for p in paths}


closure = installed_closure(listed)
entries = [line.rstrip('\n').split('\t') for line in open(entries_file)]
owned = owners_of([e[2] for e in entries if e[0] in ('file', 'command')])
for kind, name, real, pkg in entries:
    add = f'add {pkg} to PKGS in scripts/install-deps' if pkg not in listed else \
        f'{pkg} is in scripts/install-deps: run it'
    if kind == 'missing':
        problems.append(f'{name}: no such file ({add})')
        continue
    if kind == 'nocommand':
        problems.append(f'command {name}: not found on PATH ({add})')
        continue
    label = name if kind == 'file' else f'command {name} ({real})'
    own = owned[real]
    if not own:
        problems.append(f'{label}: {real} belongs to no Debian package (installed by hand?); '
                        f'use a path that {pkg} owns, and {add}')
    elif not any(o in closure for o in own):
        problems.append(f'{label}: owned by {", ".join(own)}, which scripts/install-deps does not '
                        f'install; add {own[0]} to PKGS there (or use a path of an installed package)')
    elif kind == 'file' and pkg not in own:
        problems.append(f'{label}: owned by {", ".join(own)}, not by {pkg} as scripts/system-files says')

# Direct mentions of system paths in what the suite runs must go through
# scripts/system-files (ES_SOUNDS, ES_CHROMIUM, ...). Paths under /var, /home
# and the like that do not exist are file names in test data, never read.
SYSTEM = re.compile(r'(?<![\w.~$}-])/(?:usr|etc|opt|var|srv|lib|lib64|home|root|snap)/[^\s\'"`)$;,:>|*]+')
SKIP_DIRS = {'data', 'corpus', 'node_modules'}
scan = ['tests', 'bench', 'scripts', '.ci']
for top in scan:
    for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        for fn in filenames:
            path = os.path.join(dirpath, fn)
            rel = os.path.relpath(path, root)
            # the list itself, and the guard with its own test (which names bad paths on purpose)
            if rel in ('scripts/system-files', 'scripts/check-system-files.py',
                       'tests/integration/system_files.sh') or fn.endswith('.json'):
                continue
            try:
                text = open(path, encoding='utf-8').read()
            except (UnicodeDecodeError, OSError):
                continue
            for n, ln in enumerate(text.splitlines(), 1):
                if n == 1 and ln.startswith('#!'):
                    continue
                for m in SYSTEM.finditer(ln):
                    p = m.group(0).rstrip('.')
                    if os.path.exists(p) or os.path.islink(p):
                        problems.append(f'{rel}:{n}: names {p} directly; declare it in scripts/system-files '
                                        f'(with the package that owns it) and use the variable')
                    elif re.match(r'/(usr|etc|opt)/', p):
                        problems.append(f'{rel}:{n}: names {p}, which does not exist here; declare it in '
                                        f'scripts/system-files with the package that provides it')

for p in problems:
    print(f'check-system-files: {p}', file=sys.stderr)
if problems:
    print(f'check-system-files: {len(problems)} problem(s); every file the tests, benchmarks or demo '
          f'read must come from a package scripts/install-deps installs', file=sys.stderr)
    sys.exit(1)
