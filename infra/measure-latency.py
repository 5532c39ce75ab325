#!/usr/bin/env python3
"""Webhook latency through the local stack (make dev must be running), client side.

Sends N sequential bookAppointment requests (each enqueues a job to SQS in moto) and N
status-updates (no I/O), and prints p50/p99 per kind.

    python3 infra/measure-latency.py [--url http://127.0.0.1:3000/vapi-webhook] [--n 300]
"""
import argparse
import datetime
import json
import os
import statistics
import time
import urllib.request


def percentile(samples, q):
    s = sorted(samples)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:3000/vapi-webhook")
    ap.add_argument("--secret", default=os.environ.get("VAPI_WEBHOOK_SECRET", "local-dev-secret"))
    ap.add_argument("--n", type=int, default=300)
    args = ap.parse_args()

    day = datetime.date.today()
    while True:
        day += datetime.timedelta(days=1)
        if day.weekday() < 5:
            break
    book = {"function": "bookAppointment", "parameters": {
        "customerName": "Load Test", "customerPhone": "+17025550100", "customerEmail": "load@example.com",
        "serviceType": "Consultation", "date": day.isoformat(), "time": "10am"}}
    status = {"message": {"type": "status-update", "status": "in-progress", "call": {"id": "latency"}}}
    headers = {"content-type": "application/json", "x-vapi-secret": args.secret}

    for name, body in (("bookAppointment (enqueue)", book), ("status-update (no I/O)", status)):
        data = json.dumps(body).encode()
        samples = []
        for _ in range(args.n):
            req = urllib.request.Request(args.url, data=data, headers=headers, method="POST")
            start = time.perf_counter()
            with urllib.request.urlopen(req) as resp:
                resp.read()
                assert resp.status == 200
            samples.append((time.perf_counter() - start) * 1000)
        print(f"{name:>28}: n={args.n} p50 {percentile(samples, 0.5):.2f} ms, "
              f"p99 {percentile(samples, 0.99):.2f} ms, mean {statistics.mean(samples):.2f} ms")


if __name__ == "__main__":
    main()
