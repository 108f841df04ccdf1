#!/bin/sh
# rootfs.sh ROOT FILE...: copies each FILE (a program) into ROOT at the same path, with
# every shared library the dynamic loader gives it (ldd) and the loader itself, so
# that ROOT runs the programs with nothing else. The images' runtime stages are
# FROM scratch plus such a tree: no shell, no package manager, no libraries that no
# program loads (kserve#2529: image size is cold-start time on a new node).
#
# Libraries keep the path ldd names, which is where the loader looks for them;
# symbolic links are followed, so each is one regular file. A program that loads
# libraries at run time (dlopen) needs them named here as FILEs too.
set -eu
[ $# -ge 2 ] || { echo "usage: rootfs.sh ROOT FILE..." >&2; exit 64; }
root=$1
shift

copy() { # PATH: into ROOT once
  [ -e "$root$1" ] && return 0
  mkdir -p "$root$(dirname "$1")"
  cp -L "$1" "$root$1"
}

for f in "$@"; do
  [ -f "$f" ] || { echo "rootfs.sh: no such file: $f" >&2; exit 66; }
  copy "$f"
  # "libx.so.1 => /lib/.../libx.so.1 (0x...)" and the loader's "/lib64/ld-linux... (0x...)"
  ldd "$f" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
    while read -r lib; do copy "$lib"; done
done
