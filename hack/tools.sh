#!/usr/bin/env bash
# Build the pinned control-plane and test binaries from the Go module proxy
# into a cache outside the checkout.
#
#   hack/tools.sh            build what is missing, then print the bin dir
#   hack/tools.sh --bin-dir  only print the bin dir
#
# Cache: ${ORGTWIN_TOOLS_DIR:-~/.cache/orgtwin/tools}/<versions>/bin
# Nothing here is committed: the wrapper Go modules live in a temp dir.
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "${HACK_DIR}/versions.env"

TOOLS_ROOT="${ORGTWIN_TOOLS_DIR:-${HOME}/.cache/orgtwin/tools}"
TAG="k8s-${KUBERNETES_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}_helm-${HELM_VERSION}_kubeconform-${KUBECONFORM_VERSION}_kind-${KIND_VERSION}"
BIN_DIR="${TOOLS_ROOT}/${TAG}/bin"

if [[ "${1:-}" == "--bin-dir" ]]; then
  echo "${BIN_DIR}"
  exit 0
fi

TOOLS=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok kwokctl helm kubeconform kind)
START=$(date +%s)

log() { printf '[tools %4ds] %s\n' "$(( $(date +%s) - START ))" "$*" >&2; }

# run TOOL CMD...: run a build step; on failure name the tool and the command.
run() {
  local tool="$1"; shift
  if ! "$@" >"${WORK}/${tool}.log" 2>&1; then
    tail -n 40 "${WORK}/${tool}.log" >&2
    echo "tools: building '${tool}' failed; command: $*" >&2
    echo "tools: full log kept at ${WORK}/${tool}.log" >&2
    KEEP_WORK=1
    exit 1
  fi
}

missing=()
for t in "${TOOLS[@]}"; do
  [[ -x "${BIN_DIR}/${t}" ]] || missing+=("$t")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  log "all ${#TOOLS[@]} tools present in ${BIN_DIR}; nothing to do"
  echo "${BIN_DIR}"
  exit 0
fi

command -v go >/dev/null || { echo "tools: 'go' is not on PATH; install Go >= 1.24" >&2; exit 1; }
mkdir -p "${BIN_DIR}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/orgtwin-tools.XXXXXX")"
KEEP_WORK=0
trap '[[ ${KEEP_WORK} == 1 ]] || rm -rf "${WORK}"' EXIT
export GOFLAGS="-buildvcs=false -mod=mod"
export CGO_ENABLED=0
log "building ${missing[*]} into ${BIN_DIR}"

want() { [[ " ${missing[*]} " == *" $1 "* ]]; }

build_kubernetes() {
  local mod="${WORK}/k8s" minor="${KUBERNETES_VERSION#v1.}"
  minor="${minor%%.*}"
  local staging="v0.${KUBERNETES_VERSION#v1.}"
  mkdir -p "${mod}"
  cd "${mod}"
  run kubernetes go mod init orgtwin.local/k8s-wrapper
  # go install refuses modules whose go.mod has replace directives, so the
  # wrapper requires k8s.io/kubernetes and points each staging module at its
  # published v0.X.Y release, exactly as the upstream go.mod does locally.
  run kubernetes go mod download -json "k8s.io/kubernetes@${KUBERNETES_VERSION}"
  local gomod
  gomod="$(go mod download -json "k8s.io/kubernetes@${KUBERNETES_VERSION}" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  {
    echo "require k8s.io/kubernetes ${KUBERNETES_VERSION}"
    grep -E '^\s*k8s.io/[a-z0-9-]+ => \./staging/' "${gomod}" | awk -v v="${staging}" '{print "replace " $1 " => " $1 " " v}'
  } >>go.mod
  local pkgs=()
  for t in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    want "$t" && pkgs+=("k8s.io/kubernetes/cmd/${t}")
  done
  log "kubernetes ${KUBERNETES_VERSION}: resolving modules (${#pkgs[@]} commands)"
  run kubernetes go get "${pkgs[@]/%/@${KUBERNETES_VERSION}}"
  local ldflags="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X ${p}.gitVersion=${KUBERNETES_VERSION} -X ${p}.gitMajor=1 -X ${p}.gitMinor=${minor} -X ${p}.gitTreeState=clean"
  done
  for p in "${pkgs[@]}"; do
    log "kubernetes ${KUBERNETES_VERSION}: compiling ${p##*/}"
    run "${p##*/}" go build -trimpath -ldflags "${ldflags}" -o "${BIN_DIR}/${p##*/}" "${p}"
  done
}

build_etcd() {
  local mod="${WORK}/etcd"
  mkdir -p "${mod}"
  cd "${mod}"
  # etcd's own main module uses replace directives too; a two-line main that
  # calls the server module's entry point builds the same binary.
  cat >main.go <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  run etcd go mod init orgtwin.local/etcd-wrapper
  log "etcd ${ETCD_VERSION}: resolving modules"
  run etcd go get "go.etcd.io/etcd/server/v3@${ETCD_VERSION}"
  run etcd go mod tidy
  log "etcd ${ETCD_VERSION}: compiling"
  run etcd go build -trimpath -ldflags "-s -w" -o "${BIN_DIR}/etcd" .
}

go_install() {
  local tool="$1" pkg="$2"
  log "${tool}: go install ${pkg}"
  run "${tool}" env GOBIN="${BIN_DIR}" go install -trimpath -ldflags "-s -w" "${pkg}"
}

if want kube-apiserver || want kube-controller-manager || want kube-scheduler || want kubectl; then
  build_kubernetes
fi
want etcd && build_etcd
cd "${WORK}"
want kwok && go_install kwok "sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}"
want kwokctl && go_install kwokctl "sigs.k8s.io/kwok/cmd/kwokctl@${KWOK_VERSION}"
want helm && go_install helm "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}"
want kubeconform && go_install kubeconform "github.com/yannh/kubeconform/cmd/kubeconform@${KUBECONFORM_VERSION}"
want kind && go_install kind "sigs.k8s.io/kind@${KIND_VERSION}"

for t in "${TOOLS[@]}"; do
  [[ -x "${BIN_DIR}/${t}" ]] || { echo "tools: ${t} missing from ${BIN_DIR} after build" >&2; exit 1; }
done
log "done: ${#TOOLS[@]} tools in ${BIN_DIR}"
echo "${BIN_DIR}"
