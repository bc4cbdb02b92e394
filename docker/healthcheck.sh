#!/bin/bash
# HEALTHCHECK: GET /healthz on the admin listener ($PORTCULLIS_ADMIN_ADDR) with bash's /dev/tcp, so the
# image needs neither curl nor a second JVM; exit 0 only on an HTTP 200. The address is host:port as the
# policy's admin.listen writes it: 127.0.0.1:9901, localhost:9901, [::1]:9901 (an IPv6 address without
# brackets, ::1:9901, works too: the port is what follows the last colon).
set -u
addr=${PORTCULLIS_ADMIN_ADDR:-127.0.0.1:9901}
port=${addr##*:}
host=${addr%:*}
case "$host" in
  \[*\]) host=${host#\[}; host=${host%\]} ;;   # /dev/tcp takes the bare address
esac
case "$host" in
  *:*) authority="[$host]:$port" ;;            # the Host header brackets an IPv6 address (RFC 3986)
  *) authority="$host:$port" ;;
esac
exec 3<>"/dev/tcp/$host/$port" || exit 1
printf 'GET /healthz HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$authority" >&3
IFS= read -r -t 2 status <&3 || exit 1
case "$status" in
  "HTTP/1."?" 200 "*) exit 0 ;;
  *) exit 1 ;;
esac
