# Managed by louieops (files/backup/backup-lib.sh); local edits are overwritten on the next deploy.
# shellcheck shell=bash
#
# Shared helpers of the backup scripts (sourced, not run).
#
# Configuration: KEY=VALUE lines in $BACKUP_CONF (default /etc/louieops/backup.conf), read as literal
# values (never evaluated). A variable already set in the environment wins over the file, so a single
# run can be pointed elsewhere: S3_ENDPOINT_URL=http://127.0.0.1:1 backup-db

set -o errexit -o nounset -o pipefail
umask 077
# Started with sudo -u from an operator's home, the working directory is unreadable to this user; find and
# pg_dump fail there (find does on Debian 13). Relative paths still work from a readable one.
{ [ -r . ] && [ -x . ]; } || cd /

BACKUP_CONF=${BACKUP_CONF:-/etc/louieops/backup.conf}
# Any command failing outside an explicit check still fails the run through fail (alert included).
# (No errtrace: inside functions and $(...) the caller's check decides.)
trap 'fail "unexpected error (exit $?) at line $LINENO: $BASH_COMMAND"' ERR

load_conf() {
    local key value
    [ -r "$BACKUP_CONF" ] || { echo "cannot read $BACKUP_CONF" >&2; exit 1; }
    while IFS='=' read -r key value; do
        [[ $key =~ ^[A-Z][A-Z0-9_]*$ ]] || continue
        [[ -v $key ]] || declare -g "$key=$value"
    done <"$BACKUP_CONF"
    export S3_ENDPOINT_URL S3_BUCKET  # read again by backup-s3 (env wins there too)
    # Written by the deploy (tasks/backups.py STATUS_DIR): no default here, so the two cannot drift apart.
    [ -n "${BACKUP_STATUS_DIR:-}" ] ||
        { echo "BACKUP_STATUS_DIR is missing in $BACKUP_CONF: run the deploy again to rewrite it" >&2; exit 1; }
}

log() { printf '%s %s: %s\n' "$(date -u +%FT%TZ)" "$JOB" "$*" >&2; }

# alert TIER MESSAGE / resolve MESSAGE: through the one send-alert script, keyed per job.
# A missing or failing send-alert is logged, never turned into a second failure.
alert() {
    local tier=$1; shift
    "$SCRIPTS_DIR/send-alert" --key "$JOB" "$tier" "$JOB: $*" || log "send-alert failed (exit $?)"
}
resolve() {
    "$SCRIPTS_DIR/send-alert" --key "$JOB" --resolve P2 "$JOB: $*" || log "send-alert failed (exit $?)"
}

# report MESSAGE: an informational P4 (no key: each report is its own message).
report() {
    "$SCRIPTS_DIR/send-alert" --report P4 "$JOB: $*" || log "send-alert failed (exit $?)"
}

# fail MESSAGE: log, alert P2, exit 1. The EXIT trap of the caller removes its partial files.
fail() {
    log "FAILED: $*"
    alert P2 "FAILED: $*"
    exit 1
}

# lock DIR: one job per directory at a time (flock on the directory itself, which every user can
# open read-only; no lock file to own or clean up). Fails (and alerts) when a run is still active.
lock() {
    exec 9<"$1" || fail "cannot open $1 for locking"
    flock --nonblock 9 || fail "another run still holds the lock on $1; this run was skipped"
}

# The uploads and log archives are encrypted before they leave the server: aes-256-cbc (the cipher of the
# database's pgBackRest repository), its key derived by PBKDF2 from LOUIE_BACKUP_PASSPHRASE, which the deploy
# keeps in BACKUP_PASSPHRASE_FILE (0600, the backup user). Such an archive's name ends in $ENCRYPTED; by hand:
#   openssl enc -d -aes-256-cbc -pbkdf2 -iter 600000 -md sha256 -pass file:PASSFILE -in X.tar.zst.enc | zstd -d | tar -t
# shellcheck disable=SC2034 # read by the scripts that source this file
ENCRYPTED=.enc
CIPHER=(-aes-256-cbc -pbkdf2 -iter 600000 -md sha256)
passphrase_file() {
    if [ -z "${BACKUP_PASSPHRASE_FILE:-}" ] || [ ! -r "$BACKUP_PASSPHRASE_FILE" ]; then
        fail "cannot read the passphrase file BACKUP_PASSPHRASE_FILE (${BACKUP_PASSPHRASE_FILE:-unset in $BACKUP_CONF}): run the deploy with LOUIE_BACKUP_PASSPHRASE exported"
    fi
}
encrypt() { openssl enc -e "${CIPHER[@]}" -salt -pass "file:$BACKUP_PASSPHRASE_FILE" -in "$1" -out "$2"; }
decrypt() { openssl enc -d "${CIPHER[@]}" -pass "file:$BACKUP_PASSPHRASE_FILE" -in "$1"; }

# checksum_file FILE NAME: write the sha256 of FILE, in sha256sum format under NAME, to
# .NAME.sha256.partial next to FILE; print the hash. publish_checksum FILE NAME renames it into place.
checksum_file() {
    local dir hash
    dir=$(dirname "$1")
    hash=$(sha256sum <"$1" | cut -d' ' -f1)
    printf '%s  %s\n' "$hash" "$2" >"$dir/.$2.sha256.partial"
    printf '%s' "$hash"
}
publish_checksum() {
    local dir
    dir=$(dirname "$1")
    mv -f -- "$dir/.$2.sha256.partial" "$dir/$2.sha256"
}

# unique_name DIR PREFIX SUFFIX: PREFIX<UTC time>SUFFIX, a name not yet taken in DIR (names sort by
# time). A run within the same second as the previous one waits for the next second.
unique_name() {
    local name
    while name="$2$(date -u +%Y%m%dT%H%M%SZ)$3" && [ -e "$1/$name" ]; do
        sleep 1
    done
    printf '%s' "$name"
}

# newest DIR SUFFIX: newest published backup (one with a .sha256 next to it); names sort by time.
newest() {
    local f last=""
    for f in "$1"/*"$2"; do
        [ -e "$f" ] && [ -e "$f.sha256" ] && last=$f
    done
    printf '%s' "$last"
}

# prune DIR SUFFIX DAYS: delete published backups older than DAYS, always keeping the newest one, and
# partial files left by killed runs (older than a day).
prune() {
    local dir=$1 suffix=$2 days=$3 keep
    keep=$(newest "$dir" "$suffix")
    find "$dir" -maxdepth 1 -type f -name "*$suffix" -mtime +"$days" -print0 |
        while IFS= read -r -d '' f; do
            [ "$f" = "$keep" ] && continue
            log "removing expired $f"
            rm -f -- "$f" "$f.sha256" "$f.rows"
        done
    find "$dir" -maxdepth 1 -type f -name '.*.partial' -mtime +0 -delete
}

# The row count of every table (schema.table<TAB>rows, one line each, sorted): backup-db records it in
# the dumped snapshot, restore-drill compares the restored database against exactly that.
# shellcheck disable=SC2034  # used by the scripts that source this file
ROW_COUNTS_SQL="SELECT format('%I.%I', schemaname, tablename) || E'\\t' ||
  (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', schemaname, tablename),
                                       false, true, '')))[1]::text
  FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"

# write_status KIND NAME SIZE SHA256 LOCATION: record the last good run of KIND in
# $BACKUP_STATUS_DIR/KIND.json, world-readable (no secret in it), replaced atomically. The daily summary
# and `status` read it: they cannot read the backups themselves (BACKUP_DIR is 0711, its subdirs 0750).
# Never fails the run (the backup is already published): a problem is only logged.
json_string() {
    local s=${1//\\/\\\\}
    s=${s//\"/\\\"}
    printf '"%s"' "$s"
}
write_status() {
    local kind=$1 name=$2 size=$3 hash=$4 location=$5 tmp now
    if [ ! -d "$BACKUP_STATUS_DIR" ] || [ ! -w "$BACKUP_STATUS_DIR" ]; then
        log "cannot record the status: $BACKUP_STATUS_DIR is missing or not writable"
        return 0
    fi
    now=$(date +%s)
    if tmp=$(mktemp "$BACKUP_STATUS_DIR/.$kind.json.XXXXXX") &&
        printf '{"kind": %s, "time": %s, "time_utc": %s, "file": %s, "size": %s, "sha256": %s, "location": %s}\n' \
            "$(json_string "$kind")" "$now" "$(json_string "$(date -u -d "@$now" +%FT%TZ)")" \
            "$(json_string "$name")" "$size" "$(json_string "$hash")" "$(json_string "$location")" >"$tmp" &&
        chmod 0644 -- "$tmp" && mv -f -- "$tmp" "$BACKUP_STATUS_DIR/$kind.json"; then
        return 0
    fi
    [ -z "${tmp:-}" ] || rm -f -- "$tmp"
    log "cannot record the status in $BACKUP_STATUS_DIR/$kind.json"
}
