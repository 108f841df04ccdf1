#!/usr/bin/env bash
# kube/kserve validated offline (no cluster, no KServe): tests/kube/validate-kserve.py
# checks the ServingRuntime and the InferenceService against the fields, types,
# required keys and enumerations of KServe v0.20.0's CRDs, the contract between them
# and with kube/base (model format, protocol v2, port, probes, model path, PVC,
# restricted pod), and proves with known-bad variants that the checks bite. Needs
# Debian's python3-kubernetes and python3-yaml for /usr/bin/python3; installs them as
# root, else skips (exit 77), as tests/kube/manifests.sh does.
set -uo pipefail
# shellcheck source=tests/kube/validator.sh
source "$(dirname "$0")/validator.sh"
run_validator validate-kserve.py
