#!/usr/bin/env python3
"""Cold start of a function binary, measured against a stand-in Lambda Runtime API.

init  = exec → the binary's first GET /runtime/invocation/next (config + SDK clients built)
first = that event handed over → its response posted

The events need no AWS: a status-update for the webhook, an empty batch for the workers, so
this measures the runtime and our init, not the network.

    cargo build --release -p webhook -p monitoring -p booking-worker \
        -p notification-worker -p analytics-worker -p followup-worker -p sms-replies --bins && cargo build --release -p webhook --example floor
    python3 infra/measure-cold-start.py [--runs 20] [target/release/webhook ...]

Without arguments it also measures target/release/examples/floor (lambda_http + aws-config +
SQS + DynamoDB clients and a trivial handler), the floor our functions are held to (<= 1.2x).
"""
import argparse
import http.server
import json
import os
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# A notice: answered without any I/O (a status update would now be queued for analytics).
# Its assistant and phone number ids are taken out: with them the webhook looks the business
# up before authenticating (it may have its own secret), one DynamoDB GetItem per id and
# instance per minute, which here would time out against the unreachable endpoint.
WEBHOOK_EVENT = json.load(open(os.path.join(ROOT, "events", "webhook-speech-update.json")))
_body = json.loads(WEBHOOK_EVENT["body"])
for _id in ("assistantId", "phoneNumberId"):
    _body["message"]["call"].pop(_id, None)
WEBHOOK_EVENT["body"] = json.dumps(_body)
EMPTY_BATCH = {"Records": []}

ENV = {
    "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_LAMBDA_FUNCTION_NAME": "cold-start", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/cold-start",
    "AWS_LAMBDA_LOG_STREAM_NAME": "local", "RUST_LOG": "warn",
    "VAPI_WEBHOOK_SECRET": "local-dev-secret",
    "BOOKING_QUEUE_URL": "http://127.0.0.1:9/123456789012/q", "NOTIFICATION_QUEUE_URL": "http://127.0.0.1:9/123456789012/n",
    "ANALYTICS_QUEUE_URL": "http://127.0.0.1:9/123456789012/a",
    "CUSTOMERS_TABLE": "c", "BOOKINGS_TABLE": "b", "IDEMPOTENCY_TABLE": "i", "SENDER_EMAIL": "bookings@example.com",
    "CALLS_TABLE": "calls", "BUSINESSES_TABLE": "businesses",
    "ALARM_PREFIX": "cold-start-", "MONITORING_TOKEN": "local-monitoring-token",
    "FOLLOWUP_QUEUE_URL": "http://127.0.0.1:9/123456789012/f",
    "SCHEDULE_GROUP": "cold-start-followups",
    "SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/cold-start-scheduler",
    "FOLLOWUP_QUEUE_ARN": "arn:aws:sqs:us-east-1:123456789012:f",
    "FOLLOWUP_DLQ_ARN": "arn:aws:sqs:us-east-1:123456789012:fd",
}


class Runtime(http.server.BaseHTTPRequestHandler):
    """One server per run; its state lives on the server, so a late request from a previous
    run's process cannot touch this run's marks."""

    def log_message(self, *args):
        pass

    @property
    def run(self):
        return self.server.run

    def do_GET(self):
        if "next" not in self.path:
            self.send_error(404)
            return
        marks = self.run["marks"]
        if "init" in marks:  # a second poll: the run is over; hold it until we kill
            self.run["done"].wait(5)
            return
        marks["init"] = time.perf_counter()
        body = json.dumps(self.run["event"]).encode()
        self.send_response(200)
        self.send_header("Lambda-Runtime-Aws-Request-Id", "req-1")
        self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000))
        self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:cold-start")
        self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
        self.send_header("Content-Length", str(len(body)))
        marks["sent"] = time.perf_counter()
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        marks = self.run["marks"]
        marks["payload"] = self.rfile.read(length)
        marks["response" if self.path.endswith("/response") else "error"] = time.perf_counter()
        self.send_response(202)
        self.end_headers()
        self.run["done"].set()


def run_once(binary, event):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Runtime)
    server.run = run = {"event": event, "marks": {}, "done": threading.Event()}
    marks = run["marks"]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(ENV, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{server.server_address[1]}", PATH=os.environ.get("PATH", ""))
    start = time.perf_counter()
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ok = run["done"].wait(10)
    proc.kill()
    _, err = proc.communicate()
    server.shutdown()
    if not ok or "response" not in marks:
        sys.exit(f"{binary}: no response ({marks.get('payload')!r}); stderr: {err.decode()[-500:]}")
    return (marks["init"] - start) * 1000, (marks["response"] - marks["sent"]) * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("binaries", nargs="*")
    args = ap.parse_args()
    binaries = args.binaries or [os.path.join(ROOT, "target", "release", "examples", "floor")] + [
        os.path.join(ROOT, "target", "release", b) for b in ("webhook", "monitoring", "booking-worker", "notification-worker", "analytics-worker", "followup-worker", "sms-replies")]
    for binary in binaries:
        # The monitoring function answers any HTTP event (this path with a 404): its init is measured.
        event = WEBHOOK_EVENT if os.path.basename(binary) in ("webhook", "monitoring", "floor") else EMPTY_BATCH
        results = [run_once(binary, event) for _ in range(args.runs)]
        inits = [r[0] for r in results]
        firsts = [r[1] for r in results]
        print(f"{os.path.basename(binary):>20}: init median {statistics.median(inits):.1f} ms "
              f"(min {min(inits):.1f}), first event median {statistics.median(firsts):.2f} ms "
              f"(min {min(firsts):.2f}), {args.runs} runs")


if __name__ == "__main__":
    main()
