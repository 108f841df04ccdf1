#!/usr/bin/env bash
# The Kubernetes manifests, validated offline (no cluster): tests/kube/validate-manifests.py
# renders kube/ and its overlays, checks every object against the API schema (unknown
# fields, wrong types, removed API versions) and the deployment contract, and proves
# with known-bad variants that those checks bite. Needs Debian's python3-kubernetes and
# python3-yaml for /usr/bin/python3 (the python3 on PATH may be another one); installs
# them as root, else skips (exit 77).
set -uo pipefail
# shellcheck source=tests/kube/validator.sh
source "$(dirname "$0")/validator.sh"
run_validator validate-manifests.py
