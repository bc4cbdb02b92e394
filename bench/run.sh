#!/usr/bin/env bash
# Interleaved proxy benchmark: the upstream alone (the ceiling), nginx as a plain reverse proxy (1 worker, upstream
# keep-alive), HAProxy (1 thread, if installed), Portcullis with no rules and Portcullis with the full policy — all
# started at once, then measured round after round (warm-up first), so that the machine's drift hits every peer alike.
#
# Pinning: every proxy under test runs on CPU $PEER_CPU (one at a time is loaded); wrk and the upstream share
# CPU $LOAD_CPU. Loopback only. Every run is bounded (wrk -d); every process started here is stopped by pid on exit.
#
# Usage: bench/run.sh [-r ROUNDS] [-d SECONDS] [-w WARMUP_SECONDS] [-c "64 256"] [-s "small large"] [-p "peers"]
#        (build first: mvn -B -q package -DskipTests). Results: bench/results/<time>.tsv (raw) and .md (medians).
# Before/after: BASELINE_JAR=/path/to/an/older/portcullis.jar adds the peers baseline-none and baseline-full (the same
# configs served by that jar), measured in the same rounds. BASELINE_JAVA_OPTS="..." gives the baseline peers their
# own JVM flags (default: JAVA_OPTS); with BASELINE_JAR set to the same jar, that is an A/B of JVM flags.
# BASELINE_JAVA=/path/to/bin/java runs the baseline peers on another JVM (default: java on the PATH): an A/B of JDKs.
# Shared rate limits: the peers limit-local and limit-shared (opt-in: -p "nginx limit-local limit-shared") serve
# one rule whose rate limit (key: the bearer token; a limit never reached) is in-process or kept in a redis-server
# started here on the load CPU; at the end the Redis commands per request are printed.
# Syscalls: SYSCALLS=1 adds, after the rounds, one run per peer (first connections and size) under `perf stat` counting
# the system calls of the peer's processes by type, and prints them per request (bench/results/<time>-syscalls.txt).
# Profiling: PROFILE="portcullis-full:cpu" (or :alloc, :wall) attaches async-profiler to that peer after the warm-up
# and writes a flame graph of the measured rounds to bench/results/<time>-<peer>-<event>.html (and .collapsed).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

ROUNDS=5
DURATION=10
WARMUP=10
CONNECTIONS="64 256"
SIZES="small large"
PEERS="upstream nginx haproxy portcullis-none portcullis-full"
BASELINE_JAR=${BASELINE_JAR:-}
[ -z "$BASELINE_JAR" ] || PEERS="$PEERS baseline-none baseline-full"
PEER_CPU=${PEER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PORT_BASE=${BENCH_PORT_BASE:-19180}
PORTCULLIS_JAVA_OPTS="-Xms32m -Xmx64m -XX:+UseSerialGC -XX:MaxDirectMemorySize=48m -XX:ReservedCodeCacheSize=48m -XX:MaxMetaspaceSize=96m -XX:+ExitOnOutOfMemoryError"  # the README's jar flags
JAVA_OPTS=${JAVA_OPTS-$PORTCULLIS_JAVA_OPTS}  # JAVA_OPTS= (empty): the JVM's own defaults
BASELINE_JAVA_OPTS=${BASELINE_JAVA_OPTS-$JAVA_OPTS}
BASELINE_JAVA=${BASELINE_JAVA:-java}
while getopts "r:d:w:c:s:p:" opt; do
  case $opt in
    r) ROUNDS=$OPTARG ;;
    d) DURATION=$OPTARG ;;
    w) WARMUP=$OPTARG ;;
    c) CONNECTIONS=$OPTARG ;;
    s) SIZES=$OPTARG ;;
    p) PEERS=$OPTARG ;;
    *) sed -n 2,18p "$0"; exit 2 ;;
  esac
done

JAR=$ROOT/gateway-server/target/portcullis.jar
BENCH_JAR=$ROOT/gateway-bench/target/benchmarks.jar
for f in "$JAR" "$BENCH_JAR"; do
  [ -f "$f" ] || { echo "missing $f: build first (mvn -B -q package -DskipTests)" >&2; exit 1; }
done
missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
HAPROXY=$(command -v haproxy || true)
if [ -z "$HAPROXY" ]; then PEERS=${PEERS//haproxy/}; fi

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
export BENCH_DIR=$(mktemp -d /tmp/portcullis-bench.XXXXXX)
chmod 755 "$BENCH_DIR"   # nginx workers run as nobody
RESULTS=$ROOT/bench/results
mkdir -p "$RESULTS"
RAW=$RESULTS/$STAMP.tsv
SUMMARY=$RESULTS/$STAMP.md

P_UPSTREAM=$PORT_BASE; P_NGINX=$((PORT_BASE + 1)); P_HAPROXY=$((PORT_BASE + 2))
P_NONE=$((PORT_BASE + 3)); P_NONE_ADMIN=$((PORT_BASE + 4)); P_FULL=$((PORT_BASE + 5)); P_FULL_ADMIN=$((PORT_BASE + 6))
P_BNONE=$((PORT_BASE + 7)); P_BNONE_ADMIN=$((PORT_BASE + 8)); P_BFULL=$((PORT_BASE + 9)); P_BFULL_ADMIN=$((PORT_BASE + 10))
P_LLOCAL=$((PORT_BASE + 11)); P_LLOCAL_ADMIN=$((PORT_BASE + 12)); P_LSHARED=$((PORT_BASE + 13))
P_LSHARED_ADMIN=$((PORT_BASE + 14)); P_REDIS=$((PORT_BASE + 15))

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 1
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$BENCH_DIR"
}
trap cleanup EXIT

# --- fixtures: keys, tokens, GeoIP database, gateway configs; response bodies ---
java -cp "$BENCH_JAR" dev.portcullis.bench.ProxyBenchFixtures "$BENCH_DIR" "$P_UPSTREAM" "$P_NONE" "$P_NONE_ADMIN" \
  "$P_FULL" "$P_FULL_ADMIN"
sed -e "s/127.0.0.1:$P_NONE\"/127.0.0.1:$P_BNONE\"/" -e "s/127.0.0.1:$P_NONE_ADMIN\"/127.0.0.1:$P_BNONE_ADMIN\"/" \
  "$BENCH_DIR/no-rules.yaml" > "$BENCH_DIR/baseline-none.yaml"
sed -e "s/127.0.0.1:$P_FULL\"/127.0.0.1:$P_BFULL\"/" -e "s/127.0.0.1:$P_FULL_ADMIN\"/127.0.0.1:$P_BFULL_ADMIN\"/" \
  "$BENCH_DIR/full.yaml" > "$BENCH_DIR/baseline-full.yaml"
limit_config() { # $1 = port, $2 = admin port, $3 = scope; a limit the load never reaches (no 429 expected)
  cat <<EOF
listen: "127.0.0.1:$1"
admin:
  listen: "127.0.0.1:$2"
upstream:
  url: "http://127.0.0.1:$P_UPSTREAM"
rate_limits:
  per-token: { key: "header:Authorization", limit: 1000000, per: 1s, burst: 1000000, scope: $3 }
rate_limit_store:
  redis:
    url: "redis://127.0.0.1:$P_REDIS/0"
    timeout: 50ms
    on_error: deny
default: deny
rules:
  - name: limited
    match: { paths: ["/**"] }
    rate_limit: per-token
EOF
}
limit_config "$P_LLOCAL" "$P_LLOCAL_ADMIN" local > "$BENCH_DIR/limit-local.yaml"
limit_config "$P_LSHARED" "$P_LSHARED_ADMIN" shared > "$BENCH_DIR/limit-shared.yaml"
mkdir -p "$BENCH_DIR/www" "$BENCH_DIR/nginx-up" "$BENCH_DIR/nginx-proxy"
chmod 777 "$BENCH_DIR/nginx-up" "$BENCH_DIR/nginx-proxy"
head -c 100 /dev/zero | tr '\0' 'a' > "$BENCH_DIR/www/small"
head -c 65536 /dev/zero | tr '\0' 'b' > "$BENCH_DIR/www/large"

nginx_conf() { # $1 = folder, $2 = server block
  cat > "$1/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 4096; }
http {
  access_log $1/access.log;
  client_body_temp_path $1; proxy_temp_path $1; fastcgi_temp_path $1; uwsgi_temp_path $1; scgi_temp_path $1;
  keepalive_requests 1000000;
  $2
}
EOF
}
nginx_conf "$BENCH_DIR/nginx-up" "server { listen 127.0.0.1:$P_UPSTREAM; access_log off; root $BENCH_DIR/www;
    default_type text/plain; location / { try_files \$uri /small; } }"
nginx_conf "$BENCH_DIR/nginx-proxy" "upstream up { server 127.0.0.1:$P_UPSTREAM; keepalive 64; }
  server { listen 127.0.0.1:$P_NGINX; location / { proxy_pass http://up; proxy_http_version 1.1;
    proxy_set_header Connection \"\";
    proxy_max_temp_file_size 0; } }"
cat > "$BENCH_DIR/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn 4096
defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
frontend in
  bind 127.0.0.1:$P_HAPROXY
  default_backend up
backend up
  http-reuse always
  server u 127.0.0.1:$P_UPSTREAM
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

declare -A PORT PID
PORT[upstream]=$P_UPSTREAM; PORT[nginx]=$P_NGINX; PORT[haproxy]=$P_HAPROXY
PORT[portcullis-none]=$P_NONE; PORT[portcullis-full]=$P_FULL
PORT[baseline-none]=$P_BNONE; PORT[baseline-full]=$P_BFULL
PORT[limit-local]=$P_LLOCAL; PORT[limit-shared]=$P_LSHARED
if [[ " $PEERS " == *" limit-shared "* ]]; then  # on_error: deny, so a Redis failure shows as non-2xx
  command -v redis-server >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >/dev/null
  PIDS+=("$(start "$LOAD_CPU" "$BENCH_DIR/redis.log" redis-server --port "$P_REDIS" --bind 127.0.0.1 --save '' \
    --appendonly no --daemonize no)")
  wait_port "$P_REDIS"
fi
PID[upstream]=$(start "$LOAD_CPU" "$BENCH_DIR/nginx-up/out.log" "$NGINX" -c "$BENCH_DIR/nginx-up/nginx.conf")
PIDS+=("${PID[upstream]}")
for peer in $PEERS; do
  case $peer in
    upstream) continue ;;
    nginx) PID[$peer]=$(start "$PEER_CPU" "$BENCH_DIR/nginx-proxy/out.log" "$NGINX" -c "$BENCH_DIR/nginx-proxy/nginx.conf") ;;
    haproxy) PID[$peer]=$(start "$PEER_CPU" "$BENCH_DIR/haproxy.log" "$HAPROXY" -db -f "$BENCH_DIR/haproxy.cfg") ;;
    portcullis-none) PID[$peer]=$(start "$PEER_CPU" "$BENCH_DIR/none.log" java $JAVA_OPTS -jar "$JAR" run -c "$BENCH_DIR/no-rules.yaml") ;;
    portcullis-full) PID[$peer]=$(start "$PEER_CPU" "$BENCH_DIR/full.log" java $JAVA_OPTS -jar "$JAR" run -c "$BENCH_DIR/full.yaml") ;;
    baseline-none|baseline-full)
      [ -f "$BASELINE_JAR" ] || { echo "BASELINE_JAR '$BASELINE_JAR' is not a file" >&2; exit 2; }
      command -v "$BASELINE_JAVA" >/dev/null || { echo "BASELINE_JAVA '$BASELINE_JAVA' is not a command" >&2; exit 2; }
      PID[$peer]=$(start "$PEER_CPU" "$BENCH_DIR/$peer.log" "$BASELINE_JAVA" $BASELINE_JAVA_OPTS -jar "$BASELINE_JAR" run -c "$BENCH_DIR/$peer.yaml") ;;
    limit-local|limit-shared)
      PID[$peer]=$(start "$PEER_CPU" "$BENCH_DIR/$peer.log" java $JAVA_OPTS -jar "$JAR" run -c "$BENCH_DIR/$peer.yaml") ;;
    *) echo "unknown peer $peer" >&2; exit 2 ;;
  esac
  PIDS+=("${PID[$peer]}")
done
for peer in upstream $PEERS; do wait_port "${PORT[$peer]}"; done
if [[ " $PEERS " == *" portcullis-full "* ]]; then  # the full policy decides: no token 401, a reader's token 200
  token=$(head -1 "$BENCH_DIR/tokens.txt"); client=$(head -1 "$BENCH_DIR/clients.txt")
  anonymous=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P_FULL/small")
  reader=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" -H "X-Forwarded-For: $client" \
    "http://127.0.0.1:$P_FULL/small")
  if [ "$anonymous" != 401 ] || [ "$reader" != 200 ]; then
    echo "the full policy does not decide as intended (no token: $anonymous, reader: $reader)" >&2; exit 1
  fi
fi

# every process of a peer (nginx: master and worker)
peer_pids() { echo "$1" $(pgrep -P "$1" || true); }
cpu_ticks() { local t=0 p; for p in $(peer_pids "$1"); do
  t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo $t; }
user_system_ticks() { local u=0 s=0 p; for p in $(peer_pids "$1"); do
  read -r a b < <(awk '{print $14, $15}' "/proc/$p/stat" 2>/dev/null || echo 0 0); u=$((u + a)); s=$((s + b)); done
  echo "$u $s"; }
rss_kb() { local t=0 p; for p in $(peer_pids "$1"); do
  t=$((t + $(awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0))); done; echo $t; }
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0;
  else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'; }

path_of() { if [ "$1" = small ]; then echo /small; else echo /large; fi; }
# one measured run: prints peer conns size rps p50_ms p99_ms rss_kb cpu_pct non2xx errors
measure() { # $1 peer, $2 conns, $3 size, $4 seconds
  local peer=$1 conns=$2 size=$3 secs=$4 pid out before after
  pid=${PID[$peer]}
  before=$(cpu_ticks "$pid")
  out=$(taskset -c "$LOAD_CPU" wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$ROOT/bench/wrk.lua" \
    "http://127.0.0.1:${PORT[$peer]}$(path_of "$size")" 2>&1)
  after=$(cpu_ticks "$pid")
  local rps p50 p99 non2xx errors
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); non2xx=${non2xx:-0}
  errors=$(awk '/Socket errors/ {gsub(",", ""); print $4 + $6 + $8 + $10}' <<<"$out"); errors=${errors:-0}
  local cpu; cpu=$(awk -v a="$before" -v b="$after" -v s="$secs" 'BEGIN { printf "%.0f", (b - a) / s }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$peer" "$conns" "$size" "${rps:-0}" "$p50" "$p99" \
    "$(rss_kb "$pid")" "$cpu" "$non2xx" "$errors"
}

PROFILE=${PROFILE:-}
profiler_lib() { # async-profiler's agent, from Maven Central (tools.profiler:async-profiler)
  local version=4.1 jar lib=/tmp/async-profiler-4.1/linux-x64/libasyncProfiler.so
  if [ ! -f "$lib" ]; then
    jar=$HOME/.m2/repository/tools/profiler/async-profiler/$version/async-profiler-$version.jar
    [ -f "$jar" ] || mvn -q -B dependency:get -Dartifact=tools.profiler:async-profiler:$version -Dtransitive=false >&2
    mkdir -p /tmp/async-profiler-$version && (cd /tmp/async-profiler-$version && unzip -q -o "$jar")
  fi
  echo "$lib"
}
agent() { # $1 = pid, $2 = async-profiler command (jcmd would read "a=b" as its own argument: quote it)
  local out
  out=$(jcmd "$1" "JVMTI.agent_load $(profiler_lib) \"$2\"" 2>&1)
  grep -q 'return code: 0' <<<"$out" || { echo "async-profiler: $2: $out" >&2; return 1; }
}
profile() { # $1 = start | stop
  [ -n "$PROFILE" ] || return 0
  local peer=${PROFILE%%:*} event=${PROFILE##*:} base=$RESULTS/$STAMP-${PROFILE%%:*}-${PROFILE##*:}
  if [ "$1" = start ]; then
    agent "${PID[$peer]}" "start,event=$event,interval=$([ "$event" = alloc ] && echo 256k || echo 1ms)"
  else
    agent "${PID[$peer]}" "dump,collapsed,file=$base.collapsed"
    agent "${PID[$peer]}" "stop,file=$base.html"
    echo "profile: $base.html" >&2
  fi
}

echo "bench: peers [$PEERS], rounds $ROUNDS x ${DURATION}s, warm-up ${WARMUP}s, connections [$CONNECTIONS]," \
  "sizes [$SIZES], peers on CPU $PEER_CPU, wrk and upstream on CPU $LOAD_CPU" >&2
for peer in $PEERS; do
  for size in $SIZES; do measure "$peer" 64 "$size" "$WARMUP" >/dev/null; done
done

profile start
printf 'round\tpeer\tconns\tsize\trps\tp50_ms\tp99_ms\trss_kb\tcpu_pct\tnon2xx\terrors\tload1\n' > "$RAW"
read -r -a peer_list <<<"$PEERS"
for round in $(seq 1 "$ROUNDS"); do
  for conns in $CONNECTIONS; do
    for size in $SIZES; do
      n=${#peer_list[@]}
      for i in $(seq 0 $((n - 1))); do   # rotate the order each round
        peer=${peer_list[$(((i + round) % n))]}
        line=$(measure "$peer" "$conns" "$size" "$DURATION")
        printf '%s\t%s\t%s\n' "$round" "$line" "$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$RAW" >&2
      done
    done
  done
done

profile stop

syscalls() { # one run per peer under perf stat: system calls per request, by type
  [ -n "${SYSCALLS:-}" ] || return 0
  command -v perf >/dev/null || { echo "SYSCALLS needs perf (apt install linux-perf)" >&2; return 0; }
  local out=$RESULTS/$STAMP-syscalls.txt conns size peer pids stat rps
  read -r conns _ <<<"$CONNECTIONS"; read -r size _ <<<"$SIZES"
  echo "# system calls per request, $conns connections, $(path_of "$size"), ${DURATION}s per peer" > "$out"
  for peer in $PEERS; do
    pids=$(peer_pids "${PID[$peer]}" | tr ' ' ',')
    stat=$BENCH_DIR/$peer.perf
    perf stat -x, -o "$stat" -e 'syscalls:sys_enter_*,context-switches,page-faults' -p "$pids" -- sleep "$((DURATION + 1))" 2>/dev/null &
    local perf_pid=$!
    sleep 0.5
    local before after n
    before=$(user_system_ticks "${PID[$peer]}")
    rps=$(measure "$peer" "$conns" "$size" "$DURATION" | cut -f4)
    after=$(user_system_ticks "${PID[$peer]}")
    wait "$perf_pid" || true
    n=$(awk -v r="$rps" -v d="$DURATION" 'BEGIN { printf "%.0f", r * d }')
    { awk -v b="$before" -v a="$after" -v n="$n" -v hz="$(getconf CLK_TCK)" -v peer="$peer" 'BEGIN {
        split(b, x, " "); split(a, y, " ")
        printf "%-16s %s requests; CPU per request: user %.1f us, system %.1f us; system calls per request:", peer, n,
          (y[1] - x[1]) / hz / n * 1e6, (y[2] - x[2]) / hz / n * 1e6 }'

      awk -F, -v n="$n" '($3 ~ /sys_enter_/ || $3 ~ /^(context-switches|page-faults)/) && $1 + 0 > 0 { name = $3; sub(/.*sys_enter_/, "", name)
          if (name !~ /-/) total += $1; if ($1 / n >= 0.01) printf "%.2f %s\n", $1 / n, name }
        END { printf "%.2f total\n", total / n }' "$stat" | sort -rn | awk '{ printf " %s %s", $2, $1 }'
      echo; } | tee -a "$out" >&2
  done
}
syscalls

# medians per (peer, conns, size), and ratios to nginx of the same run
{
  echo "# Interleaved proxy benchmark $STAMP"
  echo
  echo "$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')); peers pinned to CPU $PEER_CPU," \
    "wrk -t2 and the upstream on CPU $LOAD_CPU; $ROUNDS rounds x ${DURATION}s after ${WARMUP}s warm-up; medians." \
    "JAVA_OPTS='$JAVA_OPTS'; java: $(java -version 2>&1 | head -1)"
  [ -z "$BASELINE_JAR" ] || echo "Baseline peers: $BASELINE_JAR on $("$BASELINE_JAVA" -version 2>&1 | head -1), BASELINE_JAVA_OPTS='$BASELINE_JAVA_OPTS'."
  echo
  "$ROOT/bench/table.sh" "$RAW"
} > "$SUMMARY"
if [[ " $PEERS " == *" limit-shared "* ]]; then  # Redis commands per request answered by limit-shared
  served=$(curl -s "http://127.0.0.1:$P_LSHARED_ADMIN/metrics" | awk '/^portcullis_requests_total/ {n += $NF}
    END { printf "%.0f", n }')
  redis-cli -p "$P_REDIS" INFO commandstats | tr -d '\r' | awk -F'[:=,]' -v served="$served" '
    /^cmdstat_/ { name = substr($1, 9); calls[name] = $3; usec[name] = $5 }
    END { printf "\nlimit-shared answered %d requests; Redis served %d EVALSHA (%.3f per request, %.1f us each in Redis)" \
            " and %d EVAL; inside the script:", served, calls["evalsha"], calls["evalsha"] / (served ? served : 1),
            (calls["evalsha"] ? usec["evalsha"] / calls["evalsha"] : 0), calls["eval"]
          for (c in calls) if (c != "evalsha" && c != "eval" && c != "ping") printf " %s %d", c, calls[c]; print "" }' \
    >> "$SUMMARY"
fi
cat "$SUMMARY"
echo "raw: $RAW" >&2
