#!/usr/bin/env bash
# What a run leaves on the machine: Docker containers, images, networks and volumes, and entries of
# the temp directory. `leftovers.sh snapshot FILE` records them; `leftovers.sh compare FILE` prints
# what is there now that was not then, and exits 1 if anything is. Used by .ci/run around the tests.
set -euo pipefail
tmp="${TMPDIR:-/tmp}"
state() {
  docker ps --all --format 'container {{.Names}} ({{.Image}})' | sort
  docker images --format 'image {{.Repository}}:{{.Tag}} {{.ID}}' | sort
  docker network ls --format 'network {{.Name}}' | sort
  docker volume ls --format 'volume {{.Name}}' | sort
  # Jest's and Node's caches are kept on purpose, as is the runner tool's own scratch space.
  ls -1A "$tmp" | grep -Ev '^(jest_|node-compile-cache$|hsperfdata_|bash_jobs|bash_tool_|dockerd\.log$)' |
    sed "s|^|temp $tmp/|" | sort
}
case "${1:-}" in
  snapshot) state | LC_ALL=C sort >"$2" ;;
  compare)
    left=$(LC_ALL=C comm -13 "$2" <(state | LC_ALL=C sort) | grep -vxF "temp $2" || true)
    if [ -n "$left" ]; then
      echo "Left behind by the run:"
      echo "$left" | sed 's/^/  /'
      exit 1
    fi
    echo "Nothing left behind: no new container, image, network, volume or temp entry."
    ;;
  *) echo "usage: $0 snapshot|compare FILE" >&2; exit 2 ;;
esac
