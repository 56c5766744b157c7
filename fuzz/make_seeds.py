#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets: fuzz/corpus/TARGET/seed-*.

Seeds are small realistic inputs taken from the tests and examples (requests,
WebSocket frames, agent and workflow files, stored payloads, cluster
envelopes). Run it again after changing a seed here; it rewrites seed-* files
only (regression inputs, crash-*, are left alone). The binary seeds (masked
WebSocket frames, msgpack) are easier to keep as code than as files.
"""
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(target, name, data):
    folder = os.path.join(ROOT, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(folder, "seed-" + name), "wb") as out:
        out.write(data)


def clear(target):
    folder = os.path.join(ROOT, target)
    if os.path.isdir(folder):
        for name in os.listdir(folder):
            if name.startswith("seed-"):
                os.remove(os.path.join(folder, name))


# ---------------------------------------------------------------- HTTP requests
def request(method, target, headers=(), body="", version="1.1"):
    lines = [f"{method} {target} HTTP/{version}", "Host: 127.0.0.1:3000"]
    lines += [f"{k}: {v}" for k, v in headers]
    if body:
        lines.append(f"Content-Length: {len(body.encode())}")
    return "\r\n".join(lines) + "\r\n\r\n" + body


JSON = ("Content-Type", "application/json")
UPGRADE = [("Upgrade", "websocket"), ("Connection", "Upgrade"),
           ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13")]


def http_seeds():
    t = "http_request"
    clear(t)
    write(t, "prompt", request("POST", "/agents/echo/demo", [JSON], '{"message":"hello"}'))
    write(t, "prompt-sse", request("POST", "/agents/echo/demo",
                                   [JSON, ("Accept", "text/event-stream"), ("Idempotency-Key", "k-1")],
                                   '{"message":"hi","session":"s1"}'))
    write(t, "dispatch", request("POST", "/agents/echo/q/dispatch", [JSON],
                                 '{"input":{"text":"m1","n":[1,2.5,true,null]},"session":"s2"}'))
    write(t, "abort", request("POST", "/agents/echo/demo/abort", [JSON],
                              '{"submissionId":"sub_01J0000000000000000000000"}'))
    write(t, "delete", request("DELETE", "/agents/echo/demo?session=default"))
    write(t, "history", request("GET", "/agents/echo/demo/history?session=s1&after=2&limit=10"))
    write(t, "submissions", request("GET", "/agents/http-only/x/submissions?state=queued&limit=5"))
    write(t, "submission", request("GET", "/agents/echo/a%2Fb/submissions/sub_1"))
    write(t, "workflow-wait", request("POST", "/workflows/greet?wait=result", [JSON], '{"name":"Ada"}'))
    write(t, "workflow-sse", request("POST", "/workflows/whole", [JSON, ("Accept", "text/event-stream")],
                                     '{"a":{"b":[1]},"name":"x"}'))
    write(t, "ws-agent", request("GET", "/agents/echo/demo", UPGRADE))
    write(t, "ws-workflow", request("GET", "/workflows/greet", UPGRADE + [("Origin", "http://localhost:5173")]))
    write(t, "pipelined", request("GET", "/healthz") + request("GET", "/readyz") +
          request("GET", "/admin/agents", [("Connection", "close")]))
    write(t, "chunked", "POST /agents/echo/c HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
          "Transfer-Encoding: chunked\r\n\r\n9\r\n{\"message\r\nA\r\n\":\"chunk\"}\r\n0\r\n\r\n")
    write(t, "auth-origin", request("POST", "/agents/echo/demo",
                                    [JSON, ("Authorization", "Bearer fuzz-token"),
                                     ("Origin", "https://app.example")], '{"message":"x"}'))
    write(t, "http10", request("GET", "/admin/runs?limit=5&status=active&cursor=MTcwMDAwMDAwMDAwMDp3b3JrZmxvdzpncmVldDow",
                               version="1.0"))
    write(t, "run-events", request("GET", "/runs/workflow:greet:01J0/events?after=-1&limit=3&types=run_start,log"))
    write(t, "openapi", request("GET", "/openapi.json"))
    write(t, "metrics", request("GET", "/metrics?x=%ZZ&y=a+b"))
    write(t, "absolute-form", request("PUT", "http://localhost:3000/agents/echo/demo?session=%E2%9C%93"))


# ------------------------------------------------------------------- JSON bodies
def json_seeds():
    t = "json_body"
    clear(t)
    write(t, "message", '{"message":"hello"}')
    write(t, "session", '{"message":"hi","session":"s1"}')
    write(t, "input-object", '{"input":{"a":[1,2.5,true,null,"x"]},"session":"x"}')
    write(t, "submission-id", '{"submissionId":"sub_1","session":null}')
    write(t, "array", '["message", 1, -0, 1e400, 12345678901234567890123]')
    write(t, "unicode", '{"message":"\\ud83d\\ude00 caf\\u00e9 \\u0000","session":"\u00e9t\u00e9"}')
    write(t, "reserved", '{"message":"x","session":"task:1"}')
    write(t, "deep-ok", "[" * 512 + "]" * 512)
    write(t, "deep-too", '{"a":' * 513 + "1" + "}" * 513)
    write(t, "scalar", '"just a string"')
    write(t, "workflow-payload", '{"name":"Ada","a":{"b":[1,{"c":null}]}}')


# ------------------------------------------------------------- WebSocket frames
def frame(payload, opcode=1, fin=True, mask=b"\x00\x00\x00\x00"):
    if isinstance(payload, str):
        payload = payload.encode()
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


PING = '{"version":1,"type":"ping","requestId":"p1"}'
PROMPT = '{"version":1,"type":"prompt","requestId":"r1","message":"hello"}'
INVOKE = '{"version":1,"type":"invoke","requestId":"w1","payload":{"name":"Ada"}}'


def ws_seeds():
    t = "websocket_message"
    clear(t)
    rs = "\x1e"
    # '0': agent socket, messages.
    write(t, "agent-messages", "0" + rs.join([PING, '{"version":1,"type":"ping"}', PROMPT,
                                              '{"version":1,"type":"prompt","requestId":"r2","message":"x","session":"s1"}']))
    write(t, "agent-errors", "0" + rs.join([
        '{"version":2,"type":"ping","requestId":"v2"}', '{"type":"ping","requestId":"nov"}',
        '{"version":1,"type":"shout","requestId":"u"}', '{"version":1,"type":"prompt","message":"hi"}',
        '{"version":1,"type":"prompt","requestId":7,"message":"hi"}',
        '{"version":1,"type":"prompt","requestId":"t","message":"hi","session":"task:x"}',
        "garbage", "\x1fbinary", "[]"]))
    write(t, "agent-flood", "0" + rs.join(["garbage"] * 17))
    # '1': workflow socket, messages.
    write(t, "workflow-messages", "1" + rs.join(['{"version":1,"type":"ping"}', INVOKE,
                                                 '{"version":1,"type":"invoke","requestId":"w2"}']))
    write(t, "workflow-bad-payload", "1" + '{"version":1,"type":"invoke","requestId":"bad","payload":{}}')
    # '4'/'5': small frame limit (64 bytes).
    write(t, "agent-small-limit", "4" + rs.join([PROMPT + " " * 40, PING]))
    # '2': agent socket, raw masked frames through Beast.
    write(t, "agent-frames", b"2" + frame(PING) + frame(PROMPT, mask=b"\x37\xfa\x21\x3d"))
    write(t, "agent-fragmented", b"2" + frame(PROMPT[:20], fin=False) + frame(b"", opcode=9) +
          frame(PROMPT[20:], opcode=0) + frame(b"\x03\xe8bye", opcode=8))
    write(t, "agent-binary-frame", b"2" + frame(b"\x00\x01\x02", opcode=2) + frame(PING))
    # '3': workflow socket, frames; '6': agent socket, frames, small limit.
    write(t, "workflow-frames", b"3" + frame(INVOKE) + frame(b"\x03\xe8", opcode=8))
    write(t, "agent-frames-small-limit", b"6" + frame("x" * 100) + frame(PROMPT + " " * 100))


# ------------------------------------------------------- agent and workflow TOML
def toml_seeds():
    t = "definition_toml"
    clear(t)
    examples = os.path.join(os.path.dirname(ROOT), "..", "examples")
    for sub in ("agents", "workflows"):
        folder = os.path.join(examples, sub)
        for name in sorted(os.listdir(folder)):
            if name.endswith(".toml"):
                with open(os.path.join(folder, name), "rb") as src:
                    write(t, f"example-{sub}-{name[:-5]}", src.read())
    write(t, "anthropic", 'model = "anthropic/claude-sonnet-4-5"\ninstructions = """Be brief.\nVery."""\n'
          'expose = ["http"]\nmax_turns = 8\ntimeout_s = 600\nmax_attempts = 3\n'
          '[model_options]\nmax_tokens = 1024\ntemperature = 0.5\nstop = ["END", "STOP"]\n')
    write(t, "openai", "model = 'openai/gpt-4o-mini'\n[model_options]\ntop_p = 0.9\nidle_timeout_ms = 30000\n")
    write(t, "sandbox-local", 'model = "sluice/echo"\ntools = ["bash", "read_file", "write_file", "edit_file", "grep"]\n'
          '[sandbox]\nkind = "local"\ncwd = "/tmp/x/{id}/{session}"\nisolation = "none"\n'
          '[sandbox.env]\nPATH = "/usr/bin"\nTOKEN = "$HOME"\nEMPTY = ""\n')
    write(t, "sandbox-remote", 'model = "sluice/echo"\nsandbox = { kind = "remote", url = "http://127.0.0.1:9000", token = "$SANDBOX_TOKEN" }\n')
    write(t, "scripted-compaction", 'model = "sluice/scripted"\nexpose = ["http"]\n[model_options]\n'
          'loop = true\ncontext_words = 50\n[[model_options.turns]]\ntext = "{users}: {last_user}"\n')
    write(t, "bad-date", 'model = "sluice/echo"\n[model_options.window]\nstart = 1979-05-27T07:32:00Z\n')
    write(t, "workflow-whole", 'agent = "echo"\nprompt = "{{payload}} then {{ payload.a.b }}"\nexpose = ["websocket"]\n')
    write(t, "workflow-unclosed", 'agent = "scripted"\nprompt = "{{payload.x"\n')
    write(t, "workflow-escapes", 'agent = "echo"\nprompt = "caf\\u00e9 {{payload.name}} \\t done"\nexpose = []\n')


# ---------------------------------------------------------------------- msgpack
def mp(value):
    """msgpack, as nlohmann::json::to_msgpack and msgpack-cxx write it."""
    if value is None:
        return b"\xc0"
    if value is True:
        return b"\xc3"
    if value is False:
        return b"\xc2"
    if isinstance(value, int):
        if 0 <= value < 128:
            return bytes([value])
        if 0 <= value < 256:
            return b"\xcc" + bytes([value])
        if 0 <= value < 65536:
            return b"\xcd" + struct.pack(">H", value)
        if 0 <= value < 2 ** 32:
            return b"\xce" + struct.pack(">I", value)
        if value >= 0:
            return b"\xcf" + struct.pack(">Q", value)
        if value >= -32:
            return struct.pack("b", value)
        return b"\xd3" + struct.pack(">q", value)
    if isinstance(value, float):
        return b"\xcb" + struct.pack(">d", value)
    if isinstance(value, bytes):
        return b"\xc4" + bytes([len(value)]) + value
    if isinstance(value, str):
        data = value.encode()
        if len(data) < 32:
            return bytes([0xA0 | len(data)]) + data
        if len(data) < 256:
            return b"\xd9" + bytes([len(data)]) + data
        return b"\xda" + struct.pack(">H", len(data)) + data
    if isinstance(value, list):
        head = bytes([0x90 | len(value)]) if len(value) < 16 else b"\xdc" + struct.pack(">H", len(value))
        return head + b"".join(mp(v) for v in value)
    if isinstance(value, dict):
        head = bytes([0x80 | len(value)]) if len(value) < 16 else b"\xde" + struct.pack(">H", len(value))
        return head + b"".join(mp(k) + mp(v) for k, v in value.items())
    raise TypeError(value)


def payload_seeds():
    t = "payload_codec"
    clear(t)
    write(t, "input", mp({"v": 1, "text": "hello"}))
    write(t, "input-empty", mp({"v": 1, "text": ""}))
    write(t, "entry-user", mp({"v": 1, "text": "What is in note.txt?"}))
    write(t, "entry-tool-call", mp({"v": 1, "tool_name": "bash", "tool_call_id": "call_1",
                                    "args_json": '{"command":"ls"}'}))
    write(t, "entry-tool-result", mp({"v": 1, "tool_call_id": "call_1", "result_json": '"note.txt\\n"',
                                      "is_error": True}))
    write(t, "entry-all", mp({"v": 1, "text": "t", "tool_name": "n", "tool_call_id": "i",
                              "args_json": "{}", "result_json": "null", "is_error": False,
                              "future_field": [1, {"x": None}]}))
    write(t, "newer-version", mp({"v": 2, "text": "from the future"}))
    write(t, "no-version", mp({"text": "x"}))
    write(t, "wrong-types", mp({"v": 1, "text": b"bin", "is_error": 1}))
    write(t, "not-a-map", mp(["v", 1]))
    write(t, "trailing", mp({"v": 1, "text": "x"}) + b"\xc0")


KEY = {"agent": "echo", "instance": "demo", "session": "default"}
RECORD = {"id": "sub_01J0", "dispatchId": "", "key": KEY, "kind": "direct", "sequence": 3,
          "state": "completed", "input": "hello", "inputApplied": True, "attempts": 1,
          "abortRequested": False, "released": False, "acceptedAt": 1700000000000,
          "startedAt": 1700000000001, "settledAt": 1700000000200,
          "result": '{"text":"hello"}', "error": None, "lastOwner": "node-a",
          "usage": '{"inputTokens":3,"outputTokens":1}'}


def cluster_seeds():
    t = "cluster_envelope"
    clear(t)
    write(t, "submit", mp({"op": "submit", "key": KEY, "kind": "direct", "input": "hello",
                           "wantsOutcome": True, "wantsEvents": True}))
    write(t, "submit-idempotent", mp({"op": "submit", "key": KEY, "kind": "dispatch", "input": "{\"a\":1}",
                                      "wantsOutcome": False, "wantsEvents": False,
                                      "idempotency": {"key": "k-1", "bodyHash": "ab" * 32}}))
    write(t, "abort", mp({"op": "abort", "key": KEY, "submissionId": "sub_01J0"}))
    write(t, "abort-all", mp({"op": "abort", "key": KEY, "submissionId": None}))
    write(t, "delete", mp({"op": "delete", "key": KEY}))
    write(t, "admitted", mp({"op": "admitted", "record": dict(RECORD, state="queued", result=None,
                                                                  settledAt=0), "replayed": False}))
    write(t, "settled", mp({"op": "settled", "record": RECORD}))
    write(t, "settled-failed", mp({"op": "settled", "record": dict(
        RECORD, state="failed", result=None,
        error='{"type":"provider_error","message":"upstream 529","details":""}')}))
    write(t, "event", mp({"op": "event", "event": {"type": "text_delta", "delta": "he", "text": "he"}}))
    write(t, "rejected", mp({"op": "rejected", "error": {"type": "overloaded", "message": "queue full",
                                                          "details": "", "meta": {"retryAfter": 1.5}}}))
    write(t, "aborted", mp({"op": "aborted", "ids": ["sub_1", "sub_2"]}))
    write(t, "abort-failed", mp({"op": "abort_failed", "error": {"type": "unavailable", "message": "x"}}))
    write(t, "deleted", mp({"op": "deleted"}))
    write(t, "unknown-op", mp({"op": "gossip", "key": KEY}))


if __name__ == "__main__":
    http_seeds()
    json_seeds()
    ws_seeds()
    toml_seeds()
    payload_seeds()
    cluster_seeds()
    for target in sorted(os.listdir(ROOT)):
        print(target, len([n for n in os.listdir(os.path.join(ROOT, target)) if n.startswith("seed-")]))
