#!/bin/sh
# Buildroot runs this (BR2_ROOTFS_POST_BUILD_SCRIPT) once the target tree is
# assembled and the overlay copied, before the filesystem images are made.
# $1 is the target directory.
# It adds what no Buildroot package provides: the trowel single executable
# (built beforehand with `npm run build`) and the version /init prints.
set -eu

TARGET_DIR="$1"
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
TROWEL="$REPO/dist/trowel"

if [ ! -x "$TROWEL" ]; then
  echo "post-build.sh: Cannot add trowel to the image: $TROWEL is missing (run npm run build in $REPO first)" >&2
  exit 1
fi
install -D -m 0755 "$TROWEL" "$TARGET_DIR/usr/bin/trowel"

version="$(sed -n "s/^export const VERSION = '\(.*\)';\$/\1/p" "$REPO/src/version.ts")"
echo "${version:-unknown}" >"$TARGET_DIR/etc/trowel-release"

# /init runs everything; Buildroot's skeleton still ships busybox init's files.
rm -f "$TARGET_DIR/etc/inittab"
rm -rf "$TARGET_DIR/etc/init.d"
