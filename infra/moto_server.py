#!/usr/bin/env python3
"""moto's server, with DynamoDB's isolation restored.

moto's server is threaded and applies a TransactWriteItems item by item without a lock, so
concurrent transactions on the same items interleave: measured here, 20 concurrent two-cell
slot reservations at capacity 1 left two reserved and cells counted 2 and 3 - which real
DynamoDB (serializable transactions) never does. This wrapper runs every DynamoDB item
operation of the emulator under one lock (and backs up only the items a transaction touches,
not whole tables: see below), and is otherwise `moto_server` with its arguments:

    python infra/moto_server.py -H 127.0.0.1 -p 4566

Only the local emulator is patched; the project's code talks to it like to AWS.
"""
import copy
import functools
import sys
import threading

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.server import main

_DYNAMODB = threading.RLock()

for _name in ("put_item", "get_item", "query", "update_item", "delete_item"):
    _original = getattr(DynamoDBBackend, _name)

    @functools.wraps(_original)
    def _serialized(self, *args, __original=_original, **kwargs):
        with _DYNAMODB:
            return __original(self, *args, **kwargs)

    setattr(DynamoDBBackend, _name, _serialized)


# moto backs up every table a transaction touches with a deepcopy of the whole table, before
# every transaction: O(table size) each, so a load test of thousands of bookings slows to a
# crawl (measured: moto at 100% CPU and 1.2 GB after ~1,000 requests). Under the lock above
# nothing else runs meanwhile, so backing up only the items the transaction touches, and
# putting them back if it is cancelled, gives the same all-or-nothing result.
class _CopyWithoutTables:
    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value, memo=None):
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


dynamodb_models.copy = _CopyWithoutTables()


def _touched_items(backend, transact_items):
    saved = []
    for entry in transact_items:
        op = next(iter(entry.values()), {})
        table = backend.tables.get(op.get("TableName"))
        attrs = op.get("Item") or op.get("Key") or {}
        if table is None or table.hash_key_attr not in attrs:
            continue
        try:
            hash_key = DynamoType(attrs[table.hash_key_attr])
            range_key = (
                DynamoType(attrs[table.range_key_attr])
                if table.range_key_attr and table.range_key_attr in attrs
                else None
            )
            current = table.get_item(hash_key, range_key)
        except Exception:  # an invalid key: moto refuses the transaction before writing it
            continue
        saved.append((table, hash_key, range_key, copy.deepcopy(current)))
    return saved


def _put_back(saved):
    # Newest first, so an item touched twice ends as it was before the transaction.
    for table, hash_key, range_key, item in reversed(saved):
        if item is None:
            table.delete_item(hash_key, range_key)
        elif range_key is not None:
            table.items[hash_key][range_key] = item
        else:
            table.items[hash_key] = item


_transact_write_items = DynamoDBBackend.transact_write_items


@functools.wraps(_transact_write_items)
def _transact(self, transact_items, *args, **kwargs):
    with _DYNAMODB:
        saved = _touched_items(self, transact_items)
        try:
            return _transact_write_items(self, transact_items, *args, **kwargs)
        except Exception:
            _put_back(saved)
            raise


DynamoDBBackend.transact_write_items = _transact

if __name__ == "__main__":
    sys.exit(main())
