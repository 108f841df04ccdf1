#!/usr/bin/env bash
# kube/build.sh with stand-ins for docker, podman, buildah, git and gcloud
# (tests/kube/fake-tools) on a PATH that hides the real ones: the tool it picks, the
# commands it runs (context, Dockerfiles, tags, platform), the checks it makes before a
# long build (project, login, engine), its messages, and the kustomization it writes,
# which must still render and validate. Needs no engine, registry or network.
# Compound checks are single-quoted conditions run by eval when checked:
# shellcheck disable=SC2016
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# canonical: distcheck passes paths with "..", kube/build.sh reports them resolved
top_srcdir=$(cd "${top_srcdir:-$here/../..}" && pwd)
# shellcheck source=tests/lib.sh
source "$top_srcdir/tests/lib.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/mnist-build-test.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

# (run from the top of the source tree, where the linter finds tests/lib.sh)
lint() { (cd "$top_srcdir" && shellcheck -x "$@"); }
check "kube/build.sh is shellcheck-clean" lint kube/build.sh
check "tests/kube/fake-tools and this test are shellcheck-clean" \
  lint tests/kube/fake-tools tests/kube/build.sh

# A copy of the tree's kube/ and Dockerfiles, so that build.sh edits the copy, and a
# directory of the system tools build.sh needs (without docker, podman or buildah).
tree=$work/tree
mkdir -p "$tree/trainer" "$tree/fcgi"
cp -r "$top_srcdir/kube" "$tree/kube"
cp "$top_srcdir/trainer/Dockerfile" "$tree/trainer/"
cp "$top_srcdir/fcgi/Dockerfile" "$tree/fcgi/"
original=$(cat "$tree/kube/base/kustomization.yaml")
original_kserve=$(cat "$tree/kube/kserve/kustomization.yaml")
mkdir -p "$work/sys"
for t in bash env sed awk grep date mktemp chmod mv rm cat dirname basename tr head tail cp; do
  p=$(command -v "$t") && ln -s "$p" "$work/sys/$t"
done

# run NAME TOOLS [VAR=VALUE...] -- [ARGS...]: runs build.sh with the fake TOOLS (comma
# separated) on PATH; sets $status, $err, $calls, $kustomization
run() {
  local name=$1 tools=$2 t
  shift 2
  local envs=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
  [ "${1:-}" = -- ] && shift
  local dir=$work/$name
  mkdir -p "$dir/bin" "$dir/state" "$dir/home/.docker"
  for t in ${tools//,/ }; do ln -s "$here/fake-tools" "$dir/bin/$t"; done
  printf '%s\n' "$original" >"$tree/kube/base/kustomization.yaml"
  printf '%s\n' "$original_kserve" >"$tree/kube/kserve/kustomization.yaml"
  status=0
  env -i PATH="$dir/bin:$work/sys" HOME="$dir/home" FAKE_STATE="$dir/state" \
    KUSTOMIZATION="$tree/kube/base/kustomization.yaml" "${envs[@]}" \
    bash "$top_srcdir/kube/build.sh" "$@" >/dev/null 2>"$dir/err" || status=$?
  err=$(cat "$dir/err")
  calls=$(cat "$dir/state/calls" 2>/dev/null)
  kustomization=$(cat "$tree/kube/base/kustomization.yaml")
  # shellcheck disable=SC2034 # read by the checks eval runs
  kserve_kustomization=$(cat "$tree/kube/kserve/kustomization.yaml")
}
said() { grep -qF -e "$1" <<<"$err"; }
called() { grep -qF -e "$1" <<<"$calls"; }
count() { grep -cF -e "$1" <<<"$calls"; }
# ran VERB: a container tool ran VERB (build, bud or push); the paths in other calls
# may hold the same word (distcheck's tree is under build/ci)
ran() { grep -qE "^(docker|podman|buildah) ($1) " <<<"$calls"; }
logged_in_docker() { printf '{"credHelpers": {"gcr.io": "gcloud"}}\n' >"$work/$1/home/.docker/config.json"; }
unchanged() { [ "$kustomization" = "$original" ]; }

# ---------------------------------------------------------------- docker, the usual way
mkdir -p "$work/docker/home/.docker"
logged_in_docker docker
run docker docker,git PROJECT_ID=proj
check "docker: exit 0" test "$status" -eq 0
check "docker: builds the training image from the repository root with trainer/Dockerfile" \
  called "docker build -f $top_srcdir/trainer/Dockerfile -t gcr.io/proj/mnist-train:0123456789ab -t gcr.io/proj/mnist-train:latest --platform linux/amd64 $top_srcdir"
check "docker: builds the inference image with fcgi/Dockerfile" \
  called "docker build -f $top_srcdir/fcgi/Dockerfile -t gcr.io/proj/mnist-inference:0123456789ab"
check "docker: pushes the commit tags and latest (4 pushes)" test "$(count 'docker push')" -eq 4
check "docker: pushes only after both builds" eval \
  '[ "$(grep -n "docker build" <<<"$calls" | tail -1 | cut -d: -f1)" -lt "$(grep -n "docker push" <<<"$calls" | head -1 | cut -d: -f1)" ]'
check "docker: the kustomization names the pushed images by commit" eval \
  'grep -q "newName: gcr.io/proj/mnist-train$" <<<"$kustomization" && [ "$(grep -c "newTag: \"0123456789ab\"" <<<"$kustomization")" = 2 ]'
check "docker: the KServe overlay names the same images" eval \
  'grep -q "newName: gcr.io/proj/mnist-inference$" <<<"$kserve_kustomization" && [ "$(grep -c "newTag: \"0123456789ab\"" <<<"$kserve_kustomization")" = 2 ]'
check "docker: the rest of the kustomization is untouched" \
  test "$(sed '/^images:/,$d' <<<"$kustomization")" = "$(sed '/^images:/,$d' <<<"$original")"
cp "$tree/kube/base/kustomization.yaml" "$work/built-kustomization.yaml"
if /usr/bin/python3 -c 'import kubernetes.client, yaml' 2>/dev/null; then
  cp "$work/built-kustomization.yaml" "$tree/kube/base/kustomization.yaml"
  check "docker: the kustomization it wrote renders and passes the manifest validator" \
    bash -c "/usr/bin/python3 '$here/validate-manifests.py' '$tree/kube' >'$work/validate.log' 2>&1" ||
    tail -n 20 "$work/validate.log"
fi
if command -v kubectl >/dev/null; then
  cp "$work/built-kustomization.yaml" "$tree/kube/base/kustomization.yaml"
  check "docker: kubectl kustomize sees the new images in kube/ and kube/overlays/rwx" \
    bash -c "[ \"\$(kubectl kustomize '$tree/kube' | grep -c 'image: gcr.io/proj/mnist-.*:0123456789ab')\" = 2 ] &&
             [ \"\$(kubectl kustomize '$tree/kube/overlays/rwx' | grep -c 'image: gcr.io/proj/mnist-.*:0123456789ab')\" = 2 ]"
fi
# a second build replaces the block instead of adding one
printf '%s\n' "$(cat "$work/built-kustomization.yaml")" >"$work/second-input"
mkdir -p "$work/again/home/.docker"
logged_in_docker again
run again docker,git PROJECT_ID=proj FAKE_SHA=fedcba987654
cp "$work/second-input" "$tree/kube/base/kustomization.yaml"
env -i PATH="$work/again/bin:$work/sys" HOME="$work/again/home" FAKE_STATE="$work/again/state" \
  KUSTOMIZATION="$tree/kube/base/kustomization.yaml" PROJECT_ID=proj FAKE_SHA=fedcba987654 \
  bash "$top_srcdir/kube/build.sh" >/dev/null 2>&1
check "a second build rewrites the images block (one block, the new tag)" \
  bash -c "[ \"\$(grep -c '^images:' '$tree/kube/base/kustomization.yaml')\" = 1 ] &&
           [ \"\$(grep -c 'fedcba987654' '$tree/kube/base/kustomization.yaml')\" = 2 ] &&
           ! grep -q 0123456789ab '$tree/kube/base/kustomization.yaml'"

mkdir -p "$work/dirty/home/.docker"
logged_in_docker dirty
run dirty docker,git PROJECT_ID=proj FAKE_DIRTY=" M src/mn_net.c"
check "uncommitted changes: the tag says so and is unique" eval \
  'grep -qE "mnist-train:0123456789ab-dirty-[0-9]{14} " <<<"$calls"'

mkdir -p "$work/registry/home/.docker"
printf '{"credHelpers": {"europe-west1-docker.pkg.dev": "gcloud"}}\n' >"$work/registry/home/.docker/config.json"
run registry docker,git REGISTRY=europe-west1-docker.pkg.dev/proj/mnist/
check "REGISTRY (Artifact Registry) is used as given, no project needed" \
  called "docker push europe-west1-docker.pkg.dev/proj/mnist/mnist-inference:0123456789ab"

mkdir -p "$work/flags/home/.docker"
logged_in_docker flags
run flags docker,git -- --project other --tag v1.2.3 --platform ""
check "--project, --tag and an empty --platform" \
  called "docker build -f $top_srcdir/trainer/Dockerfile -t gcr.io/other/mnist-train:v1.2.3 -t gcr.io/other/mnist-train:latest $top_srcdir"

mkdir -p "$work/gcloud/home/.docker"
logged_in_docker gcloud
run gcloud docker,git,gcloud FAKE_GCLOUD_PROJECT=from-gcloud
check "no PROJECT_ID: the project from gcloud config" called "docker push gcr.io/from-gcloud/mnist-train:0123456789ab"

# ---------------------------------------------------------------- podman and buildah
run podman docker,podman,git PROJECT_ID=proj FAKE_ENGINE=down
check "docker without an engine: podman builds and pushes" eval \
  '[ $status -eq 0 ] && called "podman build " && called "podman push " && ! called "docker build"'
check "podman: the login is checked with podman login --get-login" called "podman login --get-login gcr.io"

run buildah buildah,git PROJECT_ID=proj
check "only buildah: buildah bud --layers and buildah push" eval \
  '[ $status -eq 0 ] && called "buildah bud --layers -f " && [ "$(count "buildah push")" = 4 ]'

run nologin podman,git PROJECT_ID=proj FAKE_LOGIN=no
check "podman not logged in: fails before building, with the command to log in" eval \
  '[ $status -eq 1 ] && ! ran "build|bud" &&
   said "gcloud auth print-access-token | podman login -u oauth2accesstoken --password-stdin gcr.io"'
check "... and leaves the kustomization alone" unchanged

# ---------------------------------------------------------------- clear failures
run notool git PROJECT_ID=proj
check "no container tool: says which to install" eval \
  '[ $status -eq 1 ] && said "no container tool: install docker, podman or buildah"'
run noengine docker,git PROJECT_ID=proj FAKE_ENGINE=down
check "docker without an engine and no alternative: says the engine does not answer" eval \
  '[ $status -eq 1 ] && said "engine does not answer"'
run noproject docker,git
check "no project, no registry, no gcloud: says what to set" eval \
  '[ $status -eq 1 ] && said "no project: set PROJECT_ID" && ! ran "build|bud"'
run dockerlogin docker,git PROJECT_ID=proj
check "docker not logged in: fails before building, says gcloud auth configure-docker" eval \
  '[ $status -eq 1 ] && ! called "docker build" && said "gcloud auth configure-docker gcr.io"'
mkdir -p "$work/buildfail/home/.docker"
logged_in_docker buildfail
run buildfail docker,git PROJECT_ID=proj FAKE_BUILD=fail
check "a failed build: exit 1, nothing pushed" eval \
  '[ $status -eq 1 ] && ! ran push && said "failed (above)"'
check "... kustomization unchanged after the failed build" unchanged
mkdir -p "$work/pushfail/home/.docker"
logged_in_docker pushfail
run pushfail docker,git PROJECT_ID=proj FAKE_PUSH=fail
check "a refused push: exit 1 with the registry's words and a hint" eval \
  '[ $status -eq 1 ] && said uploadArtifacts && said "may this account write to gcr.io/proj"'
check "... kustomization unchanged after the failed push" unchanged
run norepo docker,git PROJECT_ID=proj FAKE_GIT=norepo
check "not a git checkout and no --tag: says to give one" eval \
  '[ $status -eq 1 ] && said "give the tag with --tag"'
run badtag docker,git PROJECT_ID=proj -- --tag 'bad tag!'
check "an invalid tag is refused" eval '[ $status -eq 1 ] && said "not a valid image tag"'
run badregistry docker,git -- --registry 'GCR.io/Proj'
check "an invalid registry is refused" eval '[ $status -eq 1 ] && said "not a registry path"'
run badtool docker,git PROJECT_ID=proj -- --tool nerdctl
check "an unknown --tool is refused" eval '[ $status -eq 1 ] && said "must be docker, podman or buildah"'

# ---------------------------------------------------------------- dry run, no push
run dry docker,git PROJECT_ID=proj -- --dry-run
check "--dry-run: exit 0, prints the commands" eval \
  '[ $status -eq 0 ] && said "would run: docker build -f" && said "would run: docker push"'
check "--dry-run: builds and pushes nothing" eval '! called "docker build" && ! called "docker push"'
check "--dry-run: leaves the kustomization alone" unchanged
mkdir -p "$work/nopush/home/.docker"
run nopush docker,git PROJECT_ID=proj -- --no-push
check "--no-push: builds, pushes nothing, needs no login" eval \
  '[ $status -eq 0 ] && [ "$(count "docker build")" = 2 ] && ! ran push'
check "... kustomization unchanged with --no-push" unchanged

finish
