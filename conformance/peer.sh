#!/usr/bin/env bash
# Run the conformance suite against the Community Solid Server 7.2.0, twice:
#   1. open mode: CSS as bench/peer/start.sh runs it (file backend, open root ACL), no identities;
#   2. with identities: the same config plus accounts (conformance/peer/css-accounts.json), two
#      accounts (alice, bob) made through CSS's /.account/ JSON API, each with a pod and client
#      credentials, so the WAC and Solid-OIDC areas run too.
# Usage: conformance/peer.sh [REPORT_DIR]   (reports: css-open.{md,json,xml}, css-identities.*)
# Everything listens on loopback only; the servers are stopped on exit.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
peer="$repo/bench/peer"
out="${1:-$(mktemp -d)}"
work="$(mktemp -d)"
mkdir -p "$out"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$peer/install.sh" >/dev/null
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_up() {  # URL: until the server answers, for up to 90 s
  for _ in $(seq 180); do curl -s -o /dev/null "$1" && return 0; sleep 0.5; done
  echo "peer did not start: $1" >&2; return 1
}
suite() { (cd "$repo" && python3 -m conformance run --profile css "$@"); }
status=0

# 1. Open mode, started exactly as the benchmarks start it.
port="$(free_port)"
"$peer/start.sh" "$work/open" "$port" >"$work/open.log" 2>&1 &
pids+=($!)
wait_up "http://127.0.0.1:$port/"
suite --server "http://127.0.0.1:$port/" \
  --report "$out/css-open.md" --report "$out/css-open.json" --report "$out/css-open.xml" || status=1

# 2. With identities. CSS's token verifier accepts a WebID only over https or as
#    http://localhost:PORT, hence the localhost base URL (the socket is still 127.0.0.1).
port="$(free_port)"
base="http://localhost:$port/"
css="$repo/bench/.peer/node_modules/@solid/community-server/bin/server.js"
node --require "$peer/loopback.js" "$css" -c "$here/peer/css-accounts.json" \
  -f "$work/accounts" -p "$port" -b "$base" -l warn >"$work/accounts.log" 2>&1 &
pids+=($!)
wait_up "$base"
for who in alice bob; do
  (cd "$repo" && python3 -m conformance.peer.provision --server "$base" --name "$who" --out "$work/$who.json")
done
suite --server "$base" --alice-credentials "$work/alice.json" --bob-credentials "$work/bob.json" \
  --report "$out/css-identities.md" --report "$out/css-identities.json" \
  --report "$out/css-identities.xml" || status=1

echo "reports in $out"
exit "$status"
