#!/usr/bin/env bash
# End-to-end test of the container cluster in docker-compose.yml: PostgreSQL,
# three Sluice nodes and HAProxy. Everything goes through the entry point.
#
#   scripts/compose-e2e.sh                 # package the binary built on this host (prebuilt target)
#   scripts/compose-e2e.sh --from-source   # compile inside the image (default target `node`)
#
# Steps: build the images, `up` under a unique project name, wait for the
# entry point and the nodes, then three rounds of traffic (S sessions x M
# dispatches, each with its own Idempotency-Key, retried with the same key on
# 5xx or connection errors, messages of one session in order), each followed
# by a check that every submission settled `completed` and that each session's
# history holds every message exactly once, in send order:
#   round 1 on three nodes; round 2 after `kill` of one node; round 3 after
#   adding a node. `down` always runs (trap). Exit status 0 only if all passed.
#
# Runs as root. Uses `docker compose` when a Docker engine answers, otherwise
# podman + podman-compose (installed, with a local debian:bookworm-slim base
# image, by ../shared/tools/container-env.sh or by this script's fallback).
#
# Options / environment:
#   --from-source           build the `node` target instead of `prebuilt`
#   --keep                  leave the cluster running at the end (no `down`)
#   --sessions N            sessions per round (E2E_SESSIONS, default 30)
#   --messages N            messages per session per round (E2E_MESSAGES, default 10)
#   --kill-during-traffic   kill the node half-way through round 2 instead of before it
#   SLUICE_BINARY           prebuilt binary, relative to the repository
#                           (default: build/sluice)
#   SLUICE_ENTRY_PORT       host port of the entry point (default 3000; a free
#                           port is picked if 3000 is taken and this is unset)
#   E2E_SETTLE_TIMEOUT_S    how long submissions may take to settle (default 120)
#   E2E_MESSAGE_DEADLINE_S  how long one message may be retried before it fails (default 120)
#   E2E_LOG_DIR             where container logs are saved (default /tmp/sluice-compose-e2e.<project>)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
started=$(date +%s)

mode=prebuilt
keep=0
kill_during=0
sessions=${E2E_SESSIONS:-30}
messages=${E2E_MESSAGES:-10}
settle_timeout=${E2E_SETTLE_TIMEOUT_S:-120}
message_deadline=${E2E_MESSAGE_DEADLINE_S:-120}
while (($#)); do
  case "$1" in
    --from-source) mode=node ;;
    --prebuilt) mode=prebuilt ;;
    --keep) keep=1 ;;
    --kill-during-traffic) kill_during=1 ;;
    --sessions) sessions=$2; shift ;;
    --messages) messages=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "compose-e2e: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done

project="sluicee2e$(date +%s)$$"
log_dir=${E2E_LOG_DIR:-/tmp/sluice-compose-e2e.$project}
work=$(mktemp -d /tmp/sluice-compose-e2e.XXXXXX)
mkdir -p "$log_dir"

log() { printf '[compose-e2e %s] %s\n' "$(date +%T)" "$*"; }
die() { log "FAIL: $*"; exit 1; }

# ---------------------------------------------------------------- step records
declare -a step_names=() step_results=() step_secs=()
current_step="" step_started=0
step() {  # step NAME: starts a step (the previous one passed)
  finish_step PASS
  current_step=$1
  step_started=$(date +%s)
  log "== $1"
}
failures=0
check_failed() {  # a check failed: record it, carry on with the next steps
  log "FAIL: $*"
  failures=$((failures + 1))
  finish_step FAIL
}
finish_step() {
  [ -n "$current_step" ] || return 0
  step_names+=("$current_step")
  step_results+=("$1")
  step_secs+=("$(($(date +%s) - step_started))")
  current_step=""
}

# ------------------------------------------------------------ the environment
need_root() { [ "$(id -u)" -eq 0 ] || die "run as root (podman and apt-get need it)"; }

install_podman_fallback() {
  # The part of ../shared/tools/container-env.sh this test needs, for
  # machines that only have the repository.
  need=()
  for b in podman podman-compose runc debootstrap; do command -v "$b" >/dev/null || need+=("$b"); done
  if ((${#need[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman podman-compose runc debootstrap uidmap >/dev/null
  fi
  mkdir -p /etc/containers
  # Sandboxes like CI: low open-files limit, crun fails on hybrid cgroups.
  printf '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\nruntime = "runc"\n' \
    > /etc/containers/containers.conf
  grep -q '^unqualified-search-registries' /etc/containers/registries.conf 2>/dev/null ||
    echo 'unqualified-search-registries = ["docker.io"]' >> /etc/containers/registries.conf
  if ! podman image exists docker.io/library/debian:bookworm-slim; then
    # No registry can be reached: make the base image from Debian's packages.
    local root
    root=$(mktemp -d /tmp/debroot.XXXXXX)
    debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >/dev/null
    rm -rf "$root"/var/cache/apt/archives/*.deb
    tar -C "$root" -c . | podman import - docker.io/library/debian:bookworm-slim >/dev/null
    rm -rf "$root"
  fi
}

ensure_tools() {
  local missing=()
  command -v python3 >/dev/null || missing+=(python3)
  command -v curl >/dev/null || missing+=(curl ca-certificates)
  if ((${#missing[@]})); then
    need_root
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

pick_engine() {
  if command -v docker >/dev/null && docker info >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
    engine=docker
    compose=(docker compose -p "$project" -f "$ROOT/docker-compose.yml")
  else
    need_root
    if [ -f "$ROOT/../shared/tools/container-env.sh" ]; then
      bash "$ROOT/../shared/tools/container-env.sh"
    else
      install_podman_fallback
    fi
    engine=podman
    compose=(podman-compose -p "$project" -f "$ROOT/docker-compose.yml")
  fi
}

port_free() {
  python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("0.0.0.0", int(sys.argv[1])))
except OSError:
    sys.exit(1)
PY
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("0.0.0.0", 0)); print(s.getsockname()[1])'
}

# ------------------------------------------------------------ cluster helpers
# Containers of this project, by service (both engines label them this way).
service_containers() {  # service [all]
  local filter=(--filter "label=com.docker.compose.project=$project" --filter "label=com.docker.compose.service=$1")
  if [ "${2:-}" = all ]; then
    "$engine" ps -a "${filter[@]}" --format '{{.Names}}' | sort
  else
    "$engine" ps "${filter[@]}" --format '{{.Names}}' | sort
  fi
}

# HAProxy's view of the sluice backend: "slot status" lines, from inside the
# entry container (its statistics port is not published).
entry_view() {
  local entry
  entry=$(service_containers entry | head -n1)
  [ -n "$entry" ] || return 1
  "$engine" exec "$entry" bash -c 'exec 3<>/dev/tcp/127.0.0.1/8404
    printf "GET /stats;csv HTTP/1.0\r\n\r\n" >&3; cat <&3' 2>/dev/null |
    awk -F, '$1 == "sluice" && $2 ~ /^node/ { print $2, $18 }'
}

# The cluster's own view (GET /admin/cluster), for the log only.
cluster_view() {
  curl -s -m 3 "http://127.0.0.1:$entry_port/admin/cluster" 2>/dev/null | python3 -c '
import json, sys
try:
    members = json.load(sys.stdin)["members"]
except Exception:
    sys.exit(0)
print("/admin/cluster: " + ", ".join("%s %s" % (m.get("nodeId"), m.get("state")) for m in members))' || true
}

# Waits until the entry point answers /readyz, the expected number of sluice
# containers runs and HAProxy sees every one of them UP.
wait_cluster() {  # timeout_s expected_nodes
  local deadline=$(($(date +%s) + $1)) running up ready view
  while :; do
    running=$(service_containers sluice | wc -l)
    up=$(entry_view | grep -c ' UP' || true)
    ready=$(curl -s -o /dev/null -m 3 -w '%{http_code}' "http://127.0.0.1:$entry_port/readyz" || true)
    if [ "$ready" = 200 ] && [ "$running" -eq "$2" ] && [ "$up" -eq "$running" ]; then
      log "entry point ready: $up node(s) UP behind HAProxy ($running running)"
      view=$(cluster_view)
      [ -z "$view" ] || log "$view"
      return 0
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "not ready after $1 s: /readyz -> ${ready:-none}, $running node(s) running (expected $2), $up UP in HAProxy"
      service_containers sluice all | while read -r name; do
        log "  $name: $("$engine" inspect -f '{{.State.Status}} exit {{.State.ExitCode}}' "$name")"
      done
      entry_view | grep -v MAINT || true
      return 1
    fi
    sleep 1
  done
}

save_logs() {
  local name
  for name in $("$engine" ps -a --filter "label=com.docker.compose.project=$project" --format '{{.Names}}'); do
    "$engine" logs "$name" >"$log_dir/$name.log" 2>&1 || true
  done
}

show_node_logs() {
  local f
  for f in "$log_dir/${project}"_sluice_*.log; do
    [ -f "$f" ] || continue
    echo "---- last lines of $(basename "$f")"
    tail -n 15 "$f"
  done
}

teardown() {
  local status=$? i left
  set +e
  if [ -n "$current_step" ]; then
    finish_step FAIL
    ((status != 0)) || status=1
  fi
  if [ -n "${engine:-}" ] && [ -n "${compose_started:-}" ]; then
    save_logs
    ((status == 0)) || show_node_logs
    if ((keep)); then
      log "--keep: cluster left running (project $project, entry http://127.0.0.1:$entry_port)"
      log "  remove it with: SLUICE_IMAGE_TARGET=$mode ${compose[*]} down -v"
    else
      log "== down"
      if [ "$engine" = docker ]; then
        "${compose[@]}" down -v --remove-orphans -t 5 >"$log_dir/down.log" 2>&1
      else
        # The node added with `podman-compose run` is not in its list, and
        # podman-compose 1.0.3 `down` leaves the network behind.
        podman rm -f "${project}_sluice_added" >"$log_dir/down.log" 2>&1
        "${compose[@]}" down -v -t 5 >>"$log_dir/down.log" 2>&1
        podman ps -a -q --filter "label=com.docker.compose.project=$project" | xargs -r podman rm -f >/dev/null 2>&1
        podman network rm -f "${project}_default" >/dev/null 2>&1
        podman volume rm -f "${project}_pgdata" >/dev/null 2>&1
      fi
      left=$("$engine" ps -a -q --filter "label=com.docker.compose.project=$project" | wc -l)
      ((left == 0)) || log "warning: $left container(s) of $project are left"
    fi
  fi
  rm -rf "$work"

  echo
  echo "================ compose-e2e summary ($mode target, ${engine:-no engine}, project $project)"
  for i in "${!step_names[@]}"; do
    printf '  %-4s %4ss  %s\n' "${step_results[$i]}" "${step_secs[$i]}" "${step_names[$i]}"
  done
  # Headlines only; the errors are printed above and kept in traffic.log.
  [ -s "$log_dir/traffic.log" ] && grep -v '^ ' "$log_dir/traffic.log" | sed 's/^/  | /'
  echo "  logs: $log_dir"
  echo "  total: $(($(date +%s) - started)) s -> $( ((status == 0)) && echo PASS || echo FAIL)"
  exit "$status"
}
trap teardown EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------ the traffic client
# send ROUND: dispatches sessions x messages through the entry point;
# verify: waits for every submission to settle, then checks records and
# history of every session against everything sent so far (state file).
cat >"$work/client.py" <<'PY'
import argparse, http.client, json, random, subprocess, sys, threading, time, urllib.parse

p = argparse.ArgumentParser()
p.add_argument("command", choices=["send", "verify"])
p.add_argument("--port", type=int, required=True)
p.add_argument("--state", required=True)
p.add_argument("--project", required=True)
p.add_argument("--round", type=int, default=0)
p.add_argument("--sessions", type=int, default=30)
p.add_argument("--messages", type=int, default=10)
p.add_argument("--timeout", type=float, default=120)
p.add_argument("--midway-cmd", default="")
p.add_argument("--message-deadline", type=float, default=120)
a = p.parse_args()

AGENT, SESSION = "echo", "main"
TERMINAL = {"completed", "failed", "aborted"}
lock = threading.Lock()
stats = {"requests": 0, "retries": 0, "reasons": {}}

def note_retry(reason):
    with lock:
        stats["retries"] += 1
        stats["reasons"][reason] = stats["reasons"].get(reason, 0) + 1

class Client:
    """One keep-alive connection to the entry point, reopened after errors."""
    def __init__(self):
        self.conn = None
    def request(self, method, path, body=None, headers=None, deadline=None):
        """Retries connection errors, 5xx and 429 until the deadline; returns (status, json)."""
        deadline = deadline or time.time() + 90
        delay = 0.1
        while True:
            reason = None
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=15)
                data = json.dumps(body).encode() if body is not None else None
                h = dict(headers or {})
                if data is not None:
                    h["Content-Type"] = "application/json"
                with lock:
                    stats["requests"] += 1
                self.conn.request(method, path, body=data, headers=h)
                r = self.conn.getresponse()
                raw = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close(); self.conn = None
                if r.status >= 500 or r.status == 429:
                    reason = f"http {r.status}"
                    try:
                        reason += " " + json.loads(raw)["error"]["type"]
                    except Exception:
                        pass
                else:
                    return r.status, (json.loads(raw) if raw else None)
            except (OSError, http.client.HTTPException) as e:
                reason = type(e).__name__
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
            if time.time() >= deadline:
                raise RuntimeError(f"{method} {path}: still failing at the deadline ({reason})")
            note_retry(reason)
            time.sleep(delay + random.random() * delay)
            delay = min(delay * 2, 1.0)

def instance(i):
    return f"e2e-{a.project}-{i}"

def load_state():
    try:
        with open(a.state) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}

def send():
    state = load_state()
    errors = []
    total = a.sessions * a.messages
    done = [0]
    midway = threading.Event()
    latencies = []

    def run_session(i):
        inst = instance(i)
        c = Client()
        sent = state.setdefault(inst, [])  # each thread owns its own list
        path = f"/agents/{AGENT}/{urllib.parse.quote(inst, safe='')}/dispatch"
        for j in range(a.messages):
            text = f"r{a.round} s{i} m{j} {a.project}"
            key = f"{a.project}-{i}-r{a.round}-m{j}"
            try:
                m0 = time.time()
                status, receipt = c.request("POST", path, {"input": text, "session": SESSION},
                                            {"Idempotency-Key": key},
                                            deadline=m0 + a.message_deadline)
                with lock:
                    latencies.append(time.time() - m0)
                if status not in (200, 202) or not receipt or "submissionId" not in receipt:
                    errors.append(f"{inst} {key}: unexpected answer {status} {receipt}")
                    return
                if j == a.messages - 1:
                    # An idempotent replay must answer the same receipt.
                    s2, again = c.request("POST", path, {"input": text, "session": SESSION},
                                          {"Idempotency-Key": key})
                    if (s2, again) != (status, receipt):
                        errors.append(f"{inst} {key}: replay answered {s2} {again}, first {status} {receipt}")
            except Exception as e:
                errors.append(f"{inst} {key}: {e}")
                return
            sent.append({"round": a.round, "text": text, "key": key,
                         "submissionId": receipt["submissionId"], "sequence": receipt.get("sequence")})
            with lock:
                done[0] += 1
                if a.midway_cmd and done[0] >= total // 2 and not midway.is_set():
                    midway.set()
                    threading.Thread(target=lambda: subprocess.run(a.midway_cmd, shell=True)).start()

    for i in range(a.sessions):
        state.setdefault(instance(i), [])
    t0 = time.time()
    threads = [threading.Thread(target=run_session, args=(i,)) for i in range(a.sessions)]
    for t in threads: t.start()
    for t in threads: t.join()
    took = time.time() - t0
    with open(a.state, "w") as f:
        json.dump(state, f)
    reasons = ", ".join(f"{k}: {v}" for k, v in sorted(stats["reasons"].items())) or "none"
    latencies.sort()
    slow = sum(1 for x in latencies if x > 10)
    print(f"round {a.round}: {done[0]}/{total} dispatches accepted in {took:.1f} s "
          f"({stats['requests']} requests, {stats['retries']} retried: {reasons}; "
          f"slowest {latencies[-1] if latencies else 0:.1f} s, {slow} took over 10 s)")
    for e in errors[:20]:
        print("  ERROR", e)
    return 0 if not errors and done[0] == total else 1

def fetch_all(c, path, field, cursor_field):
    items, after = [], 0
    while True:
        sep = "&" if "?" in path else "?"
        status, body = c.request("GET", f"{path}{sep}after={after}&limit=1000")
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {body}")
        items.extend(body[field])
        if "next" not in body:
            return items
        after = body["next"]

def verify():
    state = load_state()
    c = Client()
    deadline = time.time() + a.timeout
    t0 = time.time()
    # 1. Every submission settles.
    while True:
        pending, records = [], {}
        for inst, sent in state.items():
            q = urllib.parse.quote(inst, safe="")
            subs = fetch_all(c, f"/agents/{AGENT}/{q}/submissions?session={SESSION}", "submissions", "sequence")
            records[inst] = subs
            by_id = {s["submissionId"]: s for s in subs}
            for m in sent:
                s = by_id.get(m["submissionId"])
                if s is None or s["state"] not in TERMINAL:
                    pending.append((inst, m["key"], s["state"] if s else "missing"))
        if not pending or time.time() >= deadline:
            break
        time.sleep(1)
    settle = time.time() - t0
    errors, warnings = [], []
    for inst, key, st in pending[:10]:
        errors.append(f"{inst} {key}: not settled after {a.timeout:.0f} s (state {st})")
    if len(pending) > 10:
        errors.append(f"... {len(pending) - 10} more unsettled")

    checked = 0
    for inst, sent in state.items():
        q = urllib.parse.quote(inst, safe="")
        subs = records[inst]
        by_id = {s["submissionId"]: s for s in subs}
        # 2. Submission records: one per message (retries never admitted twice),
        #    completed, echoing the message, in send order.
        if len(subs) != len(sent):
            errors.append(f"{inst}: {len(subs)} submissions recorded for {len(sent)} messages sent")
        ids = [m["submissionId"] for m in sent]
        if len(set(ids)) != len(ids):
            errors.append(f"{inst}: two messages got the same submissionId")
        seqs = []
        for m in sent:
            s = by_id.get(m["submissionId"])
            if s is None:
                errors.append(f"{inst} {m['key']}: submission {m['submissionId']} missing"); continue
            if s["state"] != "completed":
                errors.append(f"{inst} {m['key']}: state {s['state']} error {s.get('error')}")
            elif s.get("result") != m["text"]:
                errors.append(f"{inst} {m['key']}: result {s.get('result')!r}, expected {m['text']!r}")
            if s["sequence"] != m["sequence"]:
                errors.append(f"{inst} {m['key']}: record sequence {s['sequence']} != receipt {m['sequence']}")
            seqs.append(s["sequence"])
        if seqs != sorted(seqs) or len(set(seqs)) != len(seqs):
            errors.append(f"{inst}: sequences not increasing in send order: {seqs}")
        elif seqs and seqs != list(range(seqs[0], seqs[0] + len(seqs))):
            warnings.append(f"{inst}: sequence gaps {seqs}")
        # 3. History: every message once, in send order, each answered once.
        hist = fetch_all(c, f"/agents/{AGENT}/{q}/history?session={SESSION}", "entries", "id")
        users = [e for e in hist if e["type"] == "user"]
        if [e.get("text") for e in users] != [m["text"] for m in sent]:
            got = [e.get("text") for e in users]
            errors.append(f"{inst}: user entries differ from what was sent "
                          f"({len(got)} entries for {len(sent)} messages; "
                          f"first difference at {next((k for k, (x, y) in enumerate(zip(got, [m['text'] for m in sent])) if x != y), min(len(got), len(sent)))})")
        else:
            for e, m in zip(users, sent):
                if e["submissionId"] != m["submissionId"]:
                    errors.append(f"{inst} {m['key']}: user entry belongs to {e['submissionId']}")
        last_pos = {}
        for e in hist:
            if e["type"] == "assistant" and e.get("status") is None:
                last_pos.setdefault(e["submissionId"], []).append(e)
            elif e["type"] == "interruption" or e.get("status") is not None:
                warnings.append(f"{inst}: history entry {e['id']} is {e['type']}"
                                + (f" ({e['status']})" if e.get("status") else "") + " (a recovery left it)")
        positions = {e["submissionId"]: e["id"] for e in users}
        for m in sent:
            answers = last_pos.get(m["submissionId"], [])
            if len(answers) != 1:
                errors.append(f"{inst} {m['key']}: {len(answers)} complete assistant entries")
            elif answers[0].get("text") != m["text"]:
                errors.append(f"{inst} {m['key']}: answered {answers[0].get('text')!r}")
            elif answers[0]["id"] < positions.get(m["submissionId"], 0):
                errors.append(f"{inst} {m['key']}: answer precedes its input")
        checked += len(sent)
    print(f"verify after round {a.round}: {checked} messages in {len(state)} sessions, "
          f"settled in {settle:.1f} s, {len(errors)} error(s), {len(warnings)} warning(s)")
    for w in warnings[:10]:
        print("  warning", w)
    for e in errors[:30]:
        print("  ERROR", e)
    return 0 if not errors else 1

sys.exit(send() if a.command == "send" else verify())
PY

client() { python3 "$work/client.py" "$1" --port "$entry_port" --state "$work/state.json" \
  --project "$project" --sessions "$sessions" --messages "$messages" \
  --message-deadline "$message_deadline" "${@:2}"; }

traffic_round() {  # round [extra client args]
  local r=$1
  client send --round "$r" "${@:2}" | tee -a "$log_dir/traffic.log"
  local rc=${PIPESTATUS[0]}
  ((rc == 0)) || return "$rc"
  client verify --round "$r" --timeout "$settle_timeout" | tee -a "$log_dir/traffic.log"
  return "${PIPESTATUS[0]}"
}

# A streamed prompt through HAProxy: events arrive and the stream ends with
# operation (which carries the result) + idle (buffering or a short timeout in the proxy would break it).
sse_check() {
  local out=$work/sse.txt attempt
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    curl -sN -m 30 -D "$work/sse.headers" -o "$out" \
      -H 'Accept: text/event-stream' -H 'Content-Type: application/json' \
      -d '{"message":"streamed through the entry point"}' \
      "http://127.0.0.1:$entry_port/agents/slow-echo/e2e-sse-$project" || true
    if grep -q '^HTTP/1.1 200' "$work/sse.headers" 2>/dev/null &&
       grep -qi '^content-type: text/event-stream' "$work/sse.headers" &&
       grep -q '^event: text_delta' "$out" && grep -q '^event: operation$' "$out" &&
       grep -q '^event: idle' "$out"; then
      log "SSE through the entry point: $(grep -c '^event:' "$out") events, ends with operation + idle"
      return 0
    fi
    log "SSE attempt $attempt: $(head -n1 "$work/sse.headers" 2>/dev/null | tr -d '\r') $(head -c 200 "$out" 2>/dev/null)"
    sleep 1
  done
  return 1
}

# ================================================================ the run
step "environment"
ensure_tools
pick_engine
log "engine: $engine ($("$engine" --version | head -n1))"

entry_port=${SLUICE_ENTRY_PORT:-3000}
if ! port_free "$entry_port"; then
  [ -z "${SLUICE_ENTRY_PORT:-}" ] || die "port $entry_port (SLUICE_ENTRY_PORT) is in use"
  entry_port=$(free_port)
  log "port 3000 is in use on this host: publishing the entry point on $entry_port instead"
fi
export SLUICE_ENTRY_PORT=$entry_port
export SLUICE_IMAGE_TARGET=$mode
export SLUICE_RESTART=no  # a killed node must stay dead

if [ "$mode" = prebuilt ]; then
  if [ -z "${SLUICE_BINARY:-}" ]; then
    for candidate in build/sluice; do
      if [ -x "$candidate" ]; then SLUICE_BINARY=$candidate; break; fi
    done
  fi
  [ -n "${SLUICE_BINARY:-}" ] ||
    die "no prebuilt binary at build/sluice (build it: cmake -S . -B build && cmake --build build -j2 --target sluice; or use --from-source)"
  case "$SLUICE_BINARY" in /*) SLUICE_BINARY=$(realpath --relative-to="$ROOT" "$SLUICE_BINARY") ;; esac
  case "$SLUICE_BINARY" in ../*) die "SLUICE_BINARY must lie inside the repository (it is sent as build context)" ;; esac
  [ -x "$SLUICE_BINARY" ] || die "SLUICE_BINARY=$SLUICE_BINARY is not an executable file"
  case "$SLUICE_BINARY" in
    build/sluice) ;;
    build*) die "SLUICE_BINARY=$SLUICE_BINARY: .dockerignore only lets build/sluice into the context" ;;
  esac
  if ldd "$SLUICE_BINARY" 2>/dev/null | grep -q 'libasan\|libubsan'; then
    die "$SLUICE_BINARY is a sanitizer build; package a normal one"
  fi
  export SLUICE_BINARY
  log "packaging $SLUICE_BINARY ($(stat -c %s "$SLUICE_BINARY") bytes, built $(date -r "$SLUICE_BINARY" '+%F %T'))"
fi
log "project $project, entry point http://127.0.0.1:$entry_port, $sessions sessions x $messages messages per round"

step "build images ($mode)"
if [ "$engine" = docker ]; then
  "${compose[@]}" build >"$log_dir/build.log" 2>&1 || { tail -n 40 "$log_dir/build.log"; die "image build failed"; }
else
  # podman-compose 1.0.3 ignores build failures (and would start stale
  # images), so build here with the names and targets of docker-compose.yml.
  build_image() {  # log-name podman-build-args...
    if ! podman build "${@:2}" >"$log_dir/build-$1.log" 2>&1; then
      tail -n 40 "$log_dir/build-$1.log"; die "image build $1 failed (log: $log_dir/build-$1.log)"
    fi
  }
  build_image sluice -f Dockerfile --target "$mode" --build-arg "SLUICE_BINARY=${SLUICE_BINARY:-build/sluice}" \
    -t "sluice:$mode" .
  build_image postgres -t sluice-postgres:15 deploy/postgres
  build_image entry -t sluice-haproxy:2.6 deploy/haproxy
fi

step "up (postgres, 3 sluice nodes, entry)"
compose_started=1
if [ "$engine" = docker ]; then
  "${compose[@]}" up -d >"$log_dir/up.log" 2>&1 || { cat "$log_dir/up.log"; die "compose up failed"; }
else
  "${compose[@]}" up -d --no-build >"$log_dir/up.log" 2>&1 || { cat "$log_dir/up.log"; die "compose up failed"; }
fi
nodes=$(service_containers sluice | wc -l)
((nodes == 3)) || { service_containers sluice all; die "expected 3 running sluice replicas, found $nodes"; }
log "running: $(service_containers sluice | tr '\n' ' ')"

step "wait for the entry point and 3 nodes"
wait_cluster 120 3 || die "cluster did not become ready"

step "SSE prompt through the entry point"
sse_check || check_failed "SSE through the entry point"

step "round 1: traffic on 3 nodes, then check"
traffic_round 1 || check_failed "round 1"

victim=$(service_containers sluice | head -n1)
if ((kill_during)); then
  step "round 2: kill $victim half-way through the traffic, then check"
  traffic_round 2 --midway-cmd "$engine kill $victim >/dev/null && echo '  killed $victim'" ||
    check_failed "round 2"
else
  step "kill one node ($victim)"
  "$engine" kill "$victim" >/dev/null
  log "killed $victim; $(service_containers sluice | wc -l) node(s) still running"
  step "round 2: traffic right after the kill, then check"
  traffic_round 2 || check_failed "round 2"
fi
[ -z "$(service_containers sluice | grep -x -F "$victim" || true)" ] || die "$victim is running again"

step "scale up: add a node"
expected=$(($(service_containers sluice | wc -l) + 1))
if [ "$engine" = docker ]; then
  expected=4  # --scale also starts the killed container again
  "${compose[@]}" up -d --no-deps --no-recreate --scale sluice=4 sluice >"$log_dir/scale.log" 2>&1 ||
    { cat "$log_dir/scale.log"; die "scale up failed"; }
else
  # podman-compose 1.0.3 ignores --scale: `run -d` starts one more container
  # of the service with the same image, environment, network and alias.
  "${compose[@]}" run -d -T --no-deps --name "${project}_sluice_added" sluice >"$log_dir/scale.log" 2>&1 ||
    { cat "$log_dir/scale.log"; die "scale up failed"; }
fi
log "running: $(service_containers sluice | tr '\n' ' ')"
wait_cluster 120 "$expected" || die "the new node did not join the entry point"

step "round 3: traffic after adding a node, then check"
traffic_round 3 || check_failed "round 3"
finish_step PASS
((failures == 0)) || exit 1
exit 0
