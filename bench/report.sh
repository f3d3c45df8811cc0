#!/usr/bin/env bash
# report.sh RUN_DIR RESULTS_DIR: turns one `make bench` run (RUN_DIR/meta.txt, RUN_DIR/results.tsv) into
# RESULTS_DIR/<date>-<commit>.md and .svg (a later run of the same commit on the same day replaces them): the
# table, ratios against the baselines measured in the same run, the issue's targets met or not, and the capacity
# plan for BENCH_TARGET_RPS at BENCH_CPU_TARGET of a pod's CPU.
#
# results.tsv columns: id, label, connections, seconds, requests, req/s, p50/p95/p99 ms, non-2xx (status >= 400),
# socket errors, bytes read, CPU ticks per group ("gateway=12,auth=3,…", 1 tick = 1/100 s), wrk=ticks, notes (key=value
# words; non2xx= is the measured service's own count of its answers of 400 or more, see measure.sh non2xx_note).
set -euo pipefail

RUN_DIR=$1
OUT_DIR=$2
BENCH_TARGET_RPS=${BENCH_TARGET_RPS:-100000}
BENCH_CPU_TARGET=${BENCH_CPU_TARGET:-65}
BENCH_POD_CORES=${BENCH_POD_CORES:-0.5}   # pod size of the plans at saturated cost (auth and files request 500m; the operating-point plan sizes gateway and tasks)

meta() { sed -n "s/^$1=//p" "$RUN_DIR/meta.txt" | head -n 1; }
settings() { sed -n 's/^duration=/duration=/p' "$RUN_DIR/meta.txt" | head -n 1; }

name="$(meta date | cut -c1-10)-$(meta commit)"
mkdir -p "$OUT_DIR"
md="$OUT_DIR/$name.md"
svg="$OUT_DIR/$name.svg"

awk -F'\t' -v svg="$svg" -v svgname="$name.svg" -v date="$(meta date)" -v commit="$(meta commit)" -v cores="$(meta cores)" \
  -v cpu="$(meta cpu)" -v kernel="$(meta kernel)" -v load_before="$(meta load_before)" -v load_after="$(meta load_after)" \
  -v settings="$(settings)" -v platform="$(meta platform)" -v data="$(meta data)" -v target_rps="$BENCH_TARGET_RPS" -v cpu_target="$BENCH_CPU_TARGET" \
  -v pod_cores="$BENCH_POD_CORES" -v rate_target="$(meta rate)" -v file_mb="$(settings | sed -n 's/.*file_mb=\([0-9]*\).*/\1/p')" '
function cpu_of(row, group) { return (row SUBSEP group) in ticks ? ticks[row, group] : 0 }
# CPU seconds per 1,000 requests = ticks / 100 / requests * 1000.
function per_k(row, group) { return requests[row] > 0 ? cpu_of(row, group) * 10 / requests[row] : 0 }
function us_per_req(row, group) { return per_k(row, group) * 1000 }
function pg_us(row) { return us_per_req(row, "pg-primary") + us_per_req(row, "pg-replica") }
function total_us(row,    g, sum) { sum = 0; for (g = 1; g <= ngroups; g++) if (groups[g] != "nginx" && groups[g] != "baseline") sum += us_per_req(row, groups[g]); return sum }
function has(id) { return (id in row_of) && requests[row_of[id]] > 0 }
function note(id, key) { return (id in row_of) && ((row_of[id] SUBSEP key) in notes) ? notes[row_of[id], key] : "n/a" }
function fmt(x, d) { return sprintf("%." d "f", x) }
function met(ok) { return ok ? "**met**" : "**not met**" }
function mbps(row) { return seconds[row] > 0 ? (id_of[row] ~ /^6u/ ? (requests[row] - non2xx[row]) * file_mb * 1048576 : bytes[row]) / seconds[row] / 1e6 : 0 }
function ceil(x) { return x == int(x) ? x : int(x) + 1 }
function log10(x) { return log(x) / log(10) }
function esc(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); return s }

BEGIN {
  ngroups = split("gateway auth tasks files pg-primary pg-replica redis rabbitmq nginx baseline", groups, " ")
}
{
  n++; id_of[n] = $1; row_of[$1] = n; label[n] = $2; conns[n] = $3; seconds[n] = $4; requests[n] = $5; rps[n] = $6
  p50[n] = $7; p95[n] = $8; p99[n] = $9; non2xx[n] = $10; sockerr[n] = $11; bytes[n] = $12
  k = split($13, pairs, ","); for (i = 1; i <= k; i++) { split(pairs[i], kv, "="); ticks[n, kv[1]] = kv[2] }
  split($14, kv, "="); wrk[n] = kv[2]
  k = split($15, pairs, " "); for (i = 1; i <= k; i++) { split(pairs[i], kv, "="); notes[n, kv[1]] = kv[2] }
}
END {
  smoke = (settings ~ /duration=([0-9]|1[0-9]) /) || (load_before + 0 > cores * 0.25)
  print "# Benchmark " substr(date, 1, 10) " — commit " commit
  print ""
  print "Machine: " cores " cores, " cpu ", Linux " kernel ". Load average before / after: " load_before " / " load_after "."
  print "Settings: `" settings "` (seconds per scenario, after the warm-up). Platform: " platform (data == "" ? "" : "; data " data) "."
  print "Run with `make bench`; everything below comes from one run of `bench/run.sh` on loopback."
  if (smoke) {
    print ""
    print "> **Smoke run** (short, or on a machine that was busy before it started): the absolute figures are noise;"
    print "> read the ratios and the CPU per request, which other processes on the machine do not inflate."
  }
  print ""
  print "## Results"
  print ""
  print "CPU is in seconds per 1,000 requests for each process group (its process tree, from /proc); *platform* sums"
  print "the four services and the data tier (µs per request), without wrk and the baselines. Non-2xx counts statuses"
  print "of 400 or more as wrk sees them; socket errors (connect, read, write, timeout) are counted apart."
  print ""
  print "| # | scenario | conn | req/s | p50 ms | p95 ms | p99 ms | non-2xx | sock err | MB/s | gateway | auth | tasks | files | pg primary | pg replica | redis | rabbitmq | nginx | kestrel | platform µs/req | wrk |"
  print "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
  for (r = 1; r <= n; r++) {
    if (requests[r] == 0) { print "| " id_of[r] " | " label[r] " | " conns[r] " | " note(id_of[r], "not_available") " ||||||||||||||||||||"; continue }
    line = "| " id_of[r] " | " label[r] " | " conns[r] " | " fmt(rps[r], 1) " | " fmt(p50[r], 2) " | " fmt(p95[r], 2) " | " fmt(p99[r], 2) " | " non2xx[r] " | " sockerr[r] " | " (id_of[r] ~ /^6/ ? fmt(mbps(r), 0) : "") " |"
    for (g = 1; g <= ngroups; g++) line = line " " fmt(per_k(r, groups[g]), 3) " |"
    print line " " fmt(total_us(r), 0) " | " fmt(wrk[r] * 10 / requests[r], 3) " |"
  }
  print ""
  print "Notes per scenario (ratios from the services'"'"' own counters over the measured interval):"
  print ""
  for (r = 1; r <= n; r++) if (notes_line(r) != "") print "- " id_of[r] ": " notes_line(r)
  print ""
  print "![throughput and p99 per scenario](" svgname ")"

  print ""
  print "## Ratios against the baselines of this run"
  print ""
  if (has("baseline") && has("1")) {
    print "- Cached read through the gateway: " fmt(rps[row_of["1"]] / rps[row_of["baseline"]] * 100, 1) "% of the bare Kestrel endpoint'"'"'s req/s; it costs " \
      fmt(total_us(row_of["1"]) / us_per_req(row_of["baseline"], "baseline"), 1) "× the baseline'"'"'s CPU per request (" fmt(total_us(row_of["1"]), 0) " vs " fmt(us_per_req(row_of["baseline"], "baseline"), 0) " µs)."
  }
  if (has("baseline") && has("2")) {
    print "- The same read straight to tasks: " fmt(rps[row_of["2"]] / rps[row_of["baseline"]] * 100, 1) "% of the baseline'"'"'s req/s; tasks alone costs " \
      fmt(us_per_req(row_of["2"], "tasks") / us_per_req(row_of["baseline"], "baseline"), 1) "× the baseline'"'"'s CPU per request."
  }
  if (has("nginx") && has("1")) {
    gw_ratio = us_per_req(row_of["1"], "gateway") / us_per_req(row_of["nginx"], "nginx")
    print "- The proxy hop: the gateway spends " fmt(us_per_req(row_of["1"], "gateway"), 0) " µs of CPU per request, nginx " fmt(us_per_req(row_of["nginx"], "nginx"), 0) \
      " µs for the same request (" fmt(gw_ratio, 2) "×; the gateway also validates the token and adds the security headers). Through nginx the read runs at " \
      fmt(rps[row_of["nginx"]], 0) " req/s, through the gateway at " fmt(rps[row_of["1"]], 0) " req/s."
  }
  if (has("1") && has("2")) {
    print "- Gateway overhead on the platform'"'"'s total: " fmt(total_us(row_of["1"]) - total_us(row_of["2"]), 0) " µs of CPU per request (scenario 1 − scenario 2); p99 " \
      fmt(p99[row_of["1"]], 2) " ms vs " fmt(p99[row_of["2"]], 2) " ms."
  }
  if (has("2")) {
    pg = us_per_req(row_of["2"], "pg-primary") + us_per_req(row_of["2"], "pg-replica")
    print "- Where a cached read'"'"'s CPU goes (scenario 2): tasks " fmt(us_per_req(row_of["2"], "tasks"), 0) " µs, PostgreSQL " fmt(pg, 0) " µs, Redis " \
      fmt(us_per_req(row_of["2"], "redis"), 0) " µs — PostgreSQL is " fmt(pg / total_us(row_of["2"]) * 100, 0) "% of it."
  }

  if (has("r1") && has("r2")) {
    print "- At one fixed offered rate (" conns[row_of["r1"]] " connections sending " note_rate() " req/s on a schedule): tasks behind the gateway spends " fmt(us_per_req(row_of["r1"], "tasks"), 0) \
      " µs per read, tasks called directly " fmt(us_per_req(row_of["r2"], "tasks"), 0) " µs (" fmt(us_per_req(row_of["r1"], "tasks") / us_per_req(row_of["r2"], "tasks"), 2) "×); saturated, " \
      (has("1") && has("2") ? fmt(us_per_req(row_of["1"], "tasks"), 0) " vs " fmt(us_per_req(row_of["2"], "tasks"), 0) " µs" : "not measured") "."
  }
  if (has("r1") && has("r-nginx")) {
    print "- The proxy hop at the fixed rate: gateway " fmt(us_per_req(row_of["r1"], "gateway"), 0) " µs, nginx " fmt(us_per_req(row_of["r-nginx"], "nginx"), 0) " µs (" \
      fmt(us_per_req(row_of["r1"], "gateway") / us_per_req(row_of["r-nginx"], "nginx"), 2) "×); the bare Kestrel endpoint " \
      (has("r-base") ? fmt(us_per_req(row_of["r-base"], "baseline"), 0) " µs at that rate vs " fmt(us_per_req(row_of["baseline"], "baseline"), 0) " µs saturated" : "not measured") "."
  }
  runtime_table()
  curve_section()

  print ""
  print "## Targets (issue 15)"
  print ""
  print "| target | figure | |"
  print "|---|---|---|"
  if (has("1")) print "| platform CPU per cached read via the gateway ≤ 150 µs (saturated; moonshot 100) | " fmt(total_us(row_of["1"]), 0) " µs | " met(total_us(row_of["1"]) <= 150) " |"
  if (has("r1")) print "| platform CPU per cached read via the gateway ≤ 150 µs at " note_rate() " req/s | " fmt(total_us(row_of["r1"]), 0) " µs | " met(total_us(row_of["r1"]) <= 150) " |"
  if (has("1") && has("nginx")) print "| gateway CPU ≤ 2 × nginx'"'"'s for the same hop (saturated) | " fmt(us_per_req(row_of["1"], "gateway"), 0) " vs " fmt(us_per_req(row_of["nginx"], "nginx"), 0) " µs: " fmt(gw_ratio, 2) "× | " met(gw_ratio <= 2) " |"
  if (has("r1") && has("r-nginx")) { r = us_per_req(row_of["r1"], "gateway") / us_per_req(row_of["r-nginx"], "nginx"); print "| gateway CPU ≤ 2 × nginx'"'"'s at " note_rate() " req/s | " fmt(r, 2) "× | " met(r <= 2) " |" }
  if (has("r1") && has("r2")) { r = us_per_req(row_of["r1"], "tasks") / us_per_req(row_of["r2"], "tasks"); print "| tasks behind the gateway within 1.3 × of tasks direct at the same offered rate | " fmt(r, 2) "× | " met(r <= 1.3) " |" }
  if (has("8a") && has("8b")) print "| cached-read p99 during a login storm ≤ 2 × alone (one machine: every thread an equal turn) | " fmt(p99[row_of["8b"]] / p99[row_of["8a"]], 2) "× | " met(p99[row_of["8b"]] <= 2 * p99[row_of["8a"]]) " |"
  if (has("8c") && has("8d")) print "| cached-read p99 during a login storm ≤ 2 × alone (processes weighted like their pods'"'"' CPU requests) | " fmt(p99[row_of["8d"]] / p99[row_of["8c"]], 2) "× | " met(p99[row_of["8d"]] <= 2 * p99[row_of["8c"]]) " |"
  if (has("8e") && has("8f")) print "| cached-read p99 during a login storm ≤ 2 × alone (weighted like pods, reads at a fixed rate below saturation: 8e, 8f) | " fmt(p99[row_of["8f"]] / p99[row_of["8e"]], 2) "× | " met(p99[row_of["8f"]] <= 2 * p99[row_of["8e"]]) " |"
  if (has("8g") && has("8h")) print "| cached-read p99 during a login storm ≤ 2 × alone (reads at that rate, auth, PostgreSQL and RabbitMQ on a CPU of their own as on nodes of their own: 8g, 8h) | " fmt(p99[row_of["8h"]] / p99[row_of["8g"]], 2) "× | " met(p99[row_of["8h"]] <= 2 * p99[row_of["8g"]]) " |"

  print ""
  print "## Other targets (issue 8)"
  print ""
  print "| target | figure | |"
  print "|---|---|---|"
  for (s = 1; s <= 2; s++) {
    id = s == 1 ? "4a" : "4b"
    if (!has(id)) continue
    hash_ms = note(id, "hash_ms")
    if (hash_ms == "n/a" || hash_ms + 0 <= 0) { print "| login (" label[row_of[id]] ") ≥ 90 % of the bcrypt limit | no hash time measured | – |"; continue }
    limit = cores / (hash_ms / 1000)
    ok_rps = rps[row_of[id]] * (requests[row_of[id]] - non2xx[row_of[id]]) / requests[row_of[id]]
    # Hash time is wall time, inflated when other processes want the cores too; the CPU auth spends per login is not.
    print "| login (" label[row_of[id]] ") ≥ 90 % of the bcrypt limit | " fmt(ok_rps, 1) " successful logins/s vs " cores " cores ÷ " hash_ms " ms = " fmt(limit, 1) "/s: " fmt(ok_rps / limit * 100, 0) " %" \
      (non2xx[row_of[id]] > 0 ? " (" non2xx[row_of[id]] " refused)" : "") "; auth CPU per login " fmt(per_k(row_of[id], "auth"), 0) " ms, so " fmt(cores / (per_k(row_of[id], "auth") / 1000), 1) "/s on idle cores | " met(ok_rps >= 0.9 * limit) " |"
  }
  if ("7" in row_of) {
    r = row_of["7"]
    if (requests[r] == 0) print "| rotation under load: 0 failed requests | not available (no rotate-keys target) | – |"
    else print "| rotation under load: 0 failed requests | " non2xx[r] + sockerr[r] " failed of " requests[r] " (make rotate-keys " note("7", "rotate_keys") ", " note("7", "rotation_s") " s) | " met(non2xx[r] + sockerr[r] == 0 && note("7", "rotate_keys") == "ok") " |"
  }
  if (has("6u")) print "| files: upload ≥ 200 MB/s through the gateway (content in PostgreSQL) | " fmt(mbps(row_of["6u"]), 0) " MB/s | " met(mbps(row_of["6u"]) >= 200) " |"
  if (has("6d")) print "| files: download ≥ 200 MB/s through the gateway (content in PostgreSQL) | " fmt(mbps(row_of["6d"]), 0) " MB/s | " met(mbps(row_of["6d"]) >= 200) " |"
  if (has("6u-c")) print "| files: upload ≥ 200 MB/s through the gateway (content directory, scenario 6c) | " fmt(mbps(row_of["6u-c"]), 0) " MB/s | " met(mbps(row_of["6u-c"]) >= 200) " |"
  if (has("6d-c")) print "| files: download ≥ 200 MB/s through the gateway (content directory, scenario 6c) | " fmt(mbps(row_of["6d-c"]), 0) " MB/s | " met(mbps(row_of["6d-c"]) >= 200) " |"

  print ""
  print "## Capacity plan for " target_rps " req/s at the ingress"
  print ""
  print "From the CPU each process group spent per ingress request, for " target_rps " req/s with every pod at " cpu_target " % of its CPU"
  print "(pods of " pod_cores " core, auth'"'"'s and files'"'"' CPU request). A service'"'"'s `rpsPerPod` is the rate of *its own* requests (share × ingress) one pod"
  print "carries at that target. The data tier is sized in cores. The plans at saturated cost price every request as if its process were busy;"
  print "the operating-point plan below adds what a request costs more at a pod'"'"'s own rate, and sizes the gateway'"'"'s and tasks'"'"' pods by it."
  session_plan()
  operating_plan()
  plan("5", "the session mix as measured (one login per 360 requests, no refreshes)", "gateway=1 tasks=" fmt(359 / 360, 4) " auth=" fmt(1 / 360, 4))
  plan("1", "pure cached reads", "gateway=1 tasks=1 auth=0")
  plan("4b", "pure logins", "gateway=1 tasks=0 auth=1")
  users_section()

  chart()
}
function note_rate() { return rate_target != "" ? rate_target : "n/a" }
# The runtime settings of scenario "runtime": each setting at the fixed rate and saturated, side by side.
function runtime_table(    r, label_of, k) {
  if (!has("k1-r")) return
  print ""
  print "### Runtime settings (scenario runtime: gateway and tasks restarted with each)"
  print ""
  print "| setting | at " note_rate() " req/s: gateway µs | tasks µs | PostgreSQL µs | platform µs | saturated: req/s | gateway µs | tasks µs | PostgreSQL µs | platform µs |"
  print "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
  for (k = 1; ("k" k "-r") in row_of; k++) {
    r = row_of["k" k "-r"]; s = row_of["k" k "-s"]
    setting = label[r]; sub(/^[^,]*, /, "", setting)
    if (setting ~ /=/) setting = "`" setting "`"
    print "| " setting " | " fmt(us_per_req(r, "gateway"), 0) " | " fmt(us_per_req(r, "tasks"), 0) " | " fmt(pg_us(r), 0) " | " fmt(total_us(r), 0) " | " \
      (s ? fmt(rps[s], 0) " | " fmt(us_per_req(s, "gateway"), 0) " | " fmt(us_per_req(s, "tasks"), 0) " | " fmt(pg_us(s), 0) " | " fmt(total_us(s), 0) : "| | | |") " |"
  }
}
# Scenario "curve": scenario 1 at rising offered rates. Below saturation a request arrives alone and wakes threads of
# its own, so the CPU per request falls as the rate rises; a pod at the CPU target sits somewhere on this curve, not
# at the saturated end the plans below are computed from.
function curve_section(    m, i, j, t, row, svc, c, budget, prev_r, prev_c, r_i, c_i, carried, sat_cost, found) {
  m = 0
  for (i = 1; i <= n; i++) if (id_of[i] ~ /^c[0-9]+$/ && requests[i] > 0) crow[++m] = i
  if (m == 0) return
  sort_by_rate(crow, m)
  if (has("1")) crow[++m] = row_of["1"]
  curve_m = m
  budget = pod_cores * cpu_target / 100
  print ""
  print "### CPU per cached read against the offered rate (scenario curve: scenario 1 at each rate, arrivals as from independent clients)"
  print ""
  print "| offered | req/s | p50 ms | p99 ms | gateway µs | tasks µs | platform µs | gateway cores | tasks cores |"
  print "|---|--:|--:|--:|--:|--:|--:|--:|--:|"
  for (i = 1; i <= m; i++) {
    row = crow[i]
    print "| " (id_of[row] == "1" ? "saturated (scenario 1)" : substr(id_of[row], 2) " req/s") " | " fmt(rps[row], 0) " | " fmt(p50[row], 2) " | " fmt(p99[row], 2) " | " \
      fmt(us_per_req(row, "gateway"), 0) " | " fmt(us_per_req(row, "tasks"), 0) " | " fmt(total_us(row), 0) " | " \
      fmt(us_per_req(row, "gateway") * rps[row] / 1e6, 3) " | " fmt(us_per_req(row, "tasks") * rps[row] / 1e6, 3) " |"
  }
  print ""
  print "What one pod carries at " cpu_target " % of " pod_cores " core (" fmt(budget, 3) " core), read off this curve (linear between its points) and"
  print "from the saturated cost alone (what the plans below assume):"
  print ""
  split("gateway tasks", svc, " ")
  for (j = 1; j <= 2; j++) {
    prev_r = 0; prev_c = 0; found = 0
    for (i = 1; i <= m && !found; i++) {
      r_i = rps[crow[i]]; c_i = us_per_req(crow[i], svc[j]) * r_i / 1e6
      if (c_i >= budget) {
        carried = c_i > prev_c ? prev_r + (r_i - prev_r) * (budget - prev_c) / (c_i - prev_c) : r_i
        found = 1
      }
      prev_r = r_i; prev_c = c_i
    }
    sat_cost = has("1") ? us_per_req(row_of["1"], svc[j]) : 0
    print "- " svc[j] ": " (found ? "≈ " fmt(carried, 0) : "more than " fmt(prev_r, 0) " (the curve never reached the budget)") " cached reads/s by the curve; " \
      (sat_cost > 0 ? fmt(budget / (sat_cost / 1e6), 0) " by the saturated cost (" fmt(sat_cost, 0) " µs per read)" : "saturated cost not measured") "."
  }
}
# The realistic plan: CPU per request of each kind (scenarios 1, 3, 4b, R) weighted by the session model.
function session_us(group,    kinds, shares, i, us) {
  split("1 3 4b R", kinds, " "); split("305 54 1 3", shares, " ")
  us = 0
  for (i = 1; i <= 4; i++) us += shares[i] / 364 * us_per_req(row_of[kinds[i]], group)
  return us
}
function session_share(group) { return group == "gateway" ? 1 : group == "tasks" ? 359 / 364 : group == "auth" ? 4 / 364 : 0 }
function session_plan(    kinds, i, k, g, us, total, share_of, cores_needed, per_pod, pods, total_cores, missing) {
  print ""
  print "### the session model (scenarios 1, 3, 4b and R weighted, at their saturated cost)"
  print ""
  print "A session logs in once, makes one API call every 5 s for 30 minutes (the idle timeout; 360 calls), 15 % of them"
  print "writes, and refreshes its access token every 10 minutes (the token lifetime; 3 refreshes). Per ingress request:"
  print "reads " fmt(305 / 364 * 100, 2) " %, creates " fmt(54 / 364 * 100, 2) " %, logins " fmt(1 / 364 * 100, 2) " %, refreshes " fmt(3 / 364 * 100, 2) " %."
  print "A client that keeps its refresh token across days logs in even less; one that is idle longer makes fewer calls."
  print ""
  split("1 3 4b R", kinds, " ")
  missing = ""
  for (i = 1; i <= 4; i++) if (!has(kinds[i])) missing = missing " " kinds[i]
  if (missing != "") { print "Not computed: scenario(s)" missing " not run."; return }
  print "| part | CPU µs per ingress request | share | cores at " cpu_target " % | pods | rpsPerPod |"
  print "|---|--:|--:|--:|--:|--:|"
  total_cores = 0; total = 0
  for (g = 1; g <= ngroups; g++) {
    if (groups[g] == "nginx" || groups[g] == "baseline") continue
    us = session_us(groups[g])
    total += us
    cores_needed = target_rps * us / 1e6 / (cpu_target / 100)
    total_cores += cores_needed
    share_of = session_share(groups[g])
    if (share_of > 0 && us > 0) {
      per_pod = int(pod_cores * cpu_target / 100 / (us / share_of / 1e6))
      pods = ceil(share_of * target_rps / per_pod)
      print "| " groups[g] " | " fmt(us, 1) " | " fmt(share_of, 4) " | " fmt(cores_needed, 1) " | " pods " | " per_pod " |"
    } else {
      print "| " groups[g] " | " fmt(us, 1) " | | " fmt(cores_needed, 1) " | | |"
    }
  }
  print "| **total** | " fmt(total, 1) " | | **" fmt(total_cores, 0) "** | | |"
}
# The session model where the pods really run. A pod at its CPU target serves a few hundred to a few thousand
# requests a second, and a request that arrives alone costs more than one in a busy process (it wakes threads of its
# own): scenario curve measures that extra CPU per read at each rate, its cost there less the saturated cost. Added to
# the cost per request of the session model, it gives what one pod of each size carries at the target. A larger pod runs
# further along the curve, so each of its requests costs less.
function operating_plan(    sizes, svc, z, j, i, k, c, mm, budget, base, top, r, per_pod, pods, cores_requested, line, beyond) {
  print ""
  print "### the session model at the pods'"'"' operating point (scenarios curve and mixcurve added) — the plan the ScalingPolicy defaults follow"
  print ""
  if (curve_m < 2 || !has("1") || !has("3") || !has("4b") || !has("R")) { print "Not computed: needs scenarios curve, 1, 3, 4b and R."; return }
  split("gateway tasks", svc, " ")
  for (j = 1; j <= 2; j++) {
    # The curve as (rate, extra µs) points of rising rate; the saturated end has no extra by definition.
    k = 0; top[j] = 0
    for (i = 1; i <= curve_m; i++) {
      c = us_per_req(crow[i], svc[j]) * rps[crow[i]] / 1e6
      if (c > top[j]) top[j] = c
      if (k > 0 && rps[crow[i]] <= point_rate[j, k]) continue
      point_rate[j, ++k] = rps[crow[i]]
      point_extra[j, k] = i == curve_m ? 0 : max0(us_per_req(crow[i], svc[j]) - us_per_req(row_of["1"], svc[j]))
    }
    points[j] = k
  }
  # Scenario mixcurve, where it ran: the own extra of the session mix (its cost at each rate less the saturated cost of its
  # reads and writes, scenarios 1 and 3 weighted 306 : 54), which the read curve only approximates.
  mm = 0
  for (i = 1; i <= n; i++) if (id_of[i] ~ /^m[0-9]+$/ && requests[i] > 0) mrow[++mm] = i
  sort_by_rate(mrow, mm)
  for (j = 1; j <= 2; j++) {
    k = 0
    for (i = 1; i <= mm; i++) {
      if (k > 0 && rps[mrow[i]] <= mix_rate[j, k]) continue
      mix_rate[j, ++k] = rps[mrow[i]]
      mix_extra[j, k] = max0(us_per_req(mrow[i], svc[j]) - (306 * us_per_req(row_of["1"], svc[j]) + 54 * us_per_req(row_of["3"], svc[j])) / 360)
    }
    mix_points[j] = k
  }
  print "| pod CPU request | gateway rpsPerPod | gateway pods | tasks rpsPerPod | tasks pods | cores requested by gateway and tasks |"
  print "|---|--:|--:|--:|--:|--:|"
  split("0.5 1 2", sizes, " ")
  beyond = 0
  for (z = 1; z <= 3; z++) {
    budget = sizes[z] * cpu_target / 100
    line = "| " sizes[z] " core | "; cores_requested = 0
    for (j = 1; j <= 2; j++) {
      base = session_us(svc[j]) / session_share(svc[j])
      for (r = 10; r < 1e6 && (r + 10) * (base + extra_us(j, r + 10)) / 1e6 <= budget; r += 10) ;
      per_pod = r
      pods = ceil(session_share(svc[j]) * target_rps / per_pod)
      cores_requested += pods * sizes[z]
      line = line per_pod (budget > top[j] ? " †" : "") " | " pods " | "
      if (budget > top[j]) beyond = 1
    }
    print line fmt(cores_requested, 0) " |"
  }
  print ""
  if (mix_points[1] > 0 && mix_points[2] > 0)
    print "The extra CPU per request at a pod'"'"'s rate is the session mix'"'"'s own (scenario mixcurve) up to " fmt(mix_rate[1, mix_points[1]], 0) " req/s, and beyond that the read curve'"'"'s, scaled to meet it."
  else
    print "Each kind of request is taken to pay the cached read'"'"'s extra when it arrives alone (scenario mixcurve did not run)."
  if (beyond) print "† Busier than any point of the curve (on this machine one process reached at most " fmt(top[1], 2) " core for the gateway, " fmt(top[2], 2) \
    " for tasks): the extra is taken as 0, the saturated cost — an estimate beyond what was measured."
}
function max0(x) { return x > 0 ? x : 0 }
function extra_us(j, r,    top_rate) {
  if (mix_points[j] == 0) return read_extra_us(j, r)
  top_rate = mix_rate[j, mix_points[j]]
  if (r <= top_rate) return along(mix_rate, mix_extra, j, mix_points[j], r)
  return read_extra_us(j, top_rate) > 0 ? read_extra_us(j, r) * mix_extra[j, mix_points[j]] / read_extra_us(j, top_rate) : read_extra_us(j, r)
}
function read_extra_us(j, r) { return along(point_rate, point_extra, j, points[j], r) }
# y at x on the line through the points (xs[j, k], ys[j, k]), k = 1..n, of rising x; flat beyond its ends.
function along(xs, ys, j, n, x,    k) {
  if (x <= xs[j, 1]) return ys[j, 1]
  for (k = 2; k <= n; k++)
    if (x <= xs[j, k]) return ys[j, k - 1] + (ys[j, k] - ys[j, k - 1]) * (x - xs[j, k - 1]) / (xs[j, k] - xs[j, k - 1])
  return ys[j, n]
}
# Insertion sort of rows[1..m] by their req/s.
function sort_by_rate(rows, m,    i, j, t) {
  for (i = 2; i <= m; i++) for (j = i; j > 1 && rps[rows[j]] < rps[rows[j - 1]]; j--) { t = rows[j]; rows[j] = rows[j - 1]; rows[j - 1] = t }
}
# Scenario U: latency, errors and the memory of each process with 1,000 users at once.
function users_section(    r, k, g) {
  if (!has("U")) return
  r = row_of["U"]
  print ""
  print "## " conns[r] " users at once (scenario U)"
  print ""
  print conns[r] " connections of the session mix through the gateway: " fmt(rps[r], 0) " req/s, p50 " fmt(p50[r], 2) " ms, p99 " fmt(p99[r], 2) " ms, " \
    non2xx[r] " non-2xx" refusals("U") " and " sockerr[r] " socket errors of " requests[r] " requests."
  print ""
  if (has("U-r")) {
    k = row_of["U-r"]
    print "At " fmt(rps[k], 0) " req/s from the same " conns[k] " connections (each waiting between its requests, as users do): p50 " fmt(p50[k], 2) \
      " ms, p95 " fmt(p95[k], 2) " ms, p99 " fmt(p99[k], 2) " ms, " non2xx[k] " non-2xx" refusals("U-r") " and " sockerr[k] " socket errors of " requests[k] " requests."
    print ""
  }
  print "| process group | largest resident set, MiB |"
  print "|---|--:|"
  for (g = 1; g <= ngroups; g++) if (note("U", "rss_mib_" groups[g]) != "n/a") print "| " groups[g] " | " note("U", "rss_mib_" groups[g]) " |"
}
# " (81 × 503 at /api/auth/login, …)": the non2xx note (bench/measure.sh non2xx_note) in words, or "".
function refusals(id,    text, k, i, parts, f, line) {
  text = note(id, "non2xx")
  if (text == "n/a") return ""
  k = split(text, parts, ";")
  for (i = 1; i <= k; i++) { split(parts[i], f, ":"); line = line (i > 1 ? ", " : "") f[3] " × " f[1] " at " f[2] }
  return " (as the gateway counted them: " line ")"
}
function notes_line(r,    key, line) {
  line = ""
  for (key in notes) { split(key, parts, SUBSEP); if (parts[1] == r) line = line (line == "" ? "" : ", ") parts[2] " " notes[key] }
  return line
}
function plan(id, title, shares_text,    k, i, kv, share, g, us, cores_needed, pods, per_pod, total_cores, row) {
  print ""
  print "### " title " (scenario " id ")"
  print ""
  if (!has(id)) { print "Scenario " id " was not run."; return }
  row = row_of[id]
  print "| part | CPU µs per ingress request | share | cores at " cpu_target " % | pods | rpsPerPod |"
  print "|---|--:|--:|--:|--:|--:|"
  k = split(shares_text, pairs, " ")
  total_cores = 0
  for (i = 1; i <= k; i++) {
    split(pairs[i], kv, "="); g = kv[1]; share = kv[2]
    us = us_per_req(row, g)
    cores_needed = target_rps * us / 1e6 / (cpu_target / 100)
    if (share == 0 || us == 0) { print "| " g " | " fmt(us, 1) " | " share " | " fmt(cores_needed, 1) " | – | – |"; total_cores += cores_needed; continue }
    per_pod = int(pod_cores * cpu_target / 100 / (us / share / 1e6))
    pods = ceil(share * target_rps / per_pod)
    total_cores += cores_needed
    print "| " g " | " fmt(us, 1) " | " share " | " fmt(cores_needed, 1) " | " pods " | " per_pod " |"
  }
  split("pg-primary pg-replica redis rabbitmq files", data_tier, " ")
  for (i = 1; i <= 5; i++) {
    us = us_per_req(row, data_tier[i])
    cores_needed = target_rps * us / 1e6 / (cpu_target / 100)
    total_cores += cores_needed
    print "| " data_tier[i] " | " fmt(us, 1) " | | " fmt(cores_needed, 1) " | | |"
  }
  print "| **total** | " fmt(total_us(row), 1) " | | **" fmt(total_cores, 0) "** | | |"
}
# Two panels of horizontal bars on log scales (the rates span 10 to 10⁴ req/s): req/s (or MB/s for files) and p99.
function chart(    r, y, w, h, bar, x0, x1, width, maxlog, value, rows) {
  rows = 0; for (r = 1; r <= n; r++) if (requests[r] > 0) rows++
  h = 40 + rows * 26 + 30; width = 960; x0 = 250; x1 = 620; bar = 320
  printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">\n", width, h > svg
  printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n" > svg
  printf "<text x=\"%d\" y=\"20\" font-weight=\"bold\">req/s (files: MB/s), log scale</text>\n", x0 > svg
  printf "<text x=\"%d\" y=\"20\" font-weight=\"bold\">p99 latency, ms, log scale</text>\n", x1 > svg
  y = 36
  for (r = 1; r <= n; r++) {
    if (requests[r] == 0) continue
    printf "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", x0 - 8, y + 14, esc(id_of[r] " " label[r]) > svg
    value = id_of[r] ~ /^6/ ? mbps(r) : rps[r]
    w = value > 1 ? bar * log10(value) / 5 : 2
    printf "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"18\" fill=\"%s\"/>\n", x0, y, w, id_of[r] ~ /^(baseline|nginx)$/ ? "#9e9e9e" : "#3b75af" > svg
    printf "<text x=\"%.1f\" y=\"%d\">%s</text>\n", x0 + w + 4, y + 14, fmt(value, value < 100 ? 1 : 0) > svg
    w = p99[r] > 0.1 ? bar * (log10(p99[r]) + 1) / 5 : 2
    printf "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"18\" fill=\"%s\"/>\n", x1, y, w, id_of[r] ~ /^(baseline|nginx)$/ ? "#bdbdbd" : "#e1812c" > svg
    printf "<text x=\"%.1f\" y=\"%d\">%s</text>\n", x1 + w + 4, y + 14, fmt(p99[r], 1) > svg
    y += 26
  }
  printf "<text x=\"%d\" y=\"%d\" fill=\"#666\">bars: 1 to 100,000 req/s across; 0.1 ms to 10 s across. Grey: baselines.</text>\n", x0, y + 16 > svg
  print "</svg>" > svg
}' "$RUN_DIR/results.tsv" >"$md"

# Scenario S (bench/streams.sh's JSON): the gateway's memory per idle event stream.
if [[ -s "$RUN_DIR/streams.json" ]]; then
  python3 - "$RUN_DIR/streams.json" >>"$md" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
rss = s["gateway_vmrss_kib"]
print()
print("## Idle event streams (scenario S)")
print()
print(f"{s['streams']} idle `GET /api/events` streams of {s['users']} users held through the gateway for {s['hold_seconds']:g} s "
      f"(opened in {s['opened_in_seconds']:g} s; {s['still_open_after_hold']} still open after the hold; the gateway's "
      f"`gateway_event_streams_open` read {s['gateway_event_streams_open'] or 0:.0f}). Gateway VmRSS: {rss['before'] / 1024:.0f} MiB before, "
      f"{rss['open'] / 1024:.0f} MiB with them open, {rss['after_hold'] / 1024:.0f} MiB after the hold: "
      f"**{s['kib_per_stream']:.1f} KiB per idle stream**.")
PY
fi

echo "bench: report $md"
cat "$md"
