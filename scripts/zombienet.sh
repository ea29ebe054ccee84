#!/usr/bin/env bash
# Runs a zombienet scenario (default: 0001-four-validators) with the native provider and the
# locally built verity-node. Installs the zombienet CLI from the npm registry into
# zombienet/node_modules on first use; nothing else is downloaded.
#
#   scripts/zombienet.sh                       # run the test of 0001-four-validators
#   scripts/zombienet.sh 0001-four-validators spawn   # only start the network, keep it up
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$VERITY_ROOT/scripts/setup.sh"

SCENARIO="${1:-0001-four-validators}"
MODE="${2:-test}"
DIR="$VERITY_ROOT/zombienet/$SCENARIO"
[ -d "$DIR" ] || { echo "no scenario $DIR" >&2; exit 1; }

command -v npm >/dev/null || { echo "npm is required (Node.js 18+)" >&2; exit 1; }
if [ ! -x "$VERITY_ROOT/zombienet/node_modules/.bin/zombienet" ]; then
	# package.json overrides zombienet's git-hosted `toml` dependency with the registry's.
	(cd "$VERITY_ROOT/zombienet" && npm ci --no-audit --no-fund --silent)
fi

verity_build
BIN_DIR="$(mktemp -d)"
ln -s "$VERITY_NODE_BIN" "$BIN_DIR/verity-node"
export PATH="$BIN_DIR:$PATH"

cd "$DIR"
ZN="$VERITY_ROOT/zombienet/node_modules/.bin/zombienet"
if [ "$MODE" = spawn ]; then
	exec "$ZN" --provider native spawn network.toml
else
	exec "$ZN" --provider native test ./*.zndsl
fi
