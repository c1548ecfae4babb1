# scripts/check-system-files: passes on this tree, and fails with the path and
# the package to add for each way a test can come to depend on a file that only
# a hand-installed package put there. Each case runs the guard on a copy of the
# scripts with one thing broken.
source "$(dirname "$0")/lib.bash"

check "the guard passes on the tree as committed" "$SRC/scripts/check-system-files"

fresh() { # a scratch root holding a copy of scripts/ and an empty tests/
  rm -rf root && mkdir -p root/tests && cp -r "$SRC/scripts" root/
}
guard() { # expected text... : guard fails and its messages hold every text
  local rc=0
  root/scripts/check-system-files > out.txt 2>&1 || rc=$?
  [ "$rc" -ne 0 ] || { echo "guard passed" >&2; return 1; }
  for t in "$@"; do grep -qF -- "$t" out.txt || { echo "no '$t' in:" >&2; cat out.txt >&2; return 1; }; done
}

# 1. The original mistake: a test reading the update-alternatives link that
#    only the recommended package asterisk-core-sounds-en makes.
fresh
printf 'cp /usr/share/asterisk/sounds/en/vm-options.wav .\n' > root/tests/old.sh
check "a test naming /usr/share/asterisk/sounds/en is refused" \
  guard "tests/old.sh:1" "/usr/share/asterisk/sounds/en/vm-options.wav" "scripts/system-files"

# 2. A system file named directly instead of through scripts/system-files.
fresh
printf "const exe = '%s';\n" "$ES_CHROMIUM" > root/tests/direct.mjs
check "a test naming $ES_CHROMIUM directly is refused" guard "tests/direct.mjs:1" "$ES_CHROMIUM"

# 3. A declared file no package owns (put there by hand).
fresh
touch by-hand.wav
sed -i "s|^ES_SYSTEM_FILES=(|ES_SYSTEM_FILES=(\n  \"$WORK/by-hand.wav asterisk-core-sounds-en-wav\"|" root/scripts/system-files
check "a file no package owns is refused" guard "$WORK/by-hand.wav" "belongs to no Debian package"

# 4. A declared file whose package scripts/install-deps no longer installs.
fresh
sed -i 's/ asterisk-core-sounds-en-gsm / /' root/scripts/install-deps
check "a file from a package missing in install-deps names the package" \
  guard "$ES_SOUNDS/vm-options.gsm" "add asterisk-core-sounds-en-gsm to PKGS"

# 5. A file from a package that is installed here but that nothing in
#    install-deps pulls in (a debugger is on every development machine).
fresh
outside=
for p in gdb valgrind strace cppcheck; do
  f=$(dpkg-query -L "$p" 2>/dev/null | grep -m1 '^/usr/bin/') && { outside="$f $p"; break; }
done
if [ -n "$outside" ]; then
  sed -i "s|^ES_SYSTEM_FILES=(|ES_SYSTEM_FILES=(\n  \"$outside\"|" root/scripts/system-files
  check "a file of a package install-deps does not install is refused (${outside#* })" \
    guard "${outside%% *}" "add ${outside#* } to PKGS"
else
  echo "note: case 5 not run: none of gdb, valgrind, strace, cppcheck is installed to borrow a file from"
fi

# 6. A command the suite runs that a hand-made install put on the PATH.
fresh
mkdir -p bin && printf '#!/bin/sh\n' > bin/es-by-hand && chmod +x bin/es-by-hand
sed -i 's|^ES_SYSTEM_COMMANDS=(|ES_SYSTEM_COMMANDS=(\n  "es-by-hand sox"|' root/scripts/system-files
check "a command no package owns is refused" \
  env PATH="$PATH:$WORK/bin" bash -c "$(declare -f guard); guard 'command es-by-hand' 'belongs to no Debian package'"

# 7. A command that is not there at all.
fresh
sed -i 's|^ES_SYSTEM_COMMANDS=(|ES_SYSTEM_COMMANDS=(\n  "es-nowhere es-nowhere-pkg"|' root/scripts/system-files
check "a missing command names the package to add" \
  guard "command es-nowhere: not found on PATH" "add es-nowhere-pkg to PKGS"

finish
