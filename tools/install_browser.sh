#!/usr/bin/env bash
# Install the system Chromium that tests/test_explore.py drives with Playwright (Debian's `chromium` package).
# Playwright never downloads a browser here: it is pointed at /usr/bin/chromium.
# Exits 0 whenever it cannot install, saying why on stdout; the test then skips with that reason.
set -u
for b in chromium chromium-browser; do
  if command -v "$b" >/dev/null 2>&1; then echo "install_browser: $(command -v "$b") is installed"; exit 0; fi
done
if [ "$(id -u)" != 0 ]; then
  echo "install_browser: chromium is missing and this is not root, so it cannot be installed (as root: apt-get install -y chromium)"; exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install_browser: chromium is missing and there is no apt-get on this system to install it"; exit 0
fi
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
if timeout 600 apt-get install -y -q --no-install-recommends chromium >"$log" 2>&1 \
   || { timeout 300 apt-get update -q >>"$log" 2>&1 && timeout 600 apt-get install -y -q --no-install-recommends chromium >>"$log" 2>&1; }; then
  echo "install_browser: installed $(command -v chromium)"
else
  echo "install_browser: apt-get install chromium failed: $(tail -n 3 "$log" | tr '\n' ' ')"
fi
rm -f "$log"
exit 0
