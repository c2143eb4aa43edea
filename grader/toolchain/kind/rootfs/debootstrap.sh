#!/usr/bin/env bash
# Usage: debootstrap.sh <target-dir> <suite> <mirror-url> <deb-cache-dir> <package,package,...> [remove-list]
# Builds a Debian root filesystem with debootstrap (minbase plus the listed packages) from the
# apt mirror this host uses, then drops what no container needs (apt lists and caches, docs,
# man pages, translations, logs) and the paths the optional remove-list names (one glob a line,
# relative to the root, `#` comments). The target appears only once complete, so an interrupted
# run leaves nothing a later run could mistake for a finished root filesystem.
set -euo pipefail
target=$1 suite=$2 mirror=$3 debs=$4 include=$5 remove=${6:-}

work="${target}.partial"
# debootstrap mounts /proc (and more) inside the target while it runs; an interrupted run can
# leave them mounted, and nothing may be deleted through them.
release_mounts() {
  local m
  for m in $(findmnt -rn -o TARGET | grep -F "$1/" | sort -r); do umount -l "$m"; done
}
release_mounts "$work"
rm -rf --one-file-system "$work"
mkdir -p "$debs" "$(dirname "$target")"
debootstrap --variant=minbase --cache-dir="$debs" --include="$include" "$suite" "$work" "$mirror"
release_mounts "$work"

rm -rf --one-file-system "$work"/var/lib/apt/lists/* "$work"/var/cache/apt/* "$work"/var/cache/debconf/*-old \
  "$work"/usr/share/doc/* "$work"/usr/share/man/* "$work"/usr/share/info/* \
  "$work"/var/log/*.log "$work"/var/log/apt/* "$work"/debootstrap
find "$work"/usr/share/locale -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} +
if [[ -n $remove ]]; then
  (
    cd "$work"
    shopt -s nullglob
    while read -r pattern; do
      pattern=${pattern%%#*}
      [[ -n ${pattern// /} ]] || continue
      # Unquoted on purpose: each line is a glob below the root.
      # shellcheck disable=SC2086
      for path in $pattern; do rm -rf --one-file-system -- "./$path"; done
    done <"$remove"
  )
fi
# The image gets its own hostname and resolver from the container runtime.
: >"$work"/etc/hostname
rm -f "$work"/etc/resolv.conf

release_mounts "$target"
rm -rf --one-file-system "$target"
mv "$work" "$target"
