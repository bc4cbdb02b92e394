#!/usr/bin/env bash
# Memory benchmark of Portcullis with the full policy: resident memory (RSS) under wrk load and with N idle
# keep-alive connections open, and requests/s, for one or more sets of JVM flags (variants) side by side.
#
# Every variant is a gateway JVM started at once with the same full-policy fixtures as bench/run.sh
# (dev.portcullis.bench.ProxyBenchFixtures); the load rounds are interleaved over the variants (the order rotates
# each round), so that the machine's drift hits every variant alike and the req/s are comparable (A/B).
# Then, one variant after the other: N client connections are opened, each sends one request (a reader's token),
# reads the response and stays open, idle; the gateway's RSS is read with all of them open; then they are closed.
#
# Pinning: the gateways run on CPU $PEER_CPU, wrk, the upstream (nginx) and the idle client on CPU $LOAD_CPU.
# Loopback only. Every step is bounded in time; every process started here is stopped by pid on exit.
#
# Usage: bench/memory.sh [-r ROUNDS] [-d SECONDS] [-w WARMUP_SECONDS] [-c "64 256"] [-s "small large"] [-n IDLE] [-N] [-- VARIANT ...]
#   VARIANT: the JVM flags of one gateway, e.g. "" (the JVM's defaults) or "-Xmx64m -XX:+UseSerialGC"; leading
#            NAME=value words are put in its environment ("MALLOC_ARENA_MAX=2 -Xmx64m");
#            default: one variant, $PORTCULLIS_JAVA_OPTS (the defaults of bench/run.sh and the image).
#   -N: add -XX:NativeMemoryTracking=summary to every variant and print jcmd VM.native_memory at the end.
#   (build first: mvn -B -q package -DskipTests). Output: a table on stdout; raw lines on stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

# The defaults shipped for the jar and the image (README "Memory and JVM flags", docker/entrypoint.sh).
PORTCULLIS_JAVA_OPTS=${PORTCULLIS_JAVA_OPTS:-"-Xms32m -Xmx64m -XX:+UseSerialGC -XX:MaxDirectMemorySize=48m -XX:ReservedCodeCacheSize=48m -XX:MaxMetaspaceSize=96m -XX:+ExitOnOutOfMemoryError"}
ROUNDS=3
DURATION=10
WARMUP=10
CONNECTIONS="64 256"
SIZES="small large"
IDLE=2000
NMT=
PEER_CPU=${PEER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PORT_BASE=${BENCH_PORT_BASE:-19280}
while getopts "r:d:w:c:s:n:N" opt; do
  case $opt in
    r) ROUNDS=$OPTARG ;;
    d) DURATION=$OPTARG ;;
    w) WARMUP=$OPTARG ;;
    c) CONNECTIONS=$OPTARG ;;
    s) SIZES=$OPTARG ;;
    n) IDLE=$OPTARG ;;
    N) NMT="-XX:NativeMemoryTracking=summary" ;;
    *) sed -n 2,20p "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
VARIANTS=("$@")
[ ${#VARIANTS[@]} -gt 0 ] || VARIANTS=("$PORTCULLIS_JAVA_OPTS")

JAR=$ROOT/gateway-server/target/portcullis.jar
BENCH_JAR=$ROOT/gateway-bench/target/benchmarks.jar
for f in "$JAR" "$BENCH_JAR"; do
  [ -f "$f" ] || { echo "missing $f: build first (mvn -B -q package -DskipTests)" >&2; exit 1; }
done
command -v wrk >/dev/null 2>&1 && { command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; } || {
  echo "installing nginx-light wrk" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nginx-light wrk >/dev/null
}
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((IDLE + 1000)) ]; then
  ulimit -n $((IDLE + 1000)) || { echo "ulimit -n $(ulimit -n) is too low for $IDLE connections" >&2; exit 1; }
fi

export BENCH_DIR=$(mktemp -d /tmp/portcullis-memory.XXXXXX)
chmod 755 "$BENCH_DIR"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 1
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$BENCH_DIR"
}
trap cleanup EXIT

P_UPSTREAM=$PORT_BASE
java -cp "$BENCH_JAR" dev.portcullis.bench.ProxyBenchFixtures "$BENCH_DIR" "$P_UPSTREAM" \
  $((PORT_BASE + 1)) $((PORT_BASE + 2)) $((PORT_BASE + 3)) $((PORT_BASE + 4))
mkdir -p "$BENCH_DIR/www" "$BENCH_DIR/nginx-up"
chmod 777 "$BENCH_DIR/nginx-up"
head -c 100 /dev/zero | tr '\0' 'a' > "$BENCH_DIR/www/small"
head -c 65536 /dev/zero | tr '\0' 'b' > "$BENCH_DIR/www/large"
cat > "$BENCH_DIR/nginx-up/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $BENCH_DIR/nginx-up/nginx.pid;
error_log $BENCH_DIR/nginx-up/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $BENCH_DIR/nginx-up; proxy_temp_path $BENCH_DIR/nginx-up; fastcgi_temp_path $BENCH_DIR/nginx-up;
  uwsgi_temp_path $BENCH_DIR/nginx-up; scgi_temp_path $BENCH_DIR/nginx-up;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$P_UPSTREAM; root $BENCH_DIR/www; default_type text/plain;
    location / { try_files \$uri /small; } }
}
EOF

start() { # $1 = cpu, $2 = log, rest = command; prints the pid
  local cpu=$1 log=$2; shift 2
  setsid taskset -c "$cpu" "$@" >"$log" 2>&1 </dev/null &
  echo $!
}
wait_port() {
  for _ in $(seq 1 150); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  echo "port $1 did not open" >&2; return 1
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

PIDS+=("$(start "$LOAD_CPU" "$BENCH_DIR/nginx-up/out.log" "$NGINX" -c "$BENCH_DIR/nginx-up/nginx.conf")")
wait_port "$P_UPSTREAM"

# one gateway per variant: the full policy on its own ports (public 10+2i, admin 11+2i)
declare -a PORT PID
n=${#VARIANTS[@]}
for i in $(seq 0 $((n - 1))); do
  PORT[$i]=$((PORT_BASE + 10 + 2 * i))
  sed -e "s/127.0.0.1:$((PORT_BASE + 3))/127.0.0.1:${PORT[$i]}/" \
      -e "s/127.0.0.1:$((PORT_BASE + 4))/127.0.0.1:$((PORT[$i] + 1))/" "$BENCH_DIR/full.yaml" > "$BENCH_DIR/full-$i.yaml"
  read -r -a words <<<"${VARIANTS[$i]}"
  envs=(); while [ ${#words[@]} -gt 0 ] && [[ ${words[0]} =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; do
    envs+=("${words[0]}"); words=("${words[@]:1}"); done
  # shellcheck disable=SC2086 # NMT is empty or one flag
  PID[$i]=$(start "$PEER_CPU" "$BENCH_DIR/gateway-$i.log" env "${envs[@]}" java "${words[@]}" $NMT \
    -jar "$JAR" run -c "$BENCH_DIR/full-$i.yaml")
  PIDS+=("${PID[$i]}")
done
for i in $(seq 0 $((n - 1))); do wait_port "${PORT[$i]}"; done
token=$(head -1 "$BENCH_DIR/tokens.txt"); client=$(head -1 "$BENCH_DIR/clients.txt")
for i in $(seq 0 $((n - 1))); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" -H "X-Forwarded-For: $client" \
    "http://127.0.0.1:${PORT[$i]}/small")
  [ "$code" = 200 ] || { echo "variant $i: a reader's request got $code, not 200" >&2; exit 1; }
done

# one load run: prints rps, the highest RSS (kB) sampled every 0.5 s during it and wrk's socket errors
load() { # $1 variant, $2 conns, $3 size, $4 seconds
  local i=$1 out max=0 r wrk_pid
  taskset -c "$LOAD_CPU" wrk -t2 -c"$2" -d"${4}s" -s "$ROOT/bench/wrk.lua" "http://127.0.0.1:${PORT[$i]}/$3" \
    > "$BENCH_DIR/wrk.out" 2>&1 &
  wrk_pid=$!
  while kill -0 "$wrk_pid" 2>/dev/null; do
    r=$(rss_kb "${PID[$i]}"); [ "$r" -gt "$max" ] && max=$r
    sleep 0.5
  done
  wait "$wrk_pid" || true
  out=$(cat "$BENCH_DIR/wrk.out")
  if grep -q 'Non-2xx' <<<"$out"; then echo "variant $i: non-2xx answers under load: $out" >&2; exit 1; fi
  echo "$(awk '/^Requests\/sec/ {print $2}' <<<"$out") $max $(awk '/Socket errors/ {gsub(",", ""); print $4 + $6 + $8 + $10}' \
    <<<"$out" | grep . || echo 0)"
}

echo "memory: ${#VARIANTS[@]} variant(s), rounds $ROUNDS x ${DURATION}s, warm-up ${WARMUP}s, connections [$CONNECTIONS]," \
  "$IDLE idle connections; gateways on CPU $PEER_CPU, wrk/upstream/client on CPU $LOAD_CPU; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for i in $(seq 0 $((n - 1))); do
  echo "variant $i: ${VARIANTS[$i]:-(JVM defaults)} $NMT; RSS after start $(($(rss_kb "${PID[$i]}") / 1024)) MB" >&2
  for conns in $CONNECTIONS; do for size in $SIZES; do load "$i" "$conns" "$size" "$WARMUP" >/dev/null; done; done
done

declare -A RPS MAXRSS ERR
for round in $(seq 1 "$ROUNDS"); do
  for conns in $CONNECTIONS; do
    for size in $SIZES; do
      for k in $(seq 0 $((n - 1))); do
        i=$(((k + round) % n))
        read -r rps max errors <<<"$(load "$i" "$conns" "$size" "$DURATION")"
        ERR[$i]=$((${ERR[$i]:-0} + errors))
        RPS[$i,$conns,$size]="${RPS[$i,$conns,$size]:-} $rps"
        if [ "$max" -gt "${MAXRSS[$i]:-0}" ]; then MAXRSS[$i]=$max; fi
        printf 'round %s variant %s conns %s %s: %s req/s, max RSS %s MB, socket errors %s, load %s\n' "$round" "$i" \
          "$conns" "$size" "$rps" $((max / 1024)) "$errors" "$(cut -d' ' -f1 /proc/loadavg)" >&2
      done
    done
  done
done

# N idle keep-alive connections, each after one complete request; held until stdin closes (or 120 s)
cat > "$BENCH_DIR/idle.py" <<'EOF'
import socket, sys, time
port, count, token, client = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
request = ("GET /small HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nX-Forwarded-For: %s\r\n\r\n"
           % (token, client)).encode()
socks = []
deadline = time.time() + 120
for _ in range(count):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        sys.exit("unexpected answer: %r" % head[:60])
    length = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0])
    while len(body) < length:
        body += s.recv(65536)
    socks.append(s)
print("open", len(socks), flush=True)
import select
select.select([sys.stdin], [], [], max(0, deadline - time.time()))
for s in socks:
    s.close()
EOF
declare -A IDLE_RSS
for i in $(seq 0 $((n - 1))); do
  before=$(rss_kb "${PID[$i]}")
  exec 4> >(exec taskset -c "$LOAD_CPU" python3 "$BENCH_DIR/idle.py" "${PORT[$i]}" "$IDLE" "$token" "$client" \
    > "$BENCH_DIR/idle.out" 2>&1)
  client_pid=$!
  for _ in $(seq 1 600); do grep -q '^open' "$BENCH_DIR/idle.out" && break; sleep 0.2; done
  grep -q '^open' "$BENCH_DIR/idle.out" || { echo "idle client: $(cat "$BENCH_DIR/idle.out")" >&2; exit 1; }
  sleep 3
  IDLE_RSS[$i]=$(rss_kb "${PID[$i]}")
  if [ -n "$NMT" ]; then
    echo "--- variant $i, $IDLE idle connections: jcmd VM.native_memory summary" >&2
    jcmd "${PID[$i]}" VM.native_memory summary scale=MB 2>&1 | grep -E '^(Total|-)' >&2
    grep -E '^(Rss|Anonymous|Pss_File|Pss_Anon)' "/proc/${PID[$i]}/smaps_rollup" | tr -s ' ' | paste -sd ' ' >&2
    echo "live heap (after a full GC): $(jcmd "${PID[$i]}" GC.class_histogram 2>/dev/null | awk '/^Total/ {
      printf "%.1f MB in %d objects", $3 / 1048576, $2 }')" >&2
  fi
  exec 4>&-
  wait "$client_pid" 2>/dev/null || true
  printf 'variant %s: RSS %s MB before, %s MB with %s idle connections (%s)\n' "$i" $((before / 1024)) \
    $((IDLE_RSS[$i] / 1024)) "$IDLE" "$(cat "$BENCH_DIR/idle.out")" >&2
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2];
  else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo
echo "Portcullis full policy, $ROUNDS rounds x ${DURATION}s per scenario (wrk -t2, connections x size), medians; $IDLE idle keep-alive connections;" \
  "$(java -version 2>&1 | head -1)"
echo
header="| variant | JVM flags |"; sep="|---|---|"
for conns in $CONNECTIONS; do for size in $SIZES; do
  header="$header req/s c$conns $size | x v0 |"; sep="$sep---|---|"; done; done
echo "$header max RSS under load MB | RSS with $IDLE idle MB | socket errors |"
echo "$sep---|---|---|"
for i in $(seq 0 $((n - 1))); do
  line="| $i | \`${VARIANTS[$i]:-(JVM defaults)}\` |"
  for conns in $CONNECTIONS; do for size in $SIZES; do
    m=$(median <<<"${RPS[$i,$conns,$size]}"); m0=$(median <<<"${RPS[0,$conns,$size]}")
    line="$line $(printf '%.0f' "$m") | $(awk -v a="$m" -v b="$m0" 'BEGIN { printf "%.2f", a / b }') |"
  done; done
  echo "$line $((MAXRSS[$i] / 1024)) | $((IDLE_RSS[$i] / 1024)) | ${ERR[$i]} |"
done
