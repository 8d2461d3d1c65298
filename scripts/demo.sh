#!/usr/bin/env bash
# `make demo` / `make demo-down`: boot the local test server with its peers, deploy to it, keep it running.
set -euo pipefail
cd "$(dirname "$0")/.."
action=${1:?usage: demo.sh up|down [name]}
name=${2:-demo}
release=${RELEASE:-bookworm}
py=.venv/bin/python

case $action in
up)
    $py -m louieops.testbed up --name "$name" --release "$release"
    set -a
    # shellcheck source=/dev/null  # written by the testbed when it boots: nothing to follow here
    . ".testbed/$name/env"
    set +a
    .venv/bin/pyinfra -y ".testbed/$name/inventory.py" deploy.py
    echo
    echo "The demo server is running. Reach it with:"
    echo "    $py -m louieops.testbed ssh --name $name            # a shell on the server"
    echo "    $py -m louieops.testbed status                      # servers and peers"
    echo "It ships its logs over TLS to the syslog receiver on the peer (Papertrail's stand-in); the newest:"
    $py -m louieops.testbed logs --name "$name" --lines 5
    echo "    $py -m louieops.testbed logs --name $name -f         # follow them"
    echo "Re-deploy (should report no changes):"
    echo "    set -a; . .testbed/$name/env; set +a; .venv/bin/pyinfra -y .testbed/$name/inventory.py deploy.py"
    echo "Stop it and remove everything it started:"
    echo "    make demo-down"
    ;;
down)
    $py -m louieops.testbed down --name "$name"
    ;;
*)
    echo "usage: demo.sh up|down [name]" >&2
    exit 2
    ;;
esac
