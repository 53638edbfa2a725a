#!/usr/bin/env bash
# Builds the Go tools keyward's tests and benchmarks use into $GOBIN (default: $(go env GOPATH)/bin):
#   ferretdb  — a MongoDB-wire-compatible server (SQLite handler) for tests and benchmarks
#   grpcurl   — the CLI engineers debug keyward with; the e2e tests run it for real
#   ghz       — gRPC load generator for `npm run bench`
#   grpc-interop-client — grpc-go's interop client; the e2e tests check keyward's grpc-js adapter with it
# Each tool is skipped when the wanted version is already installed.
set -euo pipefail

if [[ "${1:-}" == "--help" || "${1:-}" == "-h" ]]; then
  sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi

command -v go >/dev/null || { echo "install-go-tools: Go is not installed; install Go 1.22+ (https://go.dev/dl/) and run again" >&2; exit 1; }

FERRETDB_VERSION=v1.24.2
GRPCURL_VERSION=v1.9.4
GHZ_VERSION=v0.93.0
GRPC_GO_VERSION=v1.68.0
GOBIN="${GOBIN:-$(go env GOPATH)/bin}"
export GOBIN
mkdir -p "$GOBIN"

log() { echo "install-go-tools: $*" >&2; }

if [[ -x "$GOBIN/ferretdb" ]] && "$GOBIN/ferretdb" --version 2>/dev/null | grep -q "version: $FERRETDB_VERSION"; then
  log "ferretdb $FERRETDB_VERSION already installed"
else
  # `go install .../cmd/ferretdb@v1.24.2` builds a binary that panics at start: FerretDB's
  # build/version/version.txt is written by its release tooling and is not in the module zip.
  # So we build the very same module source, with that one file written.
  log "building ferretdb $FERRETDB_VERSION (first time takes a few minutes)"
  go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" >/dev/null
  src="$(go env GOMODCACHE)/github.com/!ferret!d!b/!ferret!d!b@$FERRETDB_VERSION"
  work="$(mktemp -d)"
  trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
  cp -r "$src/." "$work/"
  chmod -R u+w "$work"
  echo "$FERRETDB_VERSION" > "$work/build/version/version.txt"
  (cd "$work" && go build -trimpath -o "$GOBIN/ferretdb" ./cmd/ferretdb)
  log "ferretdb installed: $("$GOBIN/ferretdb" --version | head -1)"
fi

if [[ -x "$GOBIN/grpcurl" ]] && [[ -f "$GOBIN/.grpcurl-$GRPCURL_VERSION" ]]; then
  log "grpcurl $GRPCURL_VERSION already installed"
else
  log "building grpcurl $GRPCURL_VERSION"
  go install "github.com/fullstorydev/grpcurl/cmd/grpcurl@$GRPCURL_VERSION"
  touch "$GOBIN/.grpcurl-$GRPCURL_VERSION"
fi

if [[ -x "$GOBIN/ghz" ]] && [[ -f "$GOBIN/.ghz-$GHZ_VERSION" ]]; then
  log "ghz $GHZ_VERSION already installed"
else
  log "building ghz $GHZ_VERSION"
  go install "github.com/bojand/ghz/cmd/ghz@$GHZ_VERSION"
  touch "$GOBIN/.ghz-$GHZ_VERSION"
fi
if [[ -x "$GOBIN/grpc-interop-client" ]] && [[ -f "$GOBIN/.grpc-interop-client-$GRPC_GO_VERSION" ]]; then
  log "grpc-interop-client $GRPC_GO_VERSION already installed"
else
  # `go install` names the binary after its package ("client"): build it aside, then name it.
  log "building grpc-go $GRPC_GO_VERSION interop client"
  tmpbin="$(mktemp -d)"
  GOBIN="$tmpbin" go install "google.golang.org/grpc/interop/client@$GRPC_GO_VERSION"
  mv "$tmpbin/client" "$GOBIN/grpc-interop-client"
  rm -rf "$tmpbin"
  touch "$GOBIN/.grpc-interop-client-$GRPC_GO_VERSION"
fi
log "done: ferretdb, grpcurl, ghz and grpc-interop-client are in $GOBIN"
