#!/usr/bin/env bash
# kube/kserve validated offline (no cluster, no KServe): tests/kube/validate-kserve.py
# checks the ServingRuntime and the InferenceService against the fields, types,
# required keys and enumerations of KServe v0.20.0's CRDs, the contract between them
# and with kube/base (model format, protocol v2, port, probes, model path, PVC,
# restricted pod), and proves with known-bad variants that the checks bite. Needs
# Debian's python3-kubernetes and python3-yaml for /usr/bin/python3; installs them as
# root, else skips (exit 77), as tests/kube/manifests.sh does.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
python=/usr/bin/python3

have_modules() { "$python" -c 'import kubernetes.client, yaml' 2>/dev/null; }
if ! have_modules; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "kserve-manifests.sh: installing python3-kubernetes python3-yaml" >&2
    { compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null || apt-get update -qq; } >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      python3-kubernetes python3-yaml >&2 ||
      { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends python3-kubernetes python3-yaml >&2; }
  fi
  if ! have_modules; then
    echo "kserve-manifests.sh: SKIP: $python cannot import kubernetes and yaml" \
      "(apt-get install python3-kubernetes python3-yaml)" >&2
    exit 77
  fi
fi
exec "$python" "$top_srcdir/tests/kube/validate-kserve.py" "$top_srcdir/kube"
