#!/usr/bin/env python3
"""moto's server, with DynamoDB's isolation restored.

moto's server is threaded and applies a TransactWriteItems item by item without a lock, so
concurrent transactions on the same items interleave: measured here, 20 concurrent two-cell
slot reservations at capacity 1 left two reserved and cells counted 2 and 3 - which real
DynamoDB (serializable transactions) never does. This wrapper runs every DynamoDB item
operation of the emulator under one lock, and is otherwise `moto_server` with its arguments:

    python infra/moto_server.py -H 127.0.0.1 -p 4566

Only the local emulator is patched; the project's code talks to it like to AWS.
"""
import functools
import sys
import threading

from moto.dynamodb.models import DynamoDBBackend
from moto.server import main

_DYNAMODB = threading.RLock()

for _name in ("put_item", "get_item", "query", "update_item", "delete_item", "transact_write_items"):
    _original = getattr(DynamoDBBackend, _name)

    @functools.wraps(_original)
    def _serialized(self, *args, __original=_original, **kwargs):
        with _DYNAMODB:
            return __original(self, *args, **kwargs)

    setattr(DynamoDBBackend, _name, _serialized)

if __name__ == "__main__":
    sys.exit(main())
