# The review pages in Debian's chromium driven by playwright-core
# (tests/browser/review.mjs) against a running `earshot serve`: login per role,
# list and filter, playback and seeking, scoring, acknowledge, dispute,
# resolve, CSV/XLSX downloads, markup in data staying text. Screenshots are
# kept in $WORK/screenshots.
source "$(dirname "$0")/lib.bash"
command -v chromium > /dev/null || { echo "SKIP: chromium is not installed (scripts/install-deps installs it)"; exit 77; }
[ -d "$SRC/tests/browser/node_modules/playwright-core" ] ||
  { echo "SKIP: playwright-core not installed (scripts/install-deps runs npm ci in tests/browser)"; exit 77; }
source "$SRC/tests/tools/review-fixture.sh"
start_server
mkdir -p screenshots
timeout 240 node "$SRC/tests/browser/review.mjs" "http://127.0.0.1:$port" fixture.json screenshots > browser.out 2>&1 || true
cat browser.out
check "browser tests: $(tail -n1 browser.out)" grep -q ' 0 failed$' browser.out
check "screenshots kept" test -s screenshots/call.png
check "the downloaded XLSX opens" python3 -c "import zipfile; zipfile.ZipFile('screenshots/calls.xlsx').read('xl/worksheets/sheet1.xml')"
finish
