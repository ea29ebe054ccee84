#!/usr/bin/env bash
# Runs zombienet scenarios (zombienet/NNNN-*/) with the native provider and the locally built
# verity-node. The zombienet CLI comes from the npm registry through scripts/setup.sh; nothing
# else is downloaded.
#
#   scripts/zombienet.sh                              # 0001-four-validators
#   scripts/zombienet.sh 0002-validator-down-during-dispute [...]   # these scenarios, in order
#   scripts/zombienet.sh all                          # every zombienet/0*/ scenario
#   scripts/zombienet.sh 0001-four-validators spawn   # only start the network, keep it up
#
# Prints each scenario's duration; exits non-zero if any failed (after running the rest).
# Every process a scenario started is stopped when it ends, passed or not (each run is its
# own process group, killed as a whole), and when this script is interrupted.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
if [ "${VERITY_SKIP_SETUP:-0}" != 1 ]; then
	"$VERITY_ROOT/scripts/setup.sh"
	verity_build
fi
command -v npm >/dev/null || { echo "npm is required (Node.js 18+)" >&2; exit 1; }
ZN="$VERITY_ROOT/zombienet/node_modules/.bin/zombienet"
[ -x "$ZN" ] || { echo "zombienet CLI missing: run scripts/setup.sh" >&2; exit 1; }
[ -x "$VERITY_NODE_BIN" ] || { echo "no node binary at $VERITY_NODE_BIN" >&2; exit 1; }

BIN_DIR="$(mktemp -d)"
ln -s "$VERITY_NODE_BIN" "$BIN_DIR/verity-node"
export PATH="$BIN_DIR:$PATH"

PGID=""
cleanup() {
	if [ -n "$PGID" ]; then kill -TERM -- "-$PGID" 2>/dev/null || true; sleep 1; kill -KILL -- "-$PGID" 2>/dev/null || true; fi
	rm -rf "$BIN_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "${2:-}" = spawn ]; then
	cd "$VERITY_ROOT/zombienet/$1"
	"$ZN" --provider native spawn network.toml
	exit
fi

if [ "$#" -eq 0 ]; then set -- 0001-four-validators; fi
if [ "$1" = all ]; then
	set -- $(cd "$VERITY_ROOT/zombienet" && ls -d 0*/ | tr -d /)
fi

failed=()
summary=()
for scenario in "$@"; do
	dir="$VERITY_ROOT/zombienet/$scenario"
	[ -d "$dir" ] || { echo "no scenario $dir" >&2; exit 1; }
	echo "[zombienet] $scenario" >&2
	start=$(date +%s)
	# Its own session, so the nodes zombienet spawns can be stopped as a group afterwards.
	(cd "$dir" && exec setsid "$ZN" --provider native test ./*.zndsl) &
	PGID=$!
	status=0
	wait "$PGID" || status=$?
	kill -TERM -- "-$PGID" 2>/dev/null && { sleep 1; kill -KILL -- "-$PGID" 2>/dev/null || true; }
	PGID=""
	took=$(( $(date +%s) - start ))
	if [ "$status" -eq 0 ]; then
		summary+=("$scenario: passed in ${took}s")
	else
		summary+=("$scenario: FAILED (exit $status) after ${took}s")
		failed+=("$scenario")
	fi
	echo "[zombienet] ${summary[-1]}" >&2
done
printf '[zombienet] %s\n' "${summary[@]}" >&2
[ "${#failed[@]}" -eq 0 ]
