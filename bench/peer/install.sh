#!/usr/bin/env bash
# Install the peer, the Community Solid Server 7.2.0, into bench/.peer/ (gitignored).
# Idempotent: does nothing when the pinned version is already there.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="$here/../.peer"
version="7.2.0"
pkg="$dest/node_modules/@solid/community-server/package.json"

if [[ -f "$pkg" ]] && grep -q "\"version\": \"$version\"" "$pkg"; then
  echo "community-server $version already in $dest"
  exit 0
fi
mkdir -p "$dest"
[[ -f "$dest/package.json" ]] || echo '{"name": "bench-peer", "private": true}' > "$dest/package.json"
(cd "$dest" && npm install --no-audit --no-fund "@solid/community-server@$version")
