#!/usr/bin/env python3
"""What a flood of unauthenticated webhook requests costs the webhook in memory.

Starts the local stack (`callbook-dev`: moto, the provisioned tables and queues, and the
webhook's own handler serving HTTP in-process), then sends N unauthenticated
POST /vapi-webhook requests, each naming a random assistant and phone-number id: well-formed
ids (UUIDs, as Vapi's are; each is looked up before authentication, one GetItem to moto) and
malformed ones (too long, or with characters no id has; never looked up). Every answer must be
401. It prints the resident memory (VmRSS) of the callbook-dev process, which is the webhook's
process here, before and after.

The dev server also runs the workers' pollers, which idle on empty queues; moto runs in its own
process and is not counted. The baseline is taken after a short warm-up (the HTTP server's
and the SDK's connection pools, the allocator's first arenas), which is reported too.

    cargo build -p callbook-dev
    python3 infra/measure-preauth-memory.py [--requests 100000] [--threads 8]
    # or against a stack already running: --url http://127.0.0.1:3000 --pid <callbook-dev pid>
"""
import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def random_id(rng):
    """A random id: half well-formed (a UUID), half malformed in one of three ways."""
    kind = rng.random()
    if kind < 0.5:
        return str(uuid.UUID(int=rng.getrandbits(128)))
    if kind < 0.7:
        return "x" * rng.randint(65, 200) + str(rng.getrandbits(32))
    if kind < 0.85:
        return f"asst {rng.getrandbits(64)}"
    return f"ünï-{rng.getrandbits(64)}"


def body(rng):
    return json.dumps({"message": {"type": "tool-calls",
        "call": {"id": f"call-{rng.getrandbits(64)}", "assistantId": random_id(rng),
                 "phoneNumberId": random_id(rng), "customer": {"number": "+17025550100"}},
        "toolCallList": [{"id": "t1", "type": "function",
                          "function": {"name": "getAppointments", "arguments": {}}}]}})


def flood(host, port, count, threads, seed):
    """Sends `count` requests over `threads` kept-alive connections; returns status counts."""
    statuses = {}
    lock = threading.Lock()

    def run(share, worker_seed):
        rng = random.Random(worker_seed)
        conn = http.client.HTTPConnection(host, port, timeout=30)
        local = {}
        for i in range(share):
            headers = {"content-type": "application/json"}
            if i % 2:
                headers["x-vapi-secret"] = f"wrong-{rng.getrandbits(32)}"
            try:
                conn.request("POST", "/vapi-webhook", body(rng), headers)
                response = conn.getresponse()
                response.read()
                local[response.status] = local.get(response.status, 0) + 1
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=30)
                local["error"] = local.get("error", 0) + 1
        conn.close()
        with lock:
            for k, v in local.items():
                statuses[k] = statuses.get(k, 0) + v

    shares = [count // threads + (1 if i < count % threads else 0) for i in range(threads)]
    pool = [threading.Thread(target=run, args=(share, seed * 1000 + i)) for i, share in enumerate(shares)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return statuses


def start_stack(binary):
    dev_port, moto_port = free_port(), free_port()
    dev_dir = tempfile.mkdtemp(prefix="callbook-preauth-")
    log_path = os.path.join(dev_dir, "callbook-dev.log")
    env = dict(os.environ, DEV_PORT=str(dev_port), MOTO_PORT=str(moto_port), CALLBOOK_ROOT=REPO,
               CALLBOOK_DEV_DIR=dev_dir, VAPI_WEBHOOK_SECRET=f"measure-{uuid.uuid4()}",
               RUST_LOG=os.environ.get("RUST_LOG", "warn"))
    log = open(log_path, "w")
    # Its own process group, so stopping it stops moto (its child) too.
    process = subprocess.Popen([binary], env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        with open(log_path) as f:
            if "local stack ready" in f.read():
                return process, dev_port, log_path
        if process.poll() is not None:
            break
        time.sleep(0.5)
    os.killpg(process.pid, signal.SIGTERM)
    sys.exit(f"callbook-dev did not become ready; see {log_path}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=100_000)
    ap.add_argument("--warmup", type=int, default=2_000)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--binary", default=os.path.join(REPO, "target", "debug", "callbook-dev"))
    ap.add_argument("--url", help="a stack already running (with --pid); otherwise one is started")
    ap.add_argument("--pid", type=int, help="the process serving --url")
    args = ap.parse_args()

    process = None
    if args.url:
        if not args.pid:
            sys.exit("--url needs --pid (the process whose memory is measured)")
        host, port = args.url.split("//", 1)[-1].rstrip("/").split(":")
        port, pid = int(port), args.pid
    else:
        if not os.access(args.binary, os.X_OK):
            sys.exit(f"{args.binary} not found: cargo build -p callbook-dev")
        process, port, log_path = start_stack(args.binary)
        host, pid = "127.0.0.1", process.pid
        print(f"local stack: http://{host}:{port} (callbook-dev pid {pid}, log {log_path})")
    try:
        ready = rss_kib(pid)
        warm = flood(host, port, args.warmup, args.threads, seed=1)
        time.sleep(1)
        before = rss_kib(pid)
        started = time.time()
        statuses = flood(host, port, args.requests, args.threads, seed=2)
        elapsed = time.time() - started
        time.sleep(1)
        after = rss_kib(pid)
    finally:
        if process is not None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
    print(f"warm-up: {args.warmup} requests {dict(sorted(warm.items(), key=str))}")
    print(f"flood:   {args.requests} requests in {elapsed:.0f} s ({args.requests / elapsed:.0f}/s), "
          f"answers {dict(sorted(statuses.items(), key=str))}")
    print(f"RSS when ready:       {ready / 1024:8.1f} MiB")
    print(f"RSS after warm-up:    {before / 1024:8.1f} MiB")
    print(f"RSS after the flood:  {after / 1024:8.1f} MiB")
    change = (after - before) / 1024
    print(f"change over {args.requests} unauthenticated requests: {change:+.2f} MiB")
    if set(statuses) != {401}:
        sys.exit("every answer should have been 401")


if __name__ == "__main__":
    main()
