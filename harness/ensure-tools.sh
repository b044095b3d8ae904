#!/usr/bin/env bash
# Install the servers the integration tests run for real (Debian packages), when missing:
# nginx, prometheus (which ships promtool), openssl, redis-server and chromium. Idempotent; only apt-get.
set -euo pipefail

as_root() {
    if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

missing=()
command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# actionlint runs shellcheck on the workflows' run: scripts when it is installed.
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
command -v ss >/dev/null 2>&1 || missing+=(iproute2)
# The throttle tests count in a throwaway Redis, as production does.
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# Swagger UI and ReDoc are loaded in headless Chromium (tests/integration/test_docs_browser.py,
# bench/swagger.py), driven by Playwright from PyPI: Debian's build, never a downloaded one
# (CHROMIUM names another binary, e.g. on a runner that has Chrome and no Debian package).
[[ -x ${CHROMIUM:-/usr/bin/chromium} ]] || missing+=(chromium)

if ((${#missing[@]})); then
    echo "ensure-tools: installing ${missing[*]} with apt-get" >&2
    as_root apt-get update -qq
    # Installing must not start the packaged services: they would bind :80 and :9090.
    policy=$(mktemp)
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        as_root cp "$policy" /usr/sbin/policy-rc.d
        trap 'as_root rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    rm -f "$policy"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        $(printf '%s\n' "${missing[@]}" | sort -u) >/dev/null
fi
