#!/usr/bin/env bash
# scripts/check-openapi.sh: the gateway's OpenAPI document is valid OpenAPI 3.1, by a validator
# that is not the code that wrote it (PyPI's openapi-spec-validator).
#
#   scripts/check-openapi.sh [file]      the document is written to file (default:
#                                        $CARGO_TARGET_DIR or target, /openapi.json)
#
# 1. Installs the validator, pinned, into .venv-openapi/ (git-ignored) when it is missing: only
#    python3 with its venv module and a reachable package index are needed.
# 2. Prints the document without starting a server (the gateway's `openapi` example, the same
#    `gateway::openapi::document()` that `GET /api/openapi.json` serves). Built with
#    --workspace: one feature set with the test step, nothing compiled twice (scripts/test.sh).
# 3. Validates it; any error fails the script with the validator's message.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

VALIDATOR_VERSION=0.9.0
venv=.venv-openapi
validator=$venv/bin/openapi-spec-validator
document=${1:-${CARGO_TARGET_DIR:-target}/openapi.json}

if ! "$validator" --version 2>/dev/null | grep -q "$VALIDATOR_VERSION"; then
    printf '==== installing openapi-spec-validator %s into %s\n' "$VALIDATOR_VERSION" "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check \
        "openapi-spec-validator==$VALIDATOR_VERSION"
fi

mkdir -p "$(dirname "$document")"
cargo build -q --workspace --examples
"${CARGO_TARGET_DIR:-target}/debug/examples/openapi" >"$document"
python3 - "$document" <<'PY'
import json, sys
document = json.load(open(sys.argv[1]))
methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
operations = sum(1 for item in document["paths"].values() for key in item if key in methods)
print(f"==== {sys.argv[1]}: OpenAPI {document['openapi']}, {len(document['paths'])} paths, "
      f"{operations} operations, {len(document['components']['schemas'])} schemas")
PY
"$validator" --schema 3.1 --validation-errors all "$document"
