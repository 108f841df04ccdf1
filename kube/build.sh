#!/usr/bin/env bash
# Builds the two container images from the repository root, pushes them, and points
# the manifests at them (the `images:` block of kube/base/kustomization.yaml, which
# `kubectl kustomize` applies to every overlay):
#
#   REGISTRY/mnist-train:TAG       from trainer/Dockerfile
#   REGISTRY/mnist-inference:TAG   from fcgi/Dockerfile
#
# TAG is the git commit (12 hex digits), with "-dirty-UTCTIME" appended when the work
# tree has uncommitted changes: a tag is never reused for different contents, so nodes
# that cached an image by tag always run what the manifests name. Both images are also
# tagged "latest" for people; the manifests never use it.
#
# Usage: kube/build.sh [OPTION]...
#   -p, --project ID       Google Cloud project (env PROJECT_ID; default: gcloud's)
#   -r, --registry REG     registry and path (env REGISTRY; default gcr.io/PROJECT_ID;
#                          for Artifact Registry: REGION-docker.pkg.dev/PROJECT_ID/REPO)
#   -t, --tag TAG          image tag (env TAG; default: from git as above)
#       --tool NAME        docker, podman or buildah (env CONTAINER_TOOL; default: docker
#                          when its engine answers, else podman, else buildah)
#       --platform P       target platform (env PLATFORM; default linux/amd64, what GKE
#                          nodes run; set it empty to build for this machine)
#       --no-push          build and tag only; the manifests are left alone
#       --skip-login-check push without first checking for registry credentials
#   -n, --dry-run          print the commands, run none, change no file
#   -h, --help
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
kustomization=${KUSTOMIZATION:-$top/kube/base/kustomization.yaml}
project=${PROJECT_ID:-}
registry=${REGISTRY:-}
tag=${TAG:-}
tool=${CONTAINER_TOOL:-}
platform=${PLATFORM-linux/amd64}
push=1
login_check=1
dry_run=0

say() { printf 'build.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

need_arg() { [ "$2" -ge 2 ] || die "$1 needs a value"; }
while [ $# -gt 0 ]; do
  case $1 in
    -p | --project) need_arg "$1" $#; project=$2; shift ;;
    --project=*) project=${1#*=} ;;
    -r | --registry) need_arg "$1" $#; registry=$2; shift ;;
    --registry=*) registry=${1#*=} ;;
    -t | --tag) need_arg "$1" $#; tag=$2; shift ;;
    --tag=*) tag=${1#*=} ;;
    --tool) need_arg "$1" $#; tool=$2; shift ;;
    --tool=*) tool=${1#*=} ;;
    --platform) need_arg "$1" $#; platform=$2; shift ;;
    --platform=*) platform=${1#*=} ;;
    --no-push) push=0 ;;
    --skip-login-check) login_check=0 ;;
    -n | --dry-run) dry_run=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
  shift
done

# run COMMAND...: runs it, or only prints it in a dry run
run() {
  if [ $dry_run = 1 ]; then
    printf 'would run:' >&2
    printf ' %q' "$@" >&2
    printf '\n' >&2
  else
    "$@"
  fi
}

# ---------------------------------------------------------------- registry
if [ -z "$registry" ]; then
  if [ -z "$project" ] && command -v gcloud >/dev/null 2>&1; then
    project=$(gcloud config get-value project 2>/dev/null || true)
    [ "$project" != "(unset)" ] || project=
    [ -z "$project" ] || say "project $project (from gcloud config)"
  fi
  [ -n "$project" ] ||
    die "no project: set PROJECT_ID=your-project (or --project), or REGISTRY=host/path (or --registry)"
  registry=gcr.io/$project
fi
registry=${registry%/}
case $registry in
  *[!a-z0-9./:_-]* | "") die "'$registry' is not a registry path (lower case, e.g. gcr.io/my-project)" ;;
esac
host=${registry%%/*}

# ---------------------------------------------------------------- tag
if [ -z "$tag" ]; then
  command -v git >/dev/null 2>&1 || die "git is missing: install it, or give the tag with --tag"
  commit=$(git -C "$top" rev-parse --short=12 HEAD 2>/dev/null) ||
    die "$top is not a git checkout with a commit: give the tag with --tag"
  tag=$commit
  if [ -n "$(git -C "$top" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    tag=$commit-dirty-$(date -u +%Y%m%d%H%M%S)
    say "the work tree has uncommitted changes: tagging $tag"
  fi
fi
[[ $tag =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || die "'$tag' is not a valid image tag"

# ---------------------------------------------------------------- tool
engine_up() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
if [ -z "$tool" ]; then
  if command -v docker >/dev/null 2>&1 && engine_up; then
    tool=docker
  elif command -v podman >/dev/null 2>&1; then
    tool=podman
  elif command -v buildah >/dev/null 2>&1; then
    tool=buildah
  elif command -v docker >/dev/null 2>&1; then
    die "docker is installed but its engine does not answer (is the daemon running? may this user use it?); or install podman or buildah"
  else
    die "no container tool: install docker, podman or buildah (e.g. apt-get install podman)"
  fi
fi
case $tool in
  docker | podman | buildah) command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed" ;;
  *) die "--tool must be docker, podman or buildah, not '$tool'" ;;
esac
if [ "$tool" = docker ] && ! engine_up; then
  die "docker's engine does not answer (is the daemon running? may this user use it?)"
fi
say "building with $tool for ${platform:-the platform of this machine}; images $registry/mnist-{train,inference}:$tag"

# ---------------------------------------------------------------- login
# Fails before a long build rather than at the push.
login_hint() {
  case $host in
    gcr.io | *.gcr.io | *-docker.pkg.dev)
      if [ "$tool" = docker ]; then
        echo "gcloud auth configure-docker $host"
      else
        echo "gcloud auth print-access-token | $tool login -u oauth2accesstoken --password-stdin $host"
      fi ;;
    *) echo "$tool login $host" ;;
  esac
}
logged_in() {
  if [ "$tool" = docker ]; then
    local config=${DOCKER_CONFIG:-$HOME/.docker}/config.json
    [ -f "$config" ] || return 1
    # an entry for the host in auths or credHelpers, or a credential store for all
    grep -q -e "\"$host\"" -e "\"https://$host\"" -e '"credsStore"' "$config"
  else
    "$tool" login --get-login "$host" >/dev/null 2>&1
  fi
}
if [ $push = 1 ] && [ $login_check = 1 ] && [ $dry_run = 0 ] && ! logged_in; then
  die "not logged in to $host: run '$(login_hint)' (or --skip-login-check)"
fi

# ---------------------------------------------------------------- build and push
build() { # build DOCKERFILE IMAGE
  local args=(-f "$top/$1" -t "$registry/$2:$tag" -t "$registry/$2:latest")
  [ -z "$platform" ] || args+=(--platform "$platform")
  say "building $registry/$2:$tag from $1"
  case $tool in
    buildah) run buildah bud --layers "${args[@]}" "$top" ;;
    *) run "$tool" build "${args[@]}" "$top" ;;
  esac || die "building $2 from $1 failed (above)"
}
push_image() { # push IMAGE
  local ref
  for ref in "$registry/$1:$tag" "$registry/$1:latest"; do
    say "pushing $ref"
    run "$tool" push "$ref" ||
      die "pushing $ref failed: logged in ($(login_hint))? may this account write to $registry?"
  done
}
start=$SECONDS
build trainer/Dockerfile mnist-train
build fcgi/Dockerfile mnist-inference
[ $dry_run = 1 ] || say "built both images in $((SECONDS - start)) s"
if [ $push = 0 ]; then
  say "--no-push: the manifests still name their previous images"
  exit 0
fi
push_image mnist-train
push_image mnist-inference

# ---------------------------------------------------------------- manifests
# Rewrites the images: block of the kustomization (what `kustomize edit set image`
# does), leaving every other line as it was. The block is a top-level key; it ends
# at the next top-level line.
[ -f "$kustomization" ] || die "no $kustomization"
block="images:
  - name: mnist-inference
    newName: $registry/mnist-inference
    newTag: \"$tag\"
  - name: mnist-train
    newName: $registry/mnist-train
    newTag: \"$tag\"
"
if [ $dry_run = 1 ]; then
  say "would set in ${kustomization#"$top"/}:"
  printf '%s' "$block" | sed 's/^/    /' >&2
  exit 0
fi
new=
trap 'rm -f -- "$new"' EXIT
set_images() { # FILE: its images: block becomes $block
  new=$(mktemp "$1.XXXXXX")
  awk -v block="$block" '
    /^images:/ { skip = 1; next }
    skip && /^[^ \t-]/ { skip = 0 }
    !skip { print }
    END { printf "%s", block }
  ' "$1" >"$new"
  chmod --reference="$1" "$new" 2>/dev/null || chmod 0644 "$new"
  mv -f -- "$new" "$1"
  new=
  say "${1#"$top"/} now names $registry/mnist-{train,inference}:$tag"
}
set_images "$kustomization"
# the KServe overlay's runtime is not a base object: its kustomization names the images too
kserve=${KSERVE_KUSTOMIZATION:-$(dirname "$kustomization")/../kserve/kustomization.yaml}
[ ! -f "$kserve" ] || set_images "$kserve"
say "next: kube/deploy.sh (or kube/deploy.sh --retrain to train a new model with this trainer)"
