#!/bin/bash
# vendange-healthcheck SERVICE [API_URL] - the container healthcheck.
#   orchestrator: GET /health on the local API answers 200.
#   any other service: the orchestrator (API_URL, default
#   http://orchestrator:8480) lists a live service of this container's
#   host name with that role, i.e. it announced itself and heartbeats.
set -u
svc="${1:?usage: vendange-healthcheck SERVICE [API_URL]}"
api="${2:-http://orchestrator:8480}"
if [ "$svc" = orchestrator ]; then
    port="${VENDANGE_HTTP_ADDR##*:}"
    exec 3<>"/dev/tcp/127.0.0.1/${port:-8480}" || exit 1
    printf 'GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
    read -r -t 5 _ code _ <&3 || exit 1
    [ "$code" = 200 ]
    exit
fi
host="$(cat /proc/sys/kernel/hostname)"
VENDANGE_API_URL="$api" timeout 5 vendange status --json 2>/dev/null | tr -d ' \n' |
    grep -o '{[^{}]*"host":"'"$host"'"[^{}]*}' | grep '"role":"'"$svc"'"' |
    grep -q '"alive":true'
