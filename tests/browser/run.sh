#!/usr/bin/env bash
# The web UI's browser test, as `make check` runs it: headless Chromium (Debian's
# /usr/bin/chromium, driven by playwright-core from npm) against the real service
# (lighttpd + mnist-fcgi from the build tree, started by tests/integration/serve.sh).
#
# Installs what is missing: the npm packages (`npm ci`, from package-lock.json) and,
# as root, Debian's chromium; fetches the MNIST test digits if they are not cached.
#
# Environment:
#   top_srcdir, top_builddir  set by `make check` (default: this script's tree)
#   MNIST_TEST_MODEL          the model to serve (default: $top_builddir/run/mnist_model.safetensors;
#                             without one the test is skipped, exit 77)
#   MNIST_DATA                the MNIST IDX files (default ~/.cache/mnist-service/mnist)
#   ARTIFACTS_DIR             screenshots (default $top_builddir/tests/artifacts)
#   MNIST_UI_URL              test this running server instead of starting one
#   CHROMIUM                  the browser (default /usr/bin/chromium)
# Options:
#   --mock                    serve www/ with tests/browser/mock-server.mjs instead of the
#                             real service (for working on the UI; it "reads" every image as 7)
#   anything else             passed to `node --test` (e.g. --test-name-pattern=phone)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
export top_srcdir top_builddir
export ARTIFACTS_DIR=${ARTIFACTS_DIR:-$top_builddir/tests/artifacts}
export MNIST_DATA=${MNIST_DATA:-${XDG_CACHE_HOME:-$HOME/.cache}/mnist-service/mnist}
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

say() { printf 'browser/run.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

mock=0
args=()
for a in "$@"; do
  case $a in
    --mock) mock=1 ;;
    *) args+=("$a") ;;
  esac
done

as_root() { [ "$(id -u)" -eq 0 ]; }
apt_install() {
  as_root || return 1
  say "installing Debian packages: $*"
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    apt-get update -qq >&2 || return 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2 ||
    { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2; }
}

# ---------------------------------------------------------------- node, npm, chromium
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  apt_install nodejs npm || die "node and npm are needed: install the Debian packages nodejs and npm"
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "node $(node --version) is too old: playwright-core needs node 20 or newer"

if [ ! -x "$CHROMIUM" ]; then
  apt_install chromium || die "$CHROMIUM is missing: install the Debian package chromium (as root: apt-get install -y chromium)"
  [ -x "$CHROMIUM" ] || die "$CHROMIUM is still missing after installing chromium"
fi

# The npm packages live beside the test files. In a VPATH build (the source tree may
# be read-only, as in distcheck) the test files are copied to the build tree first.
nodedir=$top_builddir/tests/browser
mkdir -p "$nodedir" || die "cannot create $nodedir"
if [ "$(cd "$nodedir" && pwd -P)" != "$(cd "$here" && pwd -P)" ]; then
  cp -f "$here"/package.json "$here"/package-lock.json "$here"/*.mjs "$nodedir"/ ||
    die "cannot copy the test files to $nodedir"
  chmod u+w "$nodedir"/* 2>/dev/null
fi
# node_modules/.mnist-lock is the package-lock.json it was installed from
stamp=$nodedir/node_modules/.mnist-lock
if [ ! -f "$nodedir/node_modules/playwright-core/package.json" ] || ! cmp -s "$nodedir/package-lock.json" "$stamp"; then
  say "installing npm packages in $nodedir (npm ci)"
  (cd "$nodedir" && npm ci --no-audit --no-fund --loglevel=error >&2) || die "npm ci failed in $nodedir"
  cp "$nodedir/package-lock.json" "$stamp" || die "cannot write $stamp"
fi

# ---------------------------------------------------------------- MNIST test digits
if [ ! -f "$MNIST_DATA/t10k-images-idx3-ubyte" ] || [ ! -f "$MNIST_DATA/t10k-labels-idx1-ubyte" ]; then
  say "fetching MNIST into $MNIST_DATA"
  "$top_srcdir/trainer/fetch-mnist.sh" "$MNIST_DATA" >/dev/null || die "cannot fetch MNIST into $MNIST_DATA"
fi

mkdir -p "$ARTIFACTS_DIR" || die "cannot create $ARTIFACTS_DIR"

# ---------------------------------------------------------------- the service
workdir=
server_pid=
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
  if [ -n "$workdir" ]; then
    if [ "$mock" -eq 0 ]; then
      "$top_srcdir/tests/integration/serve.sh" stop "$workdir" >&2 || say "serve.sh stop failed"
    fi
    rm -rf -- "$workdir"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# keeps the service's logs beside the screenshots when something went wrong
keep_logs() {
  [ -n "$workdir" ] && [ -d "$workdir" ] || return 0
  local dest=$ARTIFACTS_DIR/browser-service
  rm -rf -- "$dest" && mkdir -p "$dest" &&
    find "$workdir" -maxdepth 3 -type f \( -name '*.log' -o -name '*.conf' -o -name url \) -exec cp {} "$dest"/ \; 2>/dev/null
  say "service files kept in $dest"
}

if [ -n "${MNIST_UI_URL:-}" ]; then
  say "testing the server at $MNIST_UI_URL"
elif [ $mock -eq 1 ]; then
  workdir=$(mktemp -d "${TMPDIR:-/tmp}/mnist-ui-mock.XXXXXX") || die "cannot create a work directory"
  WWW_DIR="$top_srcdir/www" node "$here/mock-server.mjs" 0 >"$workdir/url" 2>"$workdir/mock.log" &
  server_pid=$!
  for _ in $(seq 50); do [ -s "$workdir/url" ] && break; sleep 0.1; done
  [ -s "$workdir/url" ] || die "the mock server did not start: $(cat "$workdir/mock.log")"
  MNIST_UI_URL=$(head -1 "$workdir/url")
  export MNIST_UI_URL MNIST_UI_MOCK=1
  say "testing the mock server at $MNIST_UI_URL"
else
  model=${MNIST_TEST_MODEL:-$top_builddir/run/mnist_model.safetensors}
  if [ ! -s "$model" ]; then
    say "SKIP: no model to serve (set MNIST_TEST_MODEL, or run 'make model')"
    exit 77
  fi
  serve=$top_srcdir/tests/integration/serve.sh
  [ -x "$serve" ] || die "$serve is missing"
  # in $TMPDIR, not the build tree: the FastCGI socket's path must stay short (a deep
  # build tree, as distcheck's, makes it too long for a Unix socket address)
  workdir=$(mktemp -d "${TMPDIR:-/tmp}/mnist-ui.XXXXXX") || die "cannot create a work directory"
  if ! "$serve" start "$workdir" "$model" >&2; then
    keep_logs
    die "the service did not start (serve.sh start $workdir $model)"
  fi
  [ -s "$workdir/url" ] || { keep_logs; die "serve.sh wrote no URL to $workdir/url"; }
  MNIST_UI_URL=$(head -1 "$workdir/url")
  export MNIST_UI_URL
  say "testing the service at $MNIST_UI_URL (model $model)"
fi

# ---------------------------------------------------------------- the test
cd "$nodedir" || die "cannot enter $nodedir"
runner=(node --test --test-reporter=spec "${args[@]}" ui.test.mjs model.test.mjs)
command -v timeout >/dev/null && runner=(timeout --kill-after=10 600 "${runner[@]}")
"${runner[@]}"
status=$?
if [ $status -ne 0 ]; then
  keep_logs
  say "FAILED (exit $status); screenshots in $ARTIFACTS_DIR"
else
  say "passed; screenshots in $ARTIFACTS_DIR"
fi
exit $status
