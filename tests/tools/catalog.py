"""A data directory's catalog for the integration tests' Python checks, on
either engine: SQLite (DATA/catalog.db, through the sqlite3 module) or, in the
PostgreSQL pass ($EARSHOT_TEST_PG_DIR set), the data directory's database in
the test cluster, through psql. The subset of sqlite3's API the tests use:

    import catalog
    db = catalog.connect('data')
    rows = db.execute("SELECT a, b FROM t WHERE c = ?", (x,)).fetchall()
    db.execute("UPDATE ..."); db.commit()

On PostgreSQL a query's rows come back as JSON, so numbers stay numbers and
text stays text, as with sqlite3.
"""
import json
import os
import sqlite3
import subprocess

_HERE = os.path.dirname(os.path.abspath(__file__))


def _literal(v):
    if v is None:
        return 'NULL'
    if isinstance(v, bool):
        return '1' if v else '0'
    if isinstance(v, (int, float)):
        return repr(v)
    return "'" + str(v).replace("'", "''") + "'"


def _bind(sql, params):
    """Replaces each ? outside quotes with the next parameter as a literal."""
    out, it, quote = [], iter(params or ()), None
    for ch in sql:
        if quote:
            out.append(ch)
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
            out.append(ch)
        elif ch == '?':
            out.append(_literal(next(it)))
        else:
            out.append(ch)
    return ''.join(out)


class _Result:
    def __init__(self, rows):
        self._rows = rows

    def fetchall(self):
        return list(self._rows)

    def fetchone(self):
        return self._rows[0] if self._rows else None

    def __iter__(self):
        return iter(self._rows)


def _value(v):
    """bytea arrives as "\\x<hex>": bytes, as sqlite3 gives a BLOB."""
    if isinstance(v, str) and v.startswith('\\x'):
        try:
            return bytes.fromhex(v[2:])
        except ValueError:
            pass
    return v


class _Postgres:
    def __init__(self, data_dir):
        self.url = subprocess.run([os.path.join(_HERE, 'pg-catalog'), data_dir], check=True,
                                  capture_output=True, text=True).stdout.strip()
        self.psql = os.path.join(os.environ['ES_PGBIN'], 'psql')  # scripts/system-files

    def _run(self, sql):
        return subprocess.run([self.psql, '-X', '-qAt', '-v', 'ON_ERROR_STOP=1', self.url,
                               '-c', sql], check=True, capture_output=True, text=True).stdout

    def execute(self, sql, params=()):
        sql = _bind(sql, params)
        if not sql.lstrip().upper().startswith(('SELECT', 'WITH')):
            self._run(sql)
            return _Result([])
        out = self._run(f'SELECT coalesce(json_agg(q), \'[]\') FROM ({sql}) q').strip()
        pairs = json.loads(out, object_pairs_hook=lambda kv: tuple(_value(v) for _, v in kv))
        return _Result(pairs)

    def commit(self):
        pass

    def close(self):
        pass


def connect(data_dir):
    if os.environ.get('EARSHOT_TEST_PG_DIR'):
        return _Postgres(data_dir)
    db = sqlite3.connect(os.path.join(data_dir, 'catalog.db'), timeout=5)
    return db
