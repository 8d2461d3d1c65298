#!/usr/bin/env bash
# Installs what `make demo` and `make test` need on a fresh Debian/Ubuntu machine, once:
# Debian packages for the test server and its peers, for `make lint`, the load test's integration test
# (ApacheBench) and the System Health page's browser test (Chromium and its WebDriver), and the project's
# virtualenv.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(python3 python3-venv debootstrap debian-archive-keyring systemd-container pebble nftables iproute2 openssh-client openssl curl ca-certificates util-linux e2fsprogs zstd shellcheck apache2-utils chromium chromium-driver)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "bootstrap: missing Debian packages: ${missing[*]}; run as root (the test server needs root anyway)." >&2
        exit 1
    fi
    echo "bootstrap: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Re-install the virtualenv when pyproject.toml changes.
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [[ ! -f $stamp ]]; then
    [[ -x .venv/bin/python ]] || python3 -m venv .venv
    # (grep: this machine's pip config names local package folders that may not exist; not our concern)
    .venv/bin/pip install -q --upgrade pip 2>&1 >/dev/null | { grep -v '^WARNING: Location' || true; } >&2
    .venv/bin/pip install -q -e '.[test]' 2>&1 | { grep -v '^WARNING: Location' || true; } >&2
    rm -f .venv/.installed-*
    touch "$stamp"
fi
