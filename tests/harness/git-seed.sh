#!/usr/bin/env bash
# git-seed.sh REPOS_DIR
# Creates the bare repository REPOS_DIR/deploy.git that the git servers of services.sh serve,
# with deterministic content (fixed author, committer and dates, so the commit ids are the same
# on every run), and prints its expected answers as KEY=VALUE lines (services.sh appends them to
# DIR/expected; see README.md here):
#
#   commit 1 "initial"        apps/web/deployment.yaml (image 127.0.0.1:5000/demo/web:1.2.0 with
#                             a Flux setter marker), apps/web/kustomization.yaml,
#                             apps/web/render.sh (mode 100755), apps/web/current.yaml (a symlink
#                             to deployment.yaml), apps/web/vendor (a submodule entry, 160000),
#                             apps/worker/deployment.yaml, README.md
#                             tags: v1.0.0 (annotated), v1.1.0-rc.1 (lightweight)
#   commit 2 "web 1.2.3"      apps/web/deployment.yaml now 1.2.3        = main
#                             tags: v1.1.0 (lightweight), v2.0.0-rc.1 (lightweight)
#   branch release            = commit 1
#
# The git configuration of the caller is ignored (no ~/.gitconfig, no /etc/gitconfig), so no
# init.defaultBranch, signing or hook setting can change the result.
set -euo pipefail
repos=${1:?usage: git-seed.sh REPOS_DIR}
mkdir -p "$repos"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null HOME=/nonexistent
export GIT_AUTHOR_NAME="imageupdater test" GIT_AUTHOR_EMAIL=test@example.invalid
export GIT_COMMITTER_NAME="imageupdater test" GIT_COMMITTER_EMAIL=test@example.invalid
work=$(mktemp -d "$repos/.seed.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
g() { git -C "$work" "$@"; }

git init -q -b main "$work"
mkdir -p "$work/apps/web" "$work/apps/worker"
cat > "$work/apps/web/deployment.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: demo
spec:
  template:
    spec:
      containers:
        - name: web
          image: 127.0.0.1:5000/demo/web:1.2.0 # {"$imagepolicy": "demo:web"}
YAML
cat > "$work/apps/web/kustomization.yaml" <<'YAML'
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml
YAML
printf '#!/bin/sh\necho rendering web\n' > "$work/apps/web/render.sh"
chmod 755 "$work/apps/web/render.sh"
ln -s deployment.yaml "$work/apps/web/current.yaml"
cat > "$work/apps/worker/deployment.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
  namespace: demo
spec:
  template:
    spec:
      containers:
        - name: worker
          image: 127.0.0.1:5000/demo/worker:main-0001 # {"$imagepolicy": "demo:worker"}
YAML
printf '# deploy\nManifests for the imageupdater integration tests.\n' > "$work/README.md"
g add -A
# a submodule entry (gitlink) without a .gitmodules: the reader must skip it with a warning
g update-index --add --cacheinfo 160000,1111111111111111111111111111111111111111,apps/web/vendor
GIT_AUTHOR_DATE='2024-05-01T10:00:00Z' GIT_COMMITTER_DATE='2024-05-01T10:00:00Z' \
  g commit -q -m initial
c1=$(g rev-parse HEAD)
GIT_COMMITTER_DATE='2024-05-01T10:00:00Z' g tag -a -m 'release 1.0.0' v1.0.0
g tag v1.1.0-rc.1
g branch release

sed -i 's|demo/web:1.2.0|demo/web:1.2.3|' "$work/apps/web/deployment.yaml"
g add apps/web/deployment.yaml   # not -A: that would drop the gitlink (no directory behind it)
GIT_AUTHOR_DATE='2024-05-02T10:00:00Z' GIT_COMMITTER_DATE='2024-05-02T10:00:00Z' \
  g commit -q -m 'web 1.2.3'
c2=$(g rev-parse HEAD)
g tag v1.1.0
g tag v2.0.0-rc.1

rm -rf -- "$repos/deploy.git"
git clone -q --bare "$work" "$repos/deploy.git"
git -C "$repos/deploy.git" remote remove origin
# pushes into the served repositories (tests push into their own copies, never into this one)
git -C "$repos/deploy.git" config receive.denyNonFastForwards false

echo "GIT_DEPLOY_REPO=deploy.git"
echo "GIT_DEPLOY_MAIN_COMMIT=$c2"
echo "GIT_DEPLOY_V1_0_0_COMMIT=$c1"
echo "GIT_DEPLOY_V1_0_0_TAG_OBJECT=$(git -C "$repos/deploy.git" rev-parse v1.0.0)"
echo "GIT_DEPLOY_V1_1_0_COMMIT=$c2"
echo "GIT_DEPLOY_RELEASE_COMMIT=$c1"
echo "GIT_DEPLOY_HIGHEST_SEMVER_TAG=v1.1.0"
