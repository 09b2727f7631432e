#!/usr/bin/env bash
# The README's two commands: set this machine up (scripts/setup.sh), then run the pipeline
# (`pipeline`) or every check CI runs (`test`: types, lint, committed bundles, tests, nothing left
# behind). Usage: bash scripts/setup-and-run.sh pipeline|test
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  pipeline)
    source scripts/setup.sh
    log "Pipeline"
    npm run pipeline
    ;;
  test) exec bash .ci/run ;;
  *)
    echo "usage: bash scripts/setup-and-run.sh pipeline|test" >&2
    exit 2
    ;;
esac
