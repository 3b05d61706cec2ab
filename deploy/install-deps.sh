#!/bin/sh
# Installs the Debian packages vendange needs to build, test and run,
# only those missing (so `make demo` and `make check` are quick when all
# is there). Needs root (or sudo) when something is missing.
# `install-deps.sh bench` adds what only `make bench` needs, `install-deps.sh
# web` what only `make check-web` needs (headless Chromium and its driver),
# `install-deps.sh deploy` what only `make images` / `make check-deploy` need,
# `install-deps.sh fresh` what only `make check-fresh` needs (besides Docker).
# `install-deps.sh fuzz` what only `make fuzz` needs (clang, libFuzzer).
# `install-deps.sh check` what only `make check` adds (promtool, Debian's
# prometheus, checks deploy/prometheus/*.yml; poppler-utils' pdfinfo,
# pdftotext and pdftoppm read the quality report's PDF).
set -eu

PACKAGES="build-essential pkg-config git ca-certificates \
  libczmq-dev libzmq3-dev libmsgpack-dev libpq-dev libxml2-dev libzip-dev \
  libfreexl-dev libcurl4-openssl-dev libmicrohttpd-dev libjansson-dev \
  libsodium-dev libutf8proc-dev libxxhash-dev libcairo2-dev libpango1.0-dev fonts-dejavu-core \
  postgresql postgresql-client python3 python3-xlwt python3-xlrd python3-zmq openssl clang-format"
BENCH_PACKAGES="pgloader"
WEB_PACKAGES="chromium chromium-driver"
DEPLOY_PACKAGES="mmdebstrap docker-compose python3-yaml"
FRESH_PACKAGES="mmdebstrap"
FUZZ_PACKAGES="clang libclang-rt-14-dev"
CHECK_PACKAGES="prometheus poppler-utils"
[ "${1:-}" = "bench" ] && PACKAGES="$PACKAGES $BENCH_PACKAGES"
[ "${1:-}" = "web" ] && PACKAGES="$PACKAGES $WEB_PACKAGES"
[ "${1:-}" = "deploy" ] && PACKAGES="$PACKAGES $DEPLOY_PACKAGES"
[ "${1:-}" = "fresh" ] && PACKAGES="$PACKAGES $FRESH_PACKAGES"
[ "${1:-}" = "fuzz" ] && PACKAGES="$PACKAGES $FUZZ_PACKAGES"
[ "${1:-}" = "check" ] && PACKAGES="$PACKAGES $CHECK_PACKAGES"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "vendange: installing Debian packages:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "vendange: packages installed"
