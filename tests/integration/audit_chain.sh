# The audit log against someone who can write the database (triggers dropped,
# the plain SHA-256 chain recomputed after each edit) but cannot read the key
# kept outside it: `earshot audit verify` names the changed row, the rows
# removed from the middle, and a tail cut off (the anchor file); without the
# key, a log with keyed rows is not written to.
source "$(dirname "$0")/lib.bash"
for u in anna bea cleo; do printf 'a long password 1\n' | es user add "$u" --role supervisor; done
es user disable bea
es user enable bea
es audit verify > ok.txt
check "intact: $(cat ok.txt)" grep -q 'audit log intact: 5 rows (5 keyed), anchored at row 5' ok.txt
check "the key is 32 bytes, mode 600" test "$(stat -c '%s %a' data/audit.key)" = "32 600"

# rewrites the unkeyed chain after an edit, as a forger without the key would
rechain() {
  python3 - "$1" <<'PY'
import hashlib, os, sys; sys.path.insert(0, os.environ["SRC"] + "/tests/tools"); import catalog
db = catalog.connect(sys.argv[1])
prev = '0' * 64
for row in db.execute('SELECT id, at, actor, action, target, detail FROM audit ORDER BY id').fetchall():
    h = hashlib.sha256()
    for v in [str(row[1]), *row[2:], prev]:
        b = v.encode()
        h.update(f'{len(b)}:'.encode() + b)
    db.execute('UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?', (prev, h.hexdigest(), row[0]))
    prev = h.hexdigest()
db.commit()
PY
}
tamper() { # name sql: a copy of the data with sql applied past the triggers and the chain redone
  copy_data data "$1"
  if [ "$(engine)" = sqlite ]; then
    catq "$1" "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete; $2"
  else
    catq "$1" "DROP TRIGGER audit_no_update ON audit; DROP TRIGGER audit_no_delete ON audit; $2"
  fi
  rechain "$1"
}
verify_of() { set +e; "$EARSHOT" --data "$1" audit verify > /dev/null 2> "$1.err"; echo $?; set -e; }

tamper edited "UPDATE audit SET target = 'mallory' WHERE id = 2"
rc=$(verify_of edited)
check "an edited row, the plain chain redone: refused ($(cat edited.err))" \
  sh -c "test $rc = 1 && grep -q 'row 2 was changed' edited.err"
tamper middle "DELETE FROM audit WHERE id = 3"
rc=$(verify_of middle)
check "a row removed from the middle ($(cat middle.err))" \
  sh -c "test $rc = 1 && grep -q 'rows 3 to 3 were removed' middle.err"
tamper tail "DELETE FROM audit WHERE id >= 4"
rc=$(verify_of tail)
check "rows cut from the end ($(cat tail.err))" \
  sh -c "test $rc = 1 && grep -q 'rows from 4 on were removed' tail.err"
tamper forged "DELETE FROM audit WHERE id = 5; INSERT INTO audit(id, at, actor, action, target, detail, prev_hash, hash, mac) SELECT 5, at, actor, action, 'x', detail, '', '', mac FROM audit WHERE id = 4"
rc=$(verify_of forged)
check "a row made up with a copied MAC ($(cat forged.err))" \
  sh -c "test $rc = 1 && grep -q 'row 5 was changed' forged.err"
copy_data data nokey; rm nokey/audit.key
set +e; printf 'a long password 1\n' | "$EARSHOT" --data nokey user add dora --role supervisor 2> nokey.err; rc=$?; set -e
check "the key gone: nothing is written, the reason named ($(cat nokey.err))" \
  bash -c "test $rc != 0 && grep -q 'audit.key is missing' nokey.err && test \$(catq nokey 'SELECT count(*) FROM users') = 3"
copy_data data noanchor; rm noanchor/audit.anchor
rc=$(verify_of noanchor)
check "the anchor gone: said ($(cat noanchor.err))" sh -c "test $rc = 1 && grep -q 'anchor .* is missing' noanchor.err"
check "the original still verifies" es audit verify
finish
