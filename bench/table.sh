#!/usr/bin/env bash
# Prints the Markdown table of a run's raw results (bench/results/<time>.tsv): the median of the rounds per
# (connections, size, peer), and each as a ratio to nginx's median in the same run.
#
# "per core" is req/s divided by the CPU the peer used (100 % = one core): nginx as a proxy with one worker does not
# always saturate its core (the load CPU can be the limit), so "x nginx" alone flatters whoever is busier.
#
# Usage: bench/table.sh bench/results/<time>.tsv
set -euo pipefail
RAW=${1:?usage: bench/table.sh RESULTS.tsv}
echo "| conns | size | peer | req/s | x nginx | req/s per core | per core x nginx | p50 ms | p99 ms | p99 x nginx | RSS MB | CPU % | non-2xx | errors |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
awk -F'\t' '
  NR > 1 { if (!($3 in seen_c)) { seen_c[$3]; cs[++nc] = $3 }
    if (!($4 in seen_s)) { seen_s[$4]; ss[++ns] = $4 }
    if (!($2 in seen_p)) { seen_p[$2]; other[++no] = $2 }
    k = $3 SUBSEP $4 SUBSEP $2; n[k]++; rps[k, n[k]] = $5; p50[k, n[k]] = $6; p99[k, n[k]] = $7
    rss[k, n[k]] = $8; cpu[k, n[k]] = $9; eff[k, n[k]] = ($9 > 0 ? $5 * 100 / $9 : 0); bad[k] += $10; err[k] += $11 }
  function median(a, k, c,    i, j, t, v) { for (i = 1; i <= c; i++) v[i] = a[k, i] + 0
    for (i = 2; i <= c; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
    return c % 2 ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2 }
  function ratio(x, base) { return base > 0 ? sprintf("%.2f", x / base) : "-" }
  END { m = split("upstream nginx haproxy portcullis-none portcullis-full baseline-none baseline-full limit-local limit-shared", known, " ")
    for (i = 1; i <= m; i++) if (known[i] in seen_p) { ps[++np] = known[i]; listed[known[i]] }
    for (i = 1; i <= no; i++) if (!(other[i] in listed)) ps[++np] = other[i]
    for (a = 1; a <= nc; a++) for (b = 1; b <= ns; b++) {
      ng = cs[a] SUBSEP ss[b] SUBSEP "nginx"
      ngr = n[ng] ? median(rps, ng, n[ng]) : 0; ng99 = n[ng] ? median(p99, ng, n[ng]) : 0
      nge = n[ng] ? median(eff, ng, n[ng]) : 0
      for (c = 1; c <= np; c++) { k = cs[a] SUBSEP ss[b] SUBSEP ps[c]; if (!n[k]) continue
        r = median(rps, k, n[k]); q = median(p99, k, n[k]); e = median(eff, k, n[k])
        printf "| %s | %s | %s | %.0f | %s | %.0f | %s | %.2f | %.2f | %s | %.0f | %.0f | %d | %d |\n", cs[a], ss[b], ps[c],
          r, ratio(r, ngr), e, ratio(e, nge), median(p50, k, n[k]), q, ratio(q, ng99),
          median(rss, k, n[k]) / 1024, median(cpu, k, n[k]), bad[k], err[k] } } }' "$RAW"
