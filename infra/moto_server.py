#!/usr/bin/env python3
"""moto's server, with DynamoDB's isolation restored.

moto's server is threaded and applies a TransactWriteItems item by item without a lock, so
concurrent transactions on the same items interleave: measured here, 20 concurrent two-cell
slot reservations at capacity 1 left two reserved and cells counted 2 and 3 - which real
DynamoDB (serializable transactions) never does. This wrapper runs every DynamoDB item
operation of the emulator under one lock (and backs up only the items a transaction touches,
not whole tables: see below). It also removes a few walks over whole tables and queues that
made a load test slow down as it grew (each below, with its reason). Otherwise it is
`moto_server` with its arguments:

    python infra/moto_server.py -H 127.0.0.1 -p 4566

Only the local emulator is patched; the project's code talks to it like to AWS.
"""
import copy
import functools
import json
import sys
import threading
import time
from urllib.parse import parse_qs, urlparse

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.moto_api._internal.responses import MotoAPIResponse
from moto.core import model_instances
from moto.core.utils import camelcase_to_underscores
from moto.server import main
from moto.sqs.models import Message, Queue, SQSBackend

_DYNAMODB = threading.RLock()

for _name in ("put_item", "get_item", "query", "scan", "update_item", "delete_item"):
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


# A Query on a table's own key walks every item of the table to find one partition's: O(table
# size) per availability check. The items are stored by partition already, so (under the lock
# above) the query is given only its partition's items to walk; the result is the same.
_table_query = Table.query


@functools.wraps(_table_query)
def _query_one_partition(self, hash_key, *args, **kwargs):
    index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
    if index_name is not None or hash_key is None or not self.range_key_attr:
        return _table_query(self, hash_key, *args, **kwargs)
    partition = self.items.get(hash_key, {})
    self.all_items = lambda: list(partition.values())
    try:
        return _table_query(self, hash_key, *args, **kwargs)
    finally:
        del self.all_items


Table.query = _query_one_partition


# SQS: moto computes a queue's attributes (with its approximate message counts: three walks
# over the whole queue, each message asking the time through two datetime conversions) on every
# SendMessage, for one FIFO setting, and for every message a ReceiveMessage returns, for the
# retention period. With thousands of messages waiting, each send and receive cost milliseconds
# and the emulator slowed as a load test went on. Here the counts are computed only where they
# are asked for, GetQueueAttributes, in one walk; and the time is read directly (the same clock,
# in milliseconds).
Message.visible = property(lambda self: time.time() * 1000.0 > self.visible_at)
Message.delayed = property(lambda self: time.time() * 1000.0 < self.delayed_until)

_COUNTS = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesDelayed",
    "ApproximateNumberOfMessagesNotVisible",
)
for _count in _COUNTS:
    # Read only by Queue.attributes; the real figures are filled in below.
    setattr(Queue, camelcase_to_underscores(_count), property(lambda self: 0))

_get_queue_attributes = SQSBackend.get_queue_attributes


@functools.wraps(_get_queue_attributes)
def _get_queue_attributes_counted(self, queue_name, attribute_names, *args, **kwargs):
    attributes = _get_queue_attributes(self, queue_name, attribute_names, *args, **kwargs)
    if any(name in attributes for name in _COUNTS):
        now = time.time() * 1000.0
        visible = delayed = not_visible = 0
        for message in self.get_queue(queue_name)._messages:
            is_delayed = now < message.delayed_until
            is_visible = now > message.visible_at
            delayed += is_delayed
            not_visible += not is_visible
            visible += is_visible and not is_delayed
        for name, count in zip(_COUNTS, (visible, delayed, not_visible)):
            if name in attributes:
                attributes[name] = count
    return attributes


SQSBackend.get_queue_attributes = _get_queue_attributes_counted


# /moto-api/data.json dumps every tracked object of every service (each DynamoDB item, each SQS
# message ever sent) to show the sent SMS and emails; after a load test that takes longer than
# a test's HTTP timeout. `?services=sns,ses` dumps only those services; without it, all.
_model_data = MotoAPIResponse.model_data


@functools.wraps(_model_data)
def _model_data_of(self, request, full_url, headers):
    asked = parse_qs(urlparse(full_url).query).get("services")
    if not asked:
        return _model_data(self, request, full_url, headers)
    wanted = {name for value in asked for name in value.split(",")}
    results = {}
    for service in sorted(wanted & set(model_instances.model_data)):
        results[service] = {}
        for name, model in sorted(model_instances.model_data[service].items()):
            results[service][name] = []
            for instance in model.instances_tracked:
                fields = {}
                for attr in dir(instance):
                    if attr.startswith("_"):
                        continue
                    try:
                        value = getattr(instance, attr)
                        json.dumps(value)
                    except (TypeError, AttributeError, ValueError):
                        continue
                    fields[attr] = value
                results[service][name].append(fields)
    return 200, {"Content-Type": "application/javascript"}, json.dumps(results)


MotoAPIResponse.model_data = _model_data_of
if "moto.moto_api._internal.urls" in sys.modules:  # routes bound before the patch
    raise RuntimeError("moto's API routes were loaded before infra/moto_server.py patched them")

if __name__ == "__main__":
    sys.exit(main())
