#!/usr/bin/env bash
# What a run leaves on the machine: Docker containers, images, networks and volumes, and entries of
# the temp directory. `leftovers.sh snapshot FILE` records them; `leftovers.sh compare FILE` prints
# what is there now that was not then, and exits 1 if any of it is this suite's: every Docker object
# (nothing else uses the engine during the tests), and temp entries named the way the suite's code
# names them. Other new temp entries are listed but not counted: another process on the machine may
# have made them. Used by .ci/run around the tests.
set -euo pipefail
tmp="${TMPDIR:-/tmp}"
# The prefixes of every temp directory the suite makes (grep mkdtemp), and tsx's cache.
OURS='^temp .*/(bench-|campaign-|ctx-|docker-config-|ecs-local-|ecs-lockstep-|local-action-|lockstep-|ops-checkout-|pipeline-|runner-|sample-backend-|taskdef-|workflow-step-|tsx-)'
state() {
  docker ps --all --format 'container {{.Names}} ({{.Image}})'
  docker images --format 'image {{.Repository}}:{{.Tag}} {{.ID}}'
  docker network ls --format 'network {{.Name}}'
  docker volume ls --format 'volume {{.Name}}'
  # Jest's and Node's caches are kept on purpose, as is the runner tool's own scratch space.
  ls -1A "$tmp" | grep -Ev '^(jest_|node-compile-cache$|hsperfdata_|bash_jobs|bash_tool_|dockerd\.log$)' |
    sed "s|^|temp $tmp/|"
}
case "${1:-}" in
  snapshot) state | LC_ALL=C sort >"$2" ;;
  compare)
    new=$(LC_ALL=C comm -13 "$2" <(state | LC_ALL=C sort) | grep -vxF "temp $2" || true)
    ours=$(echo "$new" | grep -E "^(container|image|network|volume) |$OURS" || true)
    other=$(echo "$new" | grep -Ev "^(container|image|network|volume) |$OURS" | grep . || true)
    if [ -n "$other" ]; then
      echo "New in the temp directory, not named as this suite names things (not counted):"
      echo "$other" | sed 's/^/  /'
    fi
    if [ -n "$ours" ]; then
      echo "Left behind by the run:"
      echo "$ours" | sed 's/^/  /'
      exit 1
    fi
    echo "Nothing left behind: no new container, image, network, volume or temp entry of the suite's."
    ;;
  *) echo "usage: $0 snapshot|compare FILE" >&2; exit 2 ;;
esac
