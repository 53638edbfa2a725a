#!/usr/bin/env bash
# Checks proto/envoy (keyward's trimmed copy of Envoy's ext_authz API) against
# Envoy's generated Go code in github.com/envoyproxy/go-control-plane/envoy,
# fetched through the Go module proxy: same names, same numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == "--help" || "${1:-}" == "-h" ]]; then sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
VERSION=v1.32.4
command -v go >/dev/null || { echo "check-envoy-protos: Go is needed to fetch go-control-plane" >&2; exit 1; }
dir="$(go mod download -json "github.com/envoyproxy/go-control-plane/envoy@$VERSION" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')"
[[ -d "$dir" ]] || { echo "check-envoy-protos: could not download go-control-plane/envoy@$VERSION" >&2; exit 1; }
npx tsx scripts/check-envoy-protos.ts "$dir"
