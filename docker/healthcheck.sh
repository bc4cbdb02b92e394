#!/bin/bash
# HEALTHCHECK: GET /healthz on the admin listener ($PORTCULLIS_ADMIN_ADDR, host:port) with bash's
# /dev/tcp, so the image needs neither curl nor a second JVM; exit 0 only on an HTTP 200.
set -u
addr=${PORTCULLIS_ADMIN_ADDR:-127.0.0.1:9901}
exec 3<>"/dev/tcp/${addr%:*}/${addr##*:}" || exit 1
printf 'GET /healthz HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$addr" >&3
IFS= read -r -t 2 status <&3 || exit 1
case "$status" in
  "HTTP/1."?" 200 "*) exit 0 ;;
  *) exit 1 ;;
esac
