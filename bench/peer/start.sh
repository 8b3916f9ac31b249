#!/usr/bin/env bash
# Start the peer on loopback with its file backend and open access, in the foreground:
#   bench/peer/start.sh ROOT_DIR PORT [BASE_URL]
# BASE_URL defaults to http://127.0.0.1:PORT/. file-root.json stores resources under
# ROOT_DIR and seeds the root .acl with full access for foaf:Agent (everyone), so no
# login is needed. loopback.js forces the listening socket onto 127.0.0.1.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="${1:?usage: start.sh ROOT_DIR PORT [BASE_URL]}"
port="${2:?usage: start.sh ROOT_DIR PORT [BASE_URL]}"
base="${3:-http://127.0.0.1:$port/}"
bin="$here/../.peer/node_modules/@solid/community-server/bin/server.js"
[[ -f "$bin" ]] || { echo "peer not installed: run bench/peer/install.sh" >&2; exit 1; }
mkdir -p "$root"
# exec: the caller's pid is node's, so stopping that pid stops the server.
exec node --require "$here/loopback.js" "$bin" \
  -c @css:config/file-root.json -f "$root" -p "$port" -b "$base" -l warn
