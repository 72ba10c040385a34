#!/usr/bin/env python3
"""How the souk process holds up under hostile clients: memory (RSS) and liveness.

Usage: python3 examples/hostile_rss.py [--bin target/release/souk] [--only NAME[,NAME...]]

Each scenario starts a fresh souk (temporary store, a free port on 127.0.0.1, RUST_LOG=warn,
the shipped config/souk.toml), samples its VmRSS from /proc/<pid>/status every 20 ms, does
one bounded hostile thing to it, and stops it (SIGTERM, SIGKILL after 10 s). Scenarios:

  long-word-whatsapp|messenger|telegram|webchat
      one customer message that is a single 65,536-character word, sent as that channel's
      platform (signed webhook) or browser (web chat API) would send it
  held-bodies, held-bodies-unsigned
      472 connections to /webhooks/whatsapp each declaring a 4,000,001-byte body, sending
      4,000,000 bytes of it and holding on (with a well-formed but wrong signature, or none)
  idle-1100
      souk under `prlimit --nofile=1024:1024`, 1,100 idle connections that send nothing

`--only` takes scenario names or prefixes (`--only long-word` runs all four channels).
Standard library only. All traffic goes to 127.0.0.1 and every load is bounded in count and
time. The script prints details as it goes and a Markdown table at the end.
"""

import argparse
import collections
import hashlib
import hmac
import http.client
import http.server
import json
import os
import re
import resource
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = "config/souk.toml"
HOST = "127.0.0.1"

APP_SECRET = "hostile-app-secret"
VERIFY_TOKEN = "hostile-verify"
ACCESS_TOKEN = "hostile-access-token"
PHONE_NUMBER_ID = "1122334455667"
PAGE_ID = "1895382890692545"
BOT_TOKEN = "123456:HOSTILE-test-token"
TG_SECRET = "hostile_webhook_secret-1"

LONG_WORD = "a" * 65536
SAMPLE_EVERY = 0.02  # seconds between /proc samples
MB = 1024.0  # /proc reports kB


def log(message):
    print(message, flush=True)


# ---------------------------------------------------------------- fake platform APIs
class FakeApis:
    """One local HTTP server standing in for both the Graph API and the Telegram Bot API, so
    souk's replies have somewhere to go. It records method, path and body size per call."""

    def __init__(self):
        self.calls = []  # (method, path, body bytes)
        self.lock = threading.Lock()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as reqwest expects

            def log_message(self, *args):  # quiet
                pass

            def _answer(self, payload):
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                fake.record("GET", self.path, 0)
                self._answer({})

            def do_POST(self):
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                n = fake.record("POST", self.path, len(raw))
                if self.path.startswith("/bot"):
                    self._answer(fake.telegram_result(self.path, raw, n))
                else:
                    self._answer({"messaging_product": "whatsapp", "recipient_id": "x",
                                  "message_id": f"wamid.x{n}",
                                  "messages": [{"id": f"wamid.x{n}"}]})

        self.server = http.server.ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def record(self, method, path, size):
        with self.lock:
            self.calls.append((method, path, size))
            return len(self.calls)

    def reset(self):
        with self.lock:
            self.calls.clear()

    def summary(self):
        """e.g. "3 calls (sendMessage x2, setWebhook), largest body 5.1 kB"."""
        with self.lock:
            calls = list(self.calls)
        if not calls:
            return "0 calls"
        names = collections.Counter(path.rsplit("/", 1)[-1] for _, path, _ in calls)
        parts = ", ".join(f"{k} x{v}" if v > 1 else k for k, v in names.most_common())
        return f"{len(calls)} calls ({parts}), largest body {max(s for _, _, s in calls) / 1000:.1f} kB"

    @staticmethod
    def telegram_result(path, raw, n):
        # teloxide parses `result` by method: sends want a Message, the rest mostly `true`.
        method = path.rsplit("/", 1)[-1].lower()  # teloxide writes "SendMessage"
        try:
            body = json.loads(raw or b"{}")
        except ValueError:  # multipart upload: no chat id to echo
            body = {}
        if method == "getme":
            return {"ok": True, "result": {"id": 1, "is_bot": True, "first_name": "Souk",
                                           "username": "souk_test_bot"}}
        if method.startswith("send") or method == "editmessagetext":
            chat = body.get("chat_id", 1)
            chat = int(chat) if str(chat).lstrip("-").isdigit() else 1
            return {"ok": True, "result": {"message_id": n, "date": int(time.time()),
                                           "chat": {"id": chat, "type": "private",
                                                    "first_name": "Customer"},
                                           "text": str(body.get("text", ""))[:4096]}}
        return {"ok": True, "result": True}

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------- souk process
def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def read_status(pid):
    """(VmRSS kB, VmHWM kB) of pid, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            text = f.read()
    except OSError:
        return None
    values = {}
    for line in text.splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            key, value = line.split(":", 1)
            values[key] = int(value.split()[0])
    return values.get("VmRSS", 0), values.get("VmHWM", 0)


class Souk:
    """A souk child process with its own store, port, log file and RSS sampler thread."""

    def __init__(self, binary, extra_env=None, nofile=None, rss_cap_mb=None):
        self.tmp = tempfile.mkdtemp(prefix="souk-hostile-")
        self.port = free_port()
        self.log_path = os.path.join(self.tmp, "souk.log")
        # Inherited SOUK__* settings would make runs incomparable: start from none.
        env = {k: v for k, v in os.environ.items() if not k.startswith("SOUK_")}
        env.update({
            "SOUK__SERVER__LISTEN": f"{HOST}:{self.port}",
            "SOUK__STORE__PATH": os.path.join(self.tmp, "data"),
            "RUST_LOG": "warn",
        })
        env.update(extra_env or {})
        cmd = [binary, "serve", "--config", CONFIG]
        preexec = None
        if nofile is not None:
            if shutil.which("prlimit"):
                cmd = ["prlimit", f"--nofile={nofile}:{nofile}", "--"] + cmd  # prlimit execs souk: same pid
            else:
                preexec = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))  # noqa: E731
        self.log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self.log_file, stderr=subprocess.STDOUT,
                                     preexec_fn=preexec)
        self.samples = []  # (monotonic time, rss kB)
        self.hwm_kb = 0
        self.rss_cap_kb = int(rss_cap_mb * 1024) if rss_cap_mb else None
        self.capped = False
        self.exit_code = None
        self.stop_seconds = None
        self.died = False  # exited before we stopped it
        self._stop_sampling = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _sample(self):
        while not self._stop_sampling.is_set():
            status = read_status(self.proc.pid)
            if status is None or self.proc.poll() is not None:
                return
            rss, hwm = status
            self.samples.append((time.monotonic(), rss))
            self.hwm_kb = max(self.hwm_kb, hwm)
            # A runaway process must not take the shared machine down with it.
            if self.rss_cap_kb and rss > self.rss_cap_kb and not self.capped:
                self.capped = True
                log(f"  !! RSS {rss / MB:.0f} MB over the cap: killing souk (SIGKILL)")
                self.proc.kill()
            time.sleep(SAMPLE_EVERY)

    def peak_mb(self, since=None, until=None):
        values = [rss for t, rss in list(self.samples)
                  if (since is None or t >= since) and (until is None or t <= until)]
        return max(values) / MB if values else float("nan")

    def alive(self):
        return self.proc.poll() is None

    def log_text(self):
        if not self.log_file.closed:
            self.log_file.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_tail(self, lines=30):
        return "\n".join(self.log_text().splitlines()[-lines:])

    def wait_ready(self, timeout=90):
        """Polls GET /readyz until 200; raises with souk's output if it dies or never gets there."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"souk exited ({self.proc.returncode}) before it was ready\n"
                                   f"its output (last lines):\n{self.log_tail()}")
            status, _, _ = request(self.port, "GET", "/readyz", timeout=2)
            if status == 200:
                return
            time.sleep(0.2)
        raise RuntimeError(f"souk not ready after {timeout} s\n"
                           f"its output (last lines):\n{self.log_tail()}")

    def stop(self):
        """SIGTERM, then SIGKILL after 10 s; records the exit code and how long the stop took."""
        self.hwm_kb = max(self.hwm_kb, (read_status(self.proc.pid) or (0, 0))[1])
        start = time.monotonic()
        self.died = self.died or not self.alive()
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                log("  !! souk still running 10 s after SIGTERM: SIGKILL")
                self.proc.kill()
                self.proc.wait()
        self.stop_seconds = time.monotonic() - start
        self.exit_code = self.proc.returncode
        self._stop_sampling.set()
        self._sampler.join(1)
        self.log_file.close()

    def death_note(self):
        """Detail lines when souk exited on its own: its exit status and last output."""
        if not self.died:
            return []
        how = "killed by this script over the RSS cap" if self.capped else f"exit status {self.exit_code}"
        return [f"souk DIED during the scenario ({how}); its last output:"] + [
            "    " + line for line in self.log_tail(15).splitlines()]

    def cleanup(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def request(port, method, path, body=None, headers=None, timeout=10):
    """One request on a fresh connection: (status or None, body bytes, seconds)."""
    start = time.monotonic()
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return response.status, data, time.monotonic() - start
    except (OSError, http.client.HTTPException) as error:
        return None, repr(error).encode(), time.monotonic() - start
    finally:
        conn.close()


def healthz(souk, timeout=5):
    status, _, seconds = request(souk.port, "GET", "/healthz", timeout=timeout)
    return status == 200, seconds


def sign(raw):
    return "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()


def meta_env(product, fake, id_key, id_value):
    p = f"SOUK__CHANNELS__{product}__"
    return {p + "ENABLED": "true", p + "APP_SECRET": APP_SECRET, p + "VERIFY_TOKEN": VERIFY_TOKEN,
            p + "ACCESS_TOKEN": ACCESS_TOKEN, p + id_key: id_value,
            p + "API_BASE": f"http://{HOST}:{fake.port}"}


def whatsapp_env(fake):
    return meta_env("WHATSAPP", fake, "PHONE_NUMBER_ID", PHONE_NUMBER_ID)


def mb(value):
    return "-" if value != value else f"{value:.1f}"  # NaN: nothing was sampled


def result(name, key, peak, alive, details=()):
    return {"name": name, "key": key, "peak": peak, "alive": alive, "details": list(details)}


# ---------------------------------------------------------------- 1. long word per channel
def whatsapp_text_body(text):
    # The shape of a Cloud API text message webhook (/work/shared/fixtures/whatsapp/text.json).
    now = int(time.time())
    return {"object": "whatsapp_business_account", "entry": [{
        "id": "1234567890987654321", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111", "phone_number_id": PHONE_NUMBER_ID},
            "contacts": [{"profile": {"name": "Hostile Customer"}, "wa_id": "40712345678"}],
            "messages": [{"from": "40712345678", "id": f"wamid.HOSTILE{time.time_ns()}",
                          "timestamp": str(now), "type": "text", "text": {"body": text}}]}}]}]}


def messenger_text_body(text):
    # A page message event (/work/shared/fixtures/messenger/webhook_text_message.json).
    now = int(time.time() * 1000)
    return {"object": "page", "entry": [{"id": PAGE_ID, "time": now, "messaging": [{
        "sender": {"id": "1412611362105802"}, "recipient": {"id": PAGE_ID}, "timestamp": now,
        "message": {"mid": f"mid.{now}:hostile{time.time_ns()}", "text": text}}]}]}


def telegram_update_body(text):
    # A private-chat text update (/work/shared/fixtures/telegram/message.json).
    user = {"id": 12345678, "is_bot": False, "first_name": "Hostile", "language_code": "en"}
    return {"update_id": int(time.time()) % 1_000_000_000, "message": {
        "message_id": 11223, "from": user, "chat": dict(user, type="private"),
        "date": int(time.time()), "text": text}}


def send_long_word(channel, souk):
    """Sends the word as the channel's platform or browser would; (status, note)."""
    port = souk.port
    if channel in ("whatsapp", "messenger"):
        build = whatsapp_text_body if channel == "whatsapp" else messenger_text_body
        raw = json.dumps(build(LONG_WORD)).encode()
        status, data, secs = request(port, "POST", f"/webhooks/{channel}", raw, {
            "content-type": "application/json", "x-hub-signature-256": sign(raw)}, timeout=60)
    elif channel == "telegram":
        raw = json.dumps(telegram_update_body(LONG_WORD)).encode()
        status, data, secs = request(port, "POST", "/webhooks/telegram", raw, {
            "content-type": "application/json",
            "x-telegram-bot-api-secret-token": TG_SECRET}, timeout=60)
    else:
        status, data, _ = request(port, "POST", "/chat/api/sessions",
                                  json.dumps({"locale": "en"}).encode(),
                                  {"content-type": "application/json"})
        if status != 200:
            return status, f"session create failed: {data[:200]!r}", len(b"")
        session = json.loads(data)["session"]
        raw = json.dumps({"session": session, "text": LONG_WORD}).encode()
        status, data, secs = request(port, "POST", "/chat/api/messages", raw,
                                     {"content-type": "application/json"}, timeout=60)
    return status, f"{data[:120].decode('utf-8', 'replace')!r} in {secs * 1000:.0f} ms", len(raw)


def long_word(channel, binary, fake, cap):
    name = f"long-word-{channel}"
    env = {}
    if channel == "whatsapp":
        env = whatsapp_env(fake)
    elif channel == "messenger":
        env = meta_env("MESSENGER", fake, "PAGE_ID", PAGE_ID)
    elif channel == "telegram":
        # Webhook mode needs an https public URL; souk then calls setWebhook on the fake.
        env = {"SOUK__SERVER__PUBLIC_URL": "https://shop.example",
               "SOUK__CHANNELS__TELEGRAM__ENABLED": "true",
               "SOUK__CHANNELS__TELEGRAM__BOT_TOKEN": BOT_TOKEN,
               "SOUK__CHANNELS__TELEGRAM__WEBHOOK_SECRET": TG_SECRET,
               "SOUK__CHANNELS__TELEGRAM__API_URL": f"http://{HOST}:{fake.port}"}
    souk = Souk(binary, env, rss_cap_mb=cap)
    try:
        souk.wait_ready()
        time.sleep(2)  # a quiet baseline after start-up
        at_start = fake.summary()  # Telegram: setWebhook
        fake.reset()
        sent_at = time.monotonic()
        before = souk.peak_mb(until=sent_at)
        status, note, size = send_long_word(channel, souk)
        time.sleep(max(0.0, sent_at + 10 - time.monotonic()))  # watch 10 s after the send
        during = souk.peak_mb(since=sent_at)
        ok, secs = healthz(souk)
        alive = souk.alive() and ok
        replies = fake.summary() if channel != "webchat" else "n/a (web chat replies go over SSE)"
        souk.stop()
        details = [f"request body {size / 1000:.1f} kB -> HTTP {status}: {note}",
                   f"peak RSS before {mb(before)} MB, during 10 s after {mb(during)} MB, "
                   f"VmHWM {mb(souk.hwm_kb / MB)} MB",
                   f"/healthz after: {'200' if ok else 'FAILED'} in {secs * 1000:.0f} ms",
                   f"fake platform API: at start {at_start}; after the send {replies}",
                   f"stopped in {souk.stop_seconds:.1f} s, exit {souk.exit_code}"]
        if status == 413:
            details.append(f"413: the request body ({size:,} bytes) is over server.body_limit_bytes "
                           "(65,536 in config/souk.toml), refused before any text check")
        details += souk.death_note()
        key = f"HTTP {status}; RSS {mb(before)} -> {mb(during)} MB"
        return result(name, key, max(before, during), alive, details)
    finally:
        if souk.alive():
            souk.stop()
        souk.cleanup()


# ---------------------------------------------------------------- 2. held bodies
class Prober(threading.Thread):
    """GET /healthz on a fresh connection every `every` seconds until stopped."""

    def __init__(self, souk, every=0.5, timeout=10):
        super().__init__(daemon=True)
        self.souk, self.every, self.timeout = souk, every, timeout
        self.results = []  # (ok, seconds)
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            self.results.append(healthz(self.souk, self.timeout))
            self.done.wait(self.every)

    def summary(self):
        if not self.results:
            return "no probes"
        times = sorted(s * 1000 for ok, s in self.results if ok)
        failed = sum(1 for ok, _ in self.results if not ok)
        if not times:
            return f"{len(self.results)} probes, all failed"
        return (f"{len(self.results)} probes, {failed} failed; latency ms "
                f"median {times[len(times) // 2]:.0f}, max {times[-1]:.0f}")


class HeldConnection:
    """One hostile upload: request headers, then body bytes, never the last one."""

    def __init__(self, sock, head, body_bytes):
        self.sock = sock
        self.pending = memoryview(head)
        self.body_left = body_bytes
        self.received = b""
        self.status = None  # HTTP status once a response head arrived
        self.answered_at = None  # monotonic time of that response
        self.ended = None  # "closed" / "reset" / "send-failed" once the connection ended

    def next_chunk(self, chunk):
        if not self.pending and self.body_left:
            n = min(len(chunk), self.body_left)
            self.pending = chunk[:n]
            self.body_left -= n
        return self.pending

    def take(self, data):
        """Keeps the start of what the server sent; notes its HTTP status."""
        self.received = (self.received + data)[:256]
        if self.status is None and self.received.startswith(b"HTTP/") and b" " in self.received[:13]:
            self.status = int(self.received.split(b" ", 2)[1])
            self.answered_at = time.monotonic()

    def read_leftover(self):
        try:
            while True:
                data = self.sock.recv(4096)
                if not data:
                    return
                self.take(data)
        except OSError:
            return


def held_bodies(binary, fake, cap, signed=True, count=472, declared=4_000_001,
                body=4_000_000, send_seconds=30, hold_seconds=40):
    name = "held-bodies" if signed else "held-bodies-unsigned"
    souk = Souk(binary, whatsapp_env(fake), rss_cap_mb=cap)
    conns = []
    try:
        souk.wait_ready()
        time.sleep(2)
        baseline = souk.peak_mb()
        head = (f"POST /webhooks/whatsapp HTTP/1.1\r\nHost: {HOST}:{souk.port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {declared}\r\n")
        if signed:  # the right shape (sha256= and 64 hex digits), the wrong value
            head += f"X-Hub-Signature-256: sha256={'ab' * 32}\r\n"
        head = (head + "\r\n").encode()
        chunk = memoryview(b"a" * 65536)
        sel = selectors.DefaultSelector()
        prober = Prober(souk)
        start = time.monotonic()
        for _ in range(count):
            sock = socket.socket()
            sock.setblocking(False)
            sock.connect_ex((HOST, souk.port))  # EINPROGRESS; writable once connected
            conn = HeldConnection(sock, head, body)
            conns.append(conn)
            sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE, conn)
        prober.start()
        send_deadline = start + send_seconds
        hold_deadline = None
        # One loop: write while the send phase lasts, read responses throughout, stop early
        # once every connection has its answer or has ended.
        while True:
            now = time.monotonic()
            if hold_deadline is None and (now >= send_deadline or
                                          all(c.ended or not c.next_chunk(chunk) for c in conns)):
                hold_deadline = now + hold_seconds
                for c in conns:  # holding: stop asking to write
                    if not c.ended:
                        sel.modify(c.sock, selectors.EVENT_READ, c)
            if hold_deadline is not None and now >= hold_deadline:
                break
            if all(c.ended or c.status for c in conns):
                break
            for key, events in sel.select(timeout=0.2):
                c = key.data
                if events & selectors.EVENT_READ:
                    try:
                        data = c.sock.recv(4096)
                    except BlockingIOError:
                        continue
                    except ConnectionResetError:
                        data, c.ended = b"", "reset"
                    except OSError as error:  # e.g. the connect itself was refused
                        data, c.ended = b"", type(error).__name__
                    if data:
                        c.take(data)
                        if c.status and hold_deadline is None:
                            sel.modify(c.sock, selectors.EVENT_READ, c)  # answered: stop sending
                        continue
                    c.ended = c.ended or "closed"
                    sel.unregister(c.sock)
                    continue
                if events & selectors.EVENT_WRITE and hold_deadline is None:
                    piece = c.next_chunk(chunk)
                    try:
                        sent = c.sock.send(piece)
                        c.pending = piece[sent:]
                    except BlockingIOError:
                        pass
                    except OSError:  # EPIPE / ECONNRESET
                        # The server answered and closed without reading the rest: its
                        # response may still sit in our receive buffer.
                        c.ended = "send-failed"
                        sel.unregister(c.sock)
                        c.read_leftover()
                    else:
                        if not c.pending and not c.body_left:
                            sel.modify(c.sock, selectors.EVENT_READ, c)  # all sent: hold
        attack_end = time.monotonic()
        prober.done.set()
        prober.join(15)
        peak = souk.peak_mb(since=start)
        for c in conns:
            c.sock.close()
        time.sleep(1)
        ok, secs = healthz(souk)
        alive = souk.alive() and ok
        souk.stop()

        statuses = collections.Counter(c.status for c in conns if c.status)
        answered = sum(statuses.values())
        silent = collections.Counter(c.ended or "still open" for c in conns if not c.status)
        sent_all = sum(1 for c in conns if not c.body_left and not c.pending)
        status_text = ", ".join(f"{s} x{n}" for s, n in sorted(statuses.items())) or "none"
        when = collections.defaultdict(list)  # status -> seconds from the start of the attack
        for c in conns:
            if c.status:
                when[c.status].append(c.answered_at - start)
        timing = "; ".join(f"{s} after {min(t):.1f}-{max(t):.1f} s" for s, t in sorted(when.items()))
        details = [
            f"{count} connections, {sent_all} sent all {body:,} body bytes; attack lasted "
            f"{attack_end - start:.1f} s",
            f"{answered} got an HTTP response: {status_text}; without one: "
            + (", ".join(f"{k} x{n}" for k, n in silent.items()) or "none"),
            f"responses came: {timing or 'never'}",
            f"/healthz during the attack: {prober.summary()}",
            f"peak RSS {mb(peak)} MB (baseline {mb(baseline)} MB, VmHWM {mb(souk.hwm_kb / MB)} MB)",
            f"after: /healthz {'200' if ok else 'FAILED'} in {secs * 1000:.0f} ms; stopped in "
            f"{souk.stop_seconds:.1f} s, exit {souk.exit_code}",
        ]
        details += souk.death_note()
        key = f"{answered}/{count} answered ({status_text}); healthz {prober.summary().split('; ')[-1]}"
        return result(name, key, peak, alive, details)
    finally:
        for c in conns:
            c.sock.close()
        if souk.alive():
            souk.stop()
        souk.cleanup()


# ---------------------------------------------------------------- 3. idle connections
class IdleConnections:
    """`count` connections that never send a byte. Connects are non-blocking, so ones the
    kernel cannot queue (souk's listen backlog is full) do not hold up the rest: they stay
    pending while the SYN is retried. "Established" is the client's view: the handshake is
    done, though souk may not have accepted the connection yet."""

    def __init__(self, port, count):
        self.socks = []
        self.pending = selectors.DefaultSelector()
        self.established, self.failed, self.closed = set(), set(), set()
        for i in range(count):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex((HOST, port))  # EINPROGRESS; writable once connected
            self.pending.register(s, selectors.EVENT_WRITE, i)
            self.socks.append(s)

    def update(self, wait=0.0):  # -> how many souk has closed so far
        """Moves finished connects to established (or failed), then notes which established
        ones souk has closed (EOF or reset) or answered (any byte: it did not just wait)."""
        deadline = time.monotonic() + wait
        while self.pending.get_map():
            ready = self.pending.select(timeout=max(0.0, deadline - time.monotonic()))
            for key, _ in ready:
                self.pending.unregister(key.fileobj)
                error = key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                (self.failed if error else self.established).add(key.data)
            if not ready or time.monotonic() >= deadline:
                break
        for i in self.established - self.closed:
            try:
                self.socks[i].recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
            except BlockingIOError:
                continue  # still open and quiet
            except OSError:
                pass  # reset
            self.closed.add(i)
        return len(self.closed)

    def client_view(self):
        return (f"{len(self.established)} connected as the client sees it, "
                f"{len(self.pending.get_map())} still connecting, {len(self.failed)} failed")

    def close(self):
        for s in self.socks:
            s.close()
        self.socks = []


def accept_queue(port):
    """How many connections wait in the accept queue of souk's listening socket (for a
    listener, /proc/net/tcp's rx_queue is that queue's length; `ss -ltn` shows its maximum)."""
    wanted = f"0100007F:{port:04X}"
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == wanted and fields[3] == "0A":  # 0A: LISTEN
                return int(fields[4].split(":")[1], 16)
    return None


class Tries:
    """One request on a fresh connection at each of `at` (seconds after t0), each in its own
    thread, so a try stuck behind the idle connections does not delay the next one."""

    def __init__(self, souk, method, path, t0, at=(1, 3, 5, 7, 9), body=None, timeout=30):
        headers = {"content-type": "application/json"} if body else {}
        self.results = []  # (sent s after t0, status, seconds)
        self.threads = [threading.Thread(target=self._one, daemon=True,
                                         args=(souk, method, path, body, headers, t0 + when, t0, timeout))
                        for when in at]
        for thread in self.threads:
            thread.start()

    def _one(self, souk, method, path, body, headers, when, t0, timeout):
        time.sleep(max(0.0, when - time.monotonic()))
        sent = time.monotonic() - t0
        status, _, secs = request(souk.port, method, path, body, headers, timeout)
        self.results.append((sent, status, secs))

    def join(self):
        for thread in self.threads:
            thread.join(60)
        self.results.sort()

    def ok_latencies(self):
        return [secs for _, status, secs in self.results if status and status < 400]

    def summary(self):
        parts = [f"{status or 'ERR'} in {secs:.2f} s (sent at {at:.0f} s)"
                 for at, status, secs in self.results]
        return f"{len(self.ok_latencies())}/{len(self.results)} ok: " + ", ".join(parts)


def idle_1100(binary, fake, cap, count=1100, nofile=1024):
    name = "idle-1100"
    souk = Souk(binary, nofile=nofile, rss_cap_mb=cap)
    idle = None
    try:
        souk.wait_ready()
        time.sleep(2)
        baseline = souk.peak_mb()
        start = time.monotonic()  # every time below is from the first connect
        idle = IdleConnections(souk.port, count)
        closed = {1: idle.update(wait=1.0)}
        queue = accept_queue(souk.port)
        log(f"   1 s: {closed[1]} closed by souk; {idle.client_view()}; "
            f"{queue} waiting in souk's accept queue")
        # Fresh requests while the idle ones are open (souk closes idle ones after its
        # 10 s header timeout, so the tries go in the first 10 s).
        health = Tries(souk, "GET", "/healthz", start)
        sessions = Tries(souk, "POST", "/chat/api/sessions", start,
                         body=json.dumps({"locale": "en"}).encode())
        # 25 s as well: connections souk accepted only once the first ones timed out end ~20 s.
        for mark in (5, 12, 20, 25):
            time.sleep(max(0.0, start + mark - time.monotonic()))
            closed[mark] = idle.update()
            log(f"  {mark:>2} s: {closed[mark]} closed by souk")
        health.join()
        sessions.join()
        peak = souk.peak_mb(since=start)
        idle.close()
        time.sleep(1)
        ok, secs = healthz(souk)
        alive = souk.alive() and ok
        souk.stop()
        lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in souk.log_text().splitlines()]
        hits = [line for line in lines if "accept" in line or "Too many open files" in line]
        limit_lines = [line for line in lines if "open_file_limit" in line or "max_connections" in line]
        details = [
            f"souk under prlimit --nofile={nofile}:{nofile}; {count} idle connections ({idle.client_view()})",
            f"after 1 s, {queue} connections waited in souk's accept queue (the rest of the "
            "non-accepted ones were retrying their SYN or handshake)",
            "idle connections closed by souk after 1/5/12/20/25 s: "
            + "/".join(str(closed[m]) for m in (1, 5, 12, 20, 25)),
            f"GET /healthz: {health.summary()}",
            f"POST /chat/api/sessions: {sessions.summary()}",
            f"peak RSS {mb(peak)} MB (baseline {mb(baseline)} MB, VmHWM {mb(souk.hwm_kb / MB)} MB)",
            f"log lines with 'accept' or 'Too many open files': {len(hits)}",
        ] + [f"    {line[:200]}" for line in hits[:3]] + [
            f"    (limit note) {line[:200]}" for line in limit_lines[:2]] + [
            f"after: /healthz {'200' if ok else 'FAILED'} in {secs * 1000:.0f} ms; stopped in "
            f"{souk.stop_seconds:.1f} s, exit {souk.exit_code}",
        ] + souk.death_note()
        h_ok = health.ok_latencies()
        key = (f"closed 5/12/20 s: {closed[5]}/{closed[12]}/{closed[20]} of {count}; healthz "
               f"{len(h_ok)}/{len(health.results)} ok, max {max(h_ok, default=float('nan')):.2f} s; "
               f"EMFILE/accept log lines {len(hits)}")
        return result(name, key, peak, alive, details)
    finally:
        if idle:
            idle.close()
        if souk.alive():
            souk.stop()
        souk.cleanup()


# ---------------------------------------------------------------- main
SCENARIOS = {
    "long-word-whatsapp": lambda b, f, c: long_word("whatsapp", b, f, c),
    "long-word-messenger": lambda b, f, c: long_word("messenger", b, f, c),
    "long-word-telegram": lambda b, f, c: long_word("telegram", b, f, c),
    "long-word-webchat": lambda b, f, c: long_word("webchat", b, f, c),
    "held-bodies": lambda b, f, c: held_bodies(b, f, c, signed=True),
    "held-bodies-unsigned": lambda b, f, c: held_bodies(b, f, c, signed=False),
    "idle-1100": idle_1100,
}


def default_rss_cap_mb():
    """Half of MemAvailable (at most 8 GB): well before the kernel's OOM killer picks a victim."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return min(8192, int(line.split()[1]) // 1024 // 2)
    except OSError:
        pass
    return 4096


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", default="target/release/souk",
                        help="souk binary (relative to the repository root or absolute)")
    parser.add_argument("--only", help="comma-separated scenario names or prefixes: "
                        + ", ".join(SCENARIOS))
    parser.add_argument("--rss-cap-mb", type=int, default=default_rss_cap_mb(),
                        help="SIGKILL souk if its RSS passes this (protects the machine)")
    args = parser.parse_args()

    wanted = [w.strip() for w in args.only.split(",")] if args.only else []
    names = [n for n in SCENARIOS if not wanted or any(n == w or n.startswith(w) for w in wanted)]
    if not names:
        sys.exit(f"--only {args.only} matches none of: {', '.join(SCENARIOS)}")
    binary = os.path.join(ROOT, args.bin) if not os.path.isabs(args.bin) else args.bin
    if not os.access(binary, os.X_OK):
        sys.exit(f"no souk binary at {binary} (build it, or pass --bin target/debug/souk)")

    # 1,100 client sockets and more need more than the usual 1,024 descriptors.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < 1300 and "idle-1100" in names:
        log("warning: cannot raise this script's open-file limit to 1,300; idle-1100 will fall short")

    log(f"souk: {binary}\nRSS cap: {args.rss_cap_mb} MB\n")
    fake = FakeApis()
    results = []
    for name in names:
        log(f"== {name}")
        started = time.monotonic()
        fake.reset()  # a stopped souk may have sent its last replies late
        try:
            outcome = SCENARIOS[name](binary, fake, args.rss_cap_mb)
        except Exception as error:  # a scenario that could not run is a result too
            outcome = result(name, f"FAILED: {str(error).splitlines()[0]}", float("nan"), False,
                             ["error: " + str(error).replace("\n", "\n    ")])
        for line in outcome["details"]:
            log(f"  {line}")
        log(f"  ({time.monotonic() - started:.0f} s)\n")
        results.append(outcome)
    fake.close()

    log("| scenario | key result | peak RSS MB | alive |")
    log("| --- | --- | ---: | --- |")
    for r in results:
        log(f"| {r['name']} | {r['key']} | {mb(r['peak'])} | {'yes' if r['alive'] else 'NO'} |")
    return 0 if all(r["alive"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
