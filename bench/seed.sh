#!/usr/bin/env bash
# Seeds what the scenarios use, through the public API, and writes the seed files into $BENCH_DATA:
#   tokens.tsv  token                 one per reader (BENCH_USERS users with BENCH_TASKS_PER_USER tasks each)
#   reads.tsv   token, task id        every reader's tasks
#   logins.tsv  e-mail, password      BENCH_LOGIN_USERS users that only ever log in (scenarios 4, 5, 8)
#   files.tsv   token, file id        one BENCH_FILE_MB MiB file for each of the first BENCH_FILE_USERS readers
#                                     (rewritten with tokens.tsv, from files-by-reader.tsv; likewise
#                                     files-content.tsv, scenario 6c's files, from files-content-by-reader.tsv)
# Accounts are registered and logged in at auth itself, not through the gateway, so the gateway's per-address
# limits on register and login do not stall seeding; seed files go straight to files, so seeding works whatever
# body size the gateway lets through. Account names carry a digest of the bench password (kept under
# $PLATFORM_RUN_DIR/secrets), so a new password never meets accounts registered with an old one. Re-running reuses the accounts (register answers 409).
# `seed.sh tokens [reader…]` logs readers (default: all) in again and rewrites tokens.tsv and reads.tsv: run.sh
# renews tokens before they expire (make run's live 1 minute), and scenario 7 renews them in turn while the keys rotate.
set -euo pipefail

: "${BENCH_DATA:?}" "${AUTH_URL:?}" "${GATEWAY_URL:?}" "${FILES_URL:?}" "${BENCH_PASSWORD:?}"
BENCH_USERS=${BENCH_USERS:-32}
BENCH_TASKS_PER_USER=${BENCH_TASKS_PER_USER:-4}
BENCH_LOGIN_USERS=${BENCH_LOGIN_USERS:-32}
BENCH_FILE_USERS=${BENCH_FILE_USERS:-4}
BENCH_FILE_MB=${BENCH_FILE_MB:-8}
PARALLEL=$(nproc)

ACCOUNTS="bench-$(printf '%s' "$BENCH_PASSWORD" | sha256sum | cut -c1-8)"

json_field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }

post_json() { curl -fsS --max-time 30 -X POST -H 'Content-Type: application/json' "$@"; }

register() {
  local email=$1 status
  status=$(curl -sS --max-time 30 -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"$BENCH_PASSWORD\"}" "$AUTH_URL/api/auth/register")
  [[ $status == 201 || $status == 409 ]] || { echo "register $email: HTTP $status" >&2; return 1; }
}

login() {
  local token
  token=$(post_json -d "{\"email\":\"$1\",\"password\":\"$BENCH_PASSWORD\"}" "$AUTH_URL/api/auth/login" | json_field accessToken)
  [[ -n $token ]] || { echo "login $1 failed" >&2; return 1; }
  echo "$token"
}

# One reader: account, token, tasks; prints "token<TAB>task id" lines.
seed_reader() {
  local email="$ACCOUNTS-reader-$1@bench.invalid" token id i
  register "$email" || return 1
  token=$(login "$email") || return 1
  for (( i = 1; i <= BENCH_TASKS_PER_USER; i++ )); do
    id=$(post_json -H "Authorization: Bearer $token" -d "{\"title\":\"bench task $i\",\"description\":\"seeded by make bench\"}" \
      "$GATEWAY_URL/api/tasks" | json_field id)
    [[ -n $id ]] || { echo "creating a task for $email failed" >&2; return 1; }
    printf '%s\t%s\n' "$token" "$id"
  done
}

relogin_reader() {
  local token
  token=$(login "$ACCOUNTS-reader-$1@bench.invalid") || return 1
  printf '%s\t%s\n' "$1" "$token"
}

seed_file() {
  local reader=$1 token=$2 id
  id=$(head -c "$(( BENCH_FILE_MB * 1048576 ))" /dev/urandom | curl -fsS --max-time 120 -X POST -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/octet-stream' --data-binary @- "$FILES_URL/api/files?name=bench-seed.bin" | json_field id)
  [[ -n $id ]] || { echo "uploading a seed file failed" >&2; return 1; }
  printf '%s\t%s\n' "$reader" "$id"
}

export -f json_field post_json register login seed_reader relogin_reader
export AUTH_URL GATEWAY_URL BENCH_PASSWORD BENCH_TASKS_PER_USER ACCOUNTS

# Writes through a temporary file and a rename, so a wrk thread re-reading it never sees half of it.
publish() { mv -f "$BENCH_DATA/$1.tmp" "$BENCH_DATA/$1"; }

# tokens.tsv and reads.tsv from reader-tokens.tsv (reader, token) and tasks-by-reader.tsv (reader, task ids…).
write_reads() {
  awk -F'\t' -v dir="$BENCH_DATA" 'NR == FNR { token[$1] = $2; next }
    { print token[$1] > (dir "/tokens.tsv.tmp"); for (i = 2; i <= NF; i++) print token[$1] "\t" $i > (dir "/reads.tsv.tmp") }' \
    "$BENCH_DATA/reader-tokens.tsv" "$BENCH_DATA/tasks-by-reader.tsv"
  publish tokens.tsv
  publish reads.tsv
  local table
  for table in files files-content; do
    [[ -f $BENCH_DATA/$table-by-reader.tsv ]] || continue
    awk -F'\t' 'NR == FNR { token[$1] = $2; next } { print token[$1] "\t" $2 }' \
      "$BENCH_DATA/reader-tokens.tsv" "$BENCH_DATA/$table-by-reader.tsv" >"$BENCH_DATA/$table.tsv.tmp"
    publish "$table.tsv"
  done
}

mkdir -p "$BENCH_DATA"
if [[ ${1:-} == tokens ]]; then
  shift
  readers=("$@")
  (( ${#readers[@]} )) || mapfile -t readers < <(cut -f1 "$BENCH_DATA/reader-tokens.tsv")
  printf '%s\n' "${readers[@]}" | xargs -P "$PARALLEL" -I{} bash -c 'relogin_reader {}' >"$BENCH_DATA/renewed"
  awk -F'\t' 'NR == FNR { renewed[$1] = $2; next } { print $1 "\t" ($1 in renewed ? renewed[$1] : $2) }' \
    "$BENCH_DATA/renewed" "$BENCH_DATA/reader-tokens.tsv" >"$BENCH_DATA/reader-tokens.tsv.tmp"
  publish reader-tokens.tsv
  write_reads
  exit 0
fi

seq 1 "$BENCH_USERS" | xargs -P "$PARALLEL" -I{} bash -c 'seed_reader {} | sed "s/^/{}\t/"' | sort -n >"$BENCH_DATA/seeded"
cut -f1,2 "$BENCH_DATA/seeded" | uniq >"$BENCH_DATA/reader-tokens.tsv"
awk -F'\t' '$1 != last { if (NR > 1) print line; line = $1; last = $1 } { line = line "\t" $3 } END { print line }' \
  "$BENCH_DATA/seeded" >"$BENCH_DATA/tasks-by-reader.tsv"
rm -f "$BENCH_DATA/seeded"
write_reads

: >"$BENCH_DATA/logins.tsv.tmp"
for (( i = 1; i <= BENCH_LOGIN_USERS; i++ )); do
  printf '%s-login-%d@bench.invalid\t%s\n' "$ACCOUNTS" "$i" "$BENCH_PASSWORD" >>"$BENCH_DATA/logins.tsv.tmp"
done
cut -f1 "$BENCH_DATA/logins.tsv.tmp" | xargs -P "$PARALLEL" -I{} bash -c 'register {}'
publish logins.tsv

: >"$BENCH_DATA/files-by-reader.tsv.tmp"
# A token of its own for each upload: the readers' tokens are as old as the seeding above, which on a busy machine
# takes longer than make run's 1-minute token lifetime.
head -n "$BENCH_FILE_USERS" "$BENCH_DATA/reader-tokens.tsv" | while read -r reader _; do
  seed_file "$reader" "$(login "$ACCOUNTS-reader-$reader@bench.invalid")" >>"$BENCH_DATA/files-by-reader.tsv.tmp"
done
publish files-by-reader.tsv
write_reads
