# shellcheck shell=bash
# Runs an offline validator of kube/ (tests/kube/validate-*.py), as the wrappers that
# make check runs do (tests/kube/manifests.sh, tests/kube/kserve-manifests.sh):
#
#   run_validator SCRIPT   execs Debian's /usr/bin/python3 (the python3 on PATH may be
#                          another one) on tests/kube/SCRIPT and this tree's kube/
#
# It needs python3-kubernetes and python3-yaml: installs them as root, else skips the
# test (exit 77). Uses top_srcdir (default: this tree).
top_srcdir=${top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

python=/usr/bin/python3
have_modules() { "$python" -c 'import kubernetes.client, yaml' 2>/dev/null; }

run_validator() {
  local me=${0##*/}
  if ! have_modules; then
    if [ "$(id -u)" -eq 0 ]; then
      echo "$me: installing python3-kubernetes python3-yaml" >&2
      { compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null || apt-get update -qq; } >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        python3-kubernetes python3-yaml >&2 ||
        { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
          --no-install-recommends python3-kubernetes python3-yaml >&2; }
    fi
    if ! have_modules; then
      echo "$me: SKIP: $python cannot import kubernetes and yaml" \
        "(apt-get install python3-kubernetes python3-yaml)" >&2
      exit 77
    fi
  fi
  exec "$python" "$top_srcdir/tests/kube/$1" "$top_srcdir/kube"
}
