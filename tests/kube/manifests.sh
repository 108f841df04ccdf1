#!/usr/bin/env bash
# The Kubernetes manifests, validated offline (no cluster): tests/kube/validate-manifests.py
# renders kube/ and its overlays, checks every object against the API schema (unknown
# fields, wrong types, removed API versions) and the deployment contract, and proves
# with known-bad variants that those checks bite. Needs Debian's python3-kubernetes and
# python3-yaml for /usr/bin/python3 (the python3 on PATH may be another one); installs
# them as root, else skips (exit 77).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
python=/usr/bin/python3

have_modules() { "$python" -c 'import kubernetes.client, yaml' 2>/dev/null; }
if ! have_modules; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "manifests.sh: installing python3-kubernetes python3-yaml" >&2
    { compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null || apt-get update -qq; } >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      python3-kubernetes python3-yaml >&2 ||
      { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends python3-kubernetes python3-yaml >&2; }
  fi
  if ! have_modules; then
    echo "manifests.sh: SKIP: $python cannot import kubernetes and yaml" \
      "(apt-get install python3-kubernetes python3-yaml)" >&2
    exit 77
  fi
fi
exec "$python" "$top_srcdir/tests/kube/validate-manifests.py" "$top_srcdir/kube"
