#!/bin/sh
# Regenerates TestToken.abi and TestToken.bin from TestToken.sol with the npm build of solc.
# Run from anywhere: sh internal/chain/contracts/gen.sh (needs node/npx and the npm registry).
# The outputs are committed and embedded with go:embed, so builds never need solc.
set -eu
cd "$(dirname "$0")"
SOLC_VERSION=0.8.28
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
npx --yes "solc@${SOLC_VERSION}" --optimize --optimize-runs 200 --bin --abi -o "$out" TestToken.sol
cp "$out"/TestToken_sol_TestToken.abi TestToken.abi
cp "$out"/TestToken_sol_TestToken.bin TestToken.bin
echo "regenerated TestToken.abi and TestToken.bin with solc ${SOLC_VERSION}"
