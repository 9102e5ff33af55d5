"""moto's server, as `python3 -m moto.server` runs it, plus two bulk calls for the sandbox seed.

POST /_drbot/s3/put-many  {"bucket": "...", "objects": [{"key": "...", "body": "..."}]}
writes the objects through moto's own S3 backend in this process, exactly as PutObject would
(versions, ETags), without one HTTP round trip per object: seeding 600 objects one request
at a time is what made `npm start` slow.

POST /_drbot/dynamodb/put-many  {"region": "...", "table": "...", "items": [{"pk": {"S": "..."}, ...}]}
writes DynamoDB items (AttributeValue JSON) through moto's DynamoDB backend, as PutItem would:
moto spends most of a BatchWriteItem in its request and response handling, and the sandbox
tables hold a few thousand items. Everything else is moto's app, untouched.

POST /_drbot/snapshot  {"name": "...", "meta": <any JSON>}   keeps a copy of every backend's state
POST /_drbot/restore   {"name": "..."}                        puts it back (404 for an unknown name)
POST /_drbot/fast-xml-answers  {}                             how many S3 answers the launcher wrote itself, by operation
The test run keeps one moto per jest worker and restores each file's starting state (moto as it
started, or the seeded sandbox) instead of starting and seeding a new server per file, which cost
seconds of Python a file (test/global/setup.ts, test/helpers/flow.ts). The copy is a deep copy of
moto's own objects; the two places where a plain deep copy loses state are handled below.

DynamoDB requests are served one at a time (moto's threaded server would otherwise let two
concurrent conditional writes of one item both pass their condition, which DynamoDB never does).

Two start-up savings, neither changing what moto models:
- botocore's endpoint and partition data is parsed once per process, not once per boto3 Session:
  moto builds a Session for each service backend and each EC2 region list, and parsing that JSON
  again each time was a second of CPU in every `npm start`;
- moto's EC2 models, the EC2 service model and the sandbox regions' EC2 backends (the slowest
  set-up, ~1-2 s) are made by one DescribeImages per region, answered in-process before the
  server listens (while the caller loads its own modules), instead of on the seed's first EC2 call;
- each EC2 region holds moto's 44 stock images (its amis.json, the base AMI the sandbox launches
  from among them) but not the ~1,200 "latest" public images per region that moto also loads by
  default (MOTO_AMIS_PATH set to the stock list skips them): building those was a second of CPU
  in every start, and nothing in drbot or its tests looks them up. MOTO_AMIS_PATH from the
  environment wins.

Usage: python3 moto_launcher.py HOST PORT
PORT 0 binds a port the OS picks and prints `PORT <n>` on stdout once it is bound (before the
preload), so no other process can take the port between choosing and binding it.
"""
import base64
import json
import os
import sys
import threading

import botocore.loaders

_load_data_with_path = botocore.loaders.Loader.load_data_with_path
_loaded = {}


def _shared_load_data_with_path(self, name):
    # The data files are read-only inputs; every Loader would parse the same bytes.
    if name not in _loaded:
        _loaded[name] = _load_data_with_path(self, name)
    return _loaded[name]


botocore.loaders.Loader.load_data_with_path = _shared_load_data_with_path

from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

BULK_PATH = "/_drbot/s3/put-many"
BULK_ITEMS_PATH = "/_drbot/dynamodb/put-many"
SNAPSHOT_PATH = "/_drbot/snapshot"
RESTORE_PATH = "/_drbot/restore"
FAST_XML_ANSWERS_PATH = "/_drbot/fast-xml-answers"


def put_objects(req):
    from moto.s3.models import s3_backends

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    for o in req["objects"]:
        backend.put_object(req["bucket"], o["key"], o["body"].encode("utf-8"))
    return len(req["objects"])


def put_items(req):
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][req["region"]]
    for item in req["items"]:
        backend.put_item(req["table"], item)
    return len(req["items"])


class _NotPlain(Exception):
    pass


def _blob(value):
    """A binary value as moto's serializer writes it (its _base64: text is encoded as UTF-8 first)."""
    if isinstance(value, str):
        value = value.encode("utf-8")
    if not isinstance(value, (bytes, bytearray)):
        raise _NotPlain(f"binary {type(value).__name__}")
    return base64.b64encode(value).strip().decode("utf-8")


def _attribute(value):
    """A DynamoDB AttributeValue as moto hands it to its serializer (DynamoResult's plain dicts):
    already the wire JSON, except binary values, which are bytes there and base64 on the wire."""
    if isinstance(value, dict):
        if "B" in value or "BS" in value:
            if len(value) != 1:
                raise _NotPlain("binary beside another type")
            if "B" in value:
                return {"B": _blob(value["B"])}
            if not isinstance(value["BS"], (list, tuple)):
                raise _NotPlain("binary set")
            return {"BS": [_blob(v) for v in value["BS"]]}
        return {str(k): _attribute(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_attribute(v) for v in value]
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise _NotPlain(type(value).__name__)


def _wire(value, shape):
    """The result as DynamoDB's JSON protocol sends it, guided by the output shape as moto's
    serializer is: members outside the shape left out, None members left out, timestamps converted
    by moto's own code. _NotPlain for anything else (dates as objects, bytes), which moto's serializer
    then handles."""
    if shape.name == "AttributeValue":
        return _attribute(value)
    t = shape.type_name
    if t == "structure":
        if not isinstance(value, dict):
            raise _NotPlain("structure")
        return {name: _wire(value[name], member) for name, member in shape.members.items() if value.get(name) is not None}
    if t == "list":
        if not isinstance(value, (list, tuple)):
            raise _NotPlain("list")
        return [_wire(v, shape.member) for v in value]
    if t == "map":
        if not isinstance(value, dict):
            raise _NotPlain("map")
        return {str(k): _wire(v, shape.value) for k, v in value.items() if v is not None}
    if t == "timestamp" and isinstance(value, (int, float)) and not isinstance(value, bool):
        # moto's own conversion (to a datetime, then truncated to the millisecond): a few a response.
        from moto.core.serialize import TimestampSerializer

        return TimestampSerializer("unixtimestamp")._convert_timestamp_to_str(value, shape.serialization.get("timestampFormat", "unixtimestamp"))
    if t == "boolean" and isinstance(value, bool):
        return value
    if t in ("integer", "long", "double", "float") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if t == "string" and isinstance(value, str):
        return value
    raise _NotPlain(f"{t}: {type(value).__name__}")


def _fast_dynamodb_results():
    """moto serializes every response by walking the service model, member by member: a DynamoDB
    item is a structure of ten possible members per attribute, looked up with aliases each time,
    so a Query of 20 items of the state table took 350 ms of CPU (measured), and the state table's
    queries were most of the test suite's moto time. moto's DynamoDB results are already the wire
    JSON (items are stored as AttributeValue JSON): send them as they are, and leave anything that
    is not plain JSON (dates, bytes) to moto's serializer. The output shape still decides which
    members go out and how timestamps are rounded, as in moto's serializer. DRBOT_MOTO_FAST_JSON=check serializes
    both ways and logs each difference to stderr (how this was checked over the test suite);
    DRBOT_MOTO_FAST_JSON=off keeps moto's serializer alone."""
    mode = os.environ.get("DRBOT_MOTO_FAST_JSON", "on")
    if mode == "off":
        return
    from moto.core.responses import ActionResult
    from moto.dynamodb.responses import DynamoResult

    slow = ActionResult.execute_result
    # Not PaginatedResult and the like, which page or transform their result while serializing.
    whole = (ActionResult, DynamoResult)

    def execute_result(self, context):
        if type(self) not in whole or context.service_model.service_name != "dynamodb" or isinstance(self.result, Exception):
            return slow(self, context)
        shape = context.operation_model.output_shape
        try:
            body = json.dumps(_wire(self.result, shape) if shape is not None else {}, separators=(",", ":"))
        except _NotPlain:
            return slow(self, context)
        if mode == "check":
            status, headers, want = slow(self, context)
            if status != 200 or json.loads(want or "{}") != json.loads(body):
                sys.stderr.write(f"DRBOT_MOTO_FAST_JSON mismatch {context.operation_model.name}: moto {status} {want[:300]!r} fast {body[:300]!r}\n")
                sys.stderr.flush()
            return status, headers, want
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, body

    ActionResult.execute_result = execute_result


def _xml_members(out, value, shape, ts):
    """Appends a structure's members in the shape's order, as moto's XML serializer writes them
    (xmltodict with short empty elements); _NotPlain for anything outside the plain cases."""
    if not isinstance(value, dict):
        raise _NotPlain("structure")
    for name, member in shape.members.items():
        v = value.get(name)
        if v is None:
            continue
        ser = member.serialization
        if ser.get("location") or ser.get("xmlAttribute") or ser.get("xmlNamespace"):
            raise _NotPlain(f"{name}: {ser}")
        tag = ser.get("name", name)
        t = member.type_name
        if t == "list":
            if not ser.get("flattened") or not isinstance(v, (list, tuple)):
                raise _NotPlain(f"{name}: list")
            # moto writes nothing for an empty flattened list (a page of delete markers only)
            item = member.member
            for x in v:
                _xml_element(out, tag, x, item, ts)
        else:
            _xml_element(out, tag, v, member, ts)


def _xml_element(out, tag, v, shape, ts):
    from xml.sax.saxutils import escape

    t = shape.type_name
    if t == "structure":
        inner = []
        _xml_members(inner, v, shape, ts)
        if not inner:
            raise _NotPlain(f"{tag}: empty structure")
        out.append(f"<{tag}>{''.join(inner)}</{tag}>")
        return
    if t == "string" and isinstance(v, str):
        text = escape(v)
    elif t == "boolean" and isinstance(v, bool):
        text = "true" if v else "false"
    elif t in ("integer", "long") and isinstance(v, int) and not isinstance(v, bool):
        text = str(v)
    elif t == "timestamp" and isinstance(v, str):
        text = escape(ts(v, shape))
    else:
        raise _NotPlain(f"{tag}: {t} {type(v).__name__}")
    out.append(f"<{tag}>{text}</{tag}>" if text else f"<{tag}/>")


# Answers the launcher wrote itself, by operation: POST /_drbot/fast-xml-answers says how many.
FAST_XML_ANSWERS = {}


def _fast_s3_xml():
    """moto writes an S3 answer by walking the service model member by member, through alias
    lookups and xmltodict: a ListObjectsV2 page of 1,000 objects took ~110 ms of moto's CPU, ~80 %
    of it there (measured), and a CopyObject ~0.4 ms of its ~3 ms. Listings and copies are what a
    copy-back, an undelete and their bench do most. For ListObjectsV2, ListObjectVersions and
    CopyObject the launcher writes the same XML directly, in the shape's member order with moto's
    own timestamp conversion, and leaves anything not plain (other types, header members,
    non-flattened lists, pretty printing) to moto's serializer. DRBOT_MOTO_FAST_XML=check writes
    both and logs each difference to stderr; =off keeps moto's serializer alone
    (test/long/moto-fast-xml.test.ts compares the two servers)."""
    mode = os.environ.get("DRBOT_MOTO_FAST_XML", "on")
    if mode == "off":
        return
    from moto import settings
    from moto.core.responses import ActionResult
    from moto.core.serialize import S3Serializer, TimestampSerializer

    slow = ActionResult.execute_result
    ops = {"ListObjectsV2", "ListObjectVersions", "CopyObject"}
    stamps = TimestampSerializer(S3Serializer.DEFAULT_TIMESTAMP_FORMAT)

    def ts(value, shape):
        return stamps._convert_timestamp_to_str(value, shape.serialization.get("timestampFormat", S3Serializer.DEFAULT_TIMESTAMP_FORMAT))

    def execute_result(self, context):
        if (
            type(self) is not ActionResult
            or context.service_model.service_name != "s3"
            or context.operation_model.name not in ops
            or context.serializer_class is not S3Serializer
            or settings.PRETTIFY_RESPONSES
            or isinstance(self.result, Exception)
            or not isinstance(self.result, dict)
        ):
            return slow(self, context)
        shape = context.operation_model.output_shape
        ns = context.operation_model.metadata.get("xmlNamespace")
        try:
            payload = shape.serialization.get("payload")
            out = []
            if payload:
                if set(self.result) != {payload}:
                    raise _NotPlain("payload beside other members")
                root = payload
                _xml_members(out, self.result[payload], shape.members[payload], ts)
            else:
                root = shape.serialization.get("resultWrapper")
                if not root:
                    raise _NotPlain("no result wrapper")
                _xml_members(out, self.result, shape, ts)
            if not out:
                raise _NotPlain("empty result")
            xmlns = f' xmlns="{ns}"' if ns else ""
            body = f'<?xml version="1.0" encoding="utf-8"?>\n<{root}{xmlns}>{"".join(out)}</{root}>'
        except _NotPlain:
            return slow(self, context)
        status = context.operation_model.http.get("responseCode", 200)
        FAST_XML_ANSWERS[context.operation_model.name] = FAST_XML_ANSWERS.get(context.operation_model.name, 0) + 1
        if mode == "check":
            want_status, want_headers, want = slow(self, context)
            if (want_status, want_headers.get("Content-Type"), want) != (status, "application/xml", body):
                sys.stderr.write(f"DRBOT_MOTO_FAST_XML mismatch {context.operation_model.name}: moto {want_status} {want[:300]!r} fast {body[:300]!r}\n")
                sys.stderr.flush()
            return want_status, want_headers, want
        return status, {"Content-Type": "application/xml"}, body

    ActionResult.execute_result = execute_result


def _fast_table_scan():
    """moto's Scan of a table sorts every item by comparing its DynamoType keys in Python, then, per
    item, hashes the key for its segment, walks past the previous pages comparing keys, computes the
    item's size twice and deep-copies it into the result: a page of a 2,000-item table cost ~120 ms
    of CPU (measured), Scan was most of the cut-over tests' moto time, and each page of a segment
    walks the whole table again. The same algorithm, in the same order, with the keys sorted by their
    values (what DynamoType's comparisons compare), the start key's types built once, the size taken
    once, and no copy: the response only serializes the items, and DynamoDB requests are served one
    at a time (DYNAMODB_LOCK), so nothing changes them meanwhile. Index scans, projections and
    anything else stay moto's own. DRBOT_MOTO_FAST_SCAN=check runs both and logs each difference to
    stderr; DRBOT_MOTO_FAST_SCAN=off keeps moto's scan alone."""
    mode = os.environ.get("DRBOT_MOTO_FAST_SCAN", "on")
    if mode == "off":
        return
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import RESULT_SIZE_LIMIT, Table

    slow = Table.scan

    def fast(self, filters, limit, exclusive_start_key, filter_expression, segments):
        ranged = bool(self.range_key_attr)
        items = [i for hs in self.items.values() for i in hs.values()] if ranged else list(self.items.values())
        items.sort(key=(lambda x: (x.hash_key.cast_value, x.range_key.cast_value) if x.range_key else x.hash_key.cast_value) if ranged else (lambda x: x.hash_key.cast_value))
        hash_attrs = [self.hash_key_attr]
        range_attrs = [self.range_key_attr]
        start = None
        if exclusive_start_key is not None:
            start = [(attr, DynamoType(exclusive_start_key.get(attr))) for attr in self._generate_attr_to_sort_by(hash_attrs, range_attrs)]
        whole = segments == (None, None)
        results = []
        result_size = 0
        scanned_count = 0
        last_evaluated_key = None
        for item in items:
            if not whole and not item.is_within_segment(segments):
                continue
            if start is not None:
                before = True
                for attr, value in start:
                    mine = item.attrs.get(attr)
                    if mine is not None and mine != value:
                        before = mine < value
                        break
                if before:
                    continue
                start = None
            size = item.size()
            if len(results) == limit or result_size + size > RESULT_SIZE_LIMIT:
                last_evaluated_key = self._get_last_evaluated_key(results[-1], None)
                break
            passes = True
            for attribute_name in filters:
                attribute = item.attrs.get(attribute_name)
                operator, values = filters[attribute_name]
                if attribute:
                    if not attribute.compare(operator, values):
                        passes = False
                        break
                elif operator == "NULL":
                    continue
                else:
                    passes = False
                    break
            if passes:
                results.append(item)
                result_size += size
            scanned_count += 1
        if filter_expression is not None:
            results = [item for item in results if filter_expression.expr(item)]
        return results, scanned_count, last_evaluated_key

    def scan(self, filters, limit, exclusive_start_key, filter_expression=None, index_name=None, consistent_read=False, projection_expression=None, segments=(None, None)):
        if index_name or projection_expression:
            return slow(self, filters, limit, exclusive_start_key, filter_expression, index_name, consistent_read, projection_expression, segments)
        got = fast(self, filters, limit, exclusive_start_key, filter_expression, segments)
        if mode == "check":
            want = slow(self, filters, limit, exclusive_start_key, filter_expression, index_name, consistent_read, projection_expression, segments)
            a = ([i.to_json() for i in want[0]], want[1], want[2])
            b = ([i.to_json() for i in got[0]], got[1], got[2])
            if a != b:
                sys.stderr.write(f"DRBOT_MOTO_FAST_SCAN mismatch {self.name}: moto {str(a)[:300]} fast {str(b)[:300]}\n")
                sys.stderr.flush()
            return want
        return got

    Table.scan = scan


def _per_request_lookups_once():
    """Two lookups moto's server makes on every request, whatever the service, whose answers cannot
    change while it runs: the list of moto's service packages (a directory listing and a stat of
    each of its ~200 entries, to see whether the Host header names one) and the names of a response
    class's methods (inspect.getmembers over the class, to see whether the action is one). Together
    about 1.5 ms of a 3 ms PutItem (measured); each is now worked out once."""
    from moto import backends
    from moto.core import responses

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules

    names = {}
    method_names_from_class = responses.method_names_from_class

    def cached(clazz):
        got = names.get(clazz)
        if got is None:
            got = names[clazz] = frozenset(method_names_from_class(clazz))
        return got

    responses.method_names_from_class = cached


def _timestamps_parsed_once():
    """moto keeps many timestamps as text (an S3 version's LastModified, a record's date) and its
    serializer parses each one with dateutil every time it is sent: two thirds of a page of
    ListObjectVersions went on parsing the same few dates again (measured: 2 of 3.3 s for 2,400
    versions). The parse is a pure function of the text and its result (a datetime) cannot be
    changed, so each text is parsed once and the datetime reused. Other values go to moto's as before."""
    from moto.core import serialize

    parse = serialize.parse_to_aware_datetime
    parsed = {}

    def parse_to_aware_datetime(value):
        if not isinstance(value, str):
            return parse(value)
        got = parsed.get(value)
        if got is None:
            if len(parsed) >= 100_000:
                parsed.clear()
            got = parsed[value] = parse(value)
        return got

    serialize.parse_to_aware_datetime = parse_to_aware_datetime


def _member_keys_once():
    """moto's serializer finds each member of a response in the result object by asking six alias
    providers (explicit, as is, the model's wire name, shape prefix, shape name, class prefix) for candidate
    attribute names, each a new object, for every member of every record it sends: a page of
    Route53's ListResourceRecordSets (300 record sets) cost ~45 ms of CPU, 40 % of it on this
    (measured over restore-route53.test.ts). The candidates depend only on the object's class, the
    member's name, its shape and that shape's parent, and the picker's providers (they read the
    class's Meta, the class name and the shapes' model), so they are worked out once per those and
    reused; the values are
    still read from each object. DRBOT_MOTO_FAST_KEYS=check works them out both ways and logs each
    difference to stderr (how this was checked over the test suite); =off keeps moto's way alone."""
    mode = os.environ.get("DRBOT_MOTO_FAST_KEYS", "on")
    if mode == "off":
        return
    from moto.core import serialize

    slow = serialize.XFormedAttributePicker.get_possible_keys
    # (class, member, shape, parent, providers) -> (held, keys): the objects whose ids make the key
    # are held, so no id is reused while its entry lives.
    keys = {}

    def get_possible_keys(self, context):
        shape = context.shape
        parent = getattr(shape, "parent", None)
        providers = self.alias_providers
        k = (type(context.obj), context.key, id(shape), id(parent), id(providers))
        got = keys.get(k)
        if got is None:
            got = keys[k] = ((shape, parent, providers), tuple(slow(self, context)))
        elif mode == "check":
            want = tuple(slow(self, context))
            if want != got[1]:
                sys.stderr.write(f"DRBOT_MOTO_FAST_KEYS mismatch {type(context.obj).__name__}.{context.key}: moto {want} cached {got[1]}\n")
                sys.stderr.flush()
                return iter(want)
        return iter(got[1])

    serialize.XFormedAttributePicker.get_possible_keys = get_possible_keys


def _cheap_version_listing():
    """moto's ListObjectVersions deep-copies every version of the whole bucket on every page (to
    mark the copies IsLatest without touching the stored keys), and a deep copy of a key reads its
    body into a new buffer: a page of a 2,400-version bucket copied all 2,400 bodies, so listing a
    bucket page by page grew with its square. The copies are made shallow instead: a new object of
    a subclass sharing the key's attributes (its body buffer and lock included) that never closes
    that buffer when it is collected, which the original does (FakeKey.__del__ disposes). IsLatest
    is still set on the copy only. ListObjectVersions is the module's only deep copy."""
    import copy as _copy
    import types

    from moto.s3 import models as s3_models

    listed = {}

    def view(key):
        cls = type(key)
        sub = listed.get(cls)
        if sub is None:
            sub = type(f"Listed{cls.__name__}", (cls,), {"__module__": cls.__module__, "__del__": lambda self: None, "dispose": lambda self, garbage=False: None})
            listed[cls] = sub
        v = object.__new__(sub)
        v.__dict__.update(key.__dict__)
        return v

    def deepcopy(x, memo=None):
        if isinstance(x, list):
            return [view(k) for k in x]
        return _copy.deepcopy(x, memo)

    s3_models.copy = types.SimpleNamespace(copy=_copy.copy, deepcopy=deepcopy)


def _paged_version_listing():
    """moto's ListObjectVersions sorts every version of the whole bucket on every page, then walks
    them from the first to find the page's start: at 220,000 versions one page took ~3 s, and a
    listing of the bucket ~10 minutes. This runs moto's own page loop (copied below unchanged) over
    only the versions it can return: keys under the prefix from the key marker on (moto skips every
    earlier key anyway), each key's versions sorted newest first as moto's sort leaves them, and
    copied only when reached. The page loop stops at MaxKeys, so a page costs one sort of the
    key names instead of a sort of every version. With a key marker outside the prefix (which no
    client sends), moto's own method runs. DRBOT_MOTO_FAST_VERSIONS=off restores moto's method."""
    if os.environ.get("DRBOT_MOTO_FAST_VERSIONS", "on") == "off":
        return
    from moto.core.utils import unix_time_millis
    from moto.s3 import models as s3_models

    original = s3_models.S3Backend.list_object_versions

    def list_object_versions(self, bucket_name, delimiter=None, key_marker=None, max_keys=1000, prefix="", version_id_marker=None):
        prefix = prefix or ""
        if key_marker is not None and not key_marker.startswith(prefix):
            return original(self, bucket_name, delimiter=delimiter, key_marker=key_marker, max_keys=max_keys, prefix=prefix, version_id_marker=version_id_marker)
        bucket = self.get_bucket(bucket_name)
        store = bucket.keys
        names = sorted(n for n in list(dict.keys(store)) if n.startswith(prefix) and (key_marker is None or n >= key_marker))

        def all_versions():
            for n in names:
                versions = store.getlist(n) or []
                # moto's sort key (name, -last modified) is stable: equal times keep the list's order
                for v in sorted(s3_models.copy.deepcopy(list(versions)), key=lambda r: -unix_time_millis(r.last_modified)):
                    yield v

        FakeKey = s3_models.FakeKey
        # From here on, moto's loop (moto/s3/models.py list_object_versions), unchanged.
        common_prefixes = set()
        requested_versions = []
        delete_markers = []
        next_key_marker = None
        next_version_id_marker = None
        last_name = None

        skip_versions = True
        last_item_added = None
        for version in all_versions():
            name = version.name
            version.is_latest = name != last_name
            if version.is_latest:
                last_name = name

            if skip_versions:
                if key_marker is None:
                    skip_versions = False
                elif not version_id_marker:
                    skip_versions = version.name < key_marker
                    continue
                elif version.name == key_marker and version.version_id == version_id_marker:
                    skip_versions = False
                    continue
                else:
                    continue

            if not name.startswith(prefix):
                continue
            is_common_prefix = False
            if delimiter and delimiter in name[len(prefix):]:
                end_of_delimiter = len(prefix) + name[len(prefix):].index(delimiter) + len(delimiter)
                prefix_including_delimiter = name[0:end_of_delimiter]
                if prefix_including_delimiter == key_marker:
                    continue
                common_prefixes.add(prefix_including_delimiter)
                name = prefix_including_delimiter
                is_common_prefix = True
            elif last_item_added:
                name = last_item_added.name

            if max_keys is not None and len(requested_versions) + len(delete_markers) + len(common_prefixes) >= max_keys:
                next_key_marker = name
                if is_common_prefix:
                    next_version_id_marker = None
                elif last_item_added is not None:
                    next_version_id_marker = last_item_added.version_id
                else:
                    next_version_id_marker = None
                break

            if not is_common_prefix:
                last_item_added = version
                if not isinstance(version, FakeKey):
                    delete_markers.append(version)
                else:
                    requested_versions.append(version)

        return (requested_versions, sorted(common_prefixes), delete_markers, next_key_marker, next_version_id_marker)

    s3_models.S3Backend.list_object_versions = list_object_versions


def _paged_object_listing():
    """moto's ListObjectsV2 gathers every current key of the bucket, sorts them twice and walks from
    the first to the page's start, for every page: ~220 ms a page at 100,000 objects, so a listing
    of the bucket grew with its square. This filters the bucket's names (a C-speed pass), sorts
    only those under the prefix and after the continuation token or StartAfter, and fetches keys
    only until MaxKeys entries, with moto's own rules: the newest version is the key, a delete
    marker hides it, a common prefix is made even from a key whose newest version is a delete
    marker, and the next token is moto's (the MD5 of the last entry, remembered). A token moto
    does not know, or a table bucket, go to moto's own method. DRBOT_MOTO_FAST_OBJECTS=off
    restores moto's method."""
    if os.environ.get("DRBOT_MOTO_FAST_OBJECTS", "on") == "off":
        return
    from moto.s3 import models as s3_models

    original = s3_models.S3Backend.list_objects_v2

    def list_objects_v2(self, bucket, prefix, delimiter, continuation_token, start_after, max_keys):
        if isinstance(bucket, s3_models.FakeTableStorageBucket) or (continuation_token and continuation_token not in self._pagination_tokens):
            return original(self, bucket, prefix, delimiter, continuation_token, start_after, max_keys)
        limit = self._pagination_tokens.get(continuation_token) if continuation_token else start_after
        prefix = prefix or ""
        store = bucket.keys
        # An entry's name (a key, or a common prefix that is a prefix of its keys) is never greater
        # than its keys' names, so no key of an entry after the limit is dropped here.
        names = sorted(n for n in list(dict.keys(store)) if n.startswith(prefix) and (not limit or n > limit))
        FakeDeleteMarker = s3_models.FakeDeleteMarker
        entries = []
        last_folder = None
        for n in names:
            if len(entries) > max_keys:
                break
            rest = n[len(prefix):]
            if delimiter and delimiter in rest:
                folder = prefix + rest.split(delimiter)[0] + delimiter
                if folder == last_folder or (limit and folder <= limit):
                    continue
                last_folder = folder
                entries.append(folder)
                continue
            key = store[n]
            if isinstance(key, FakeDeleteMarker):
                continue
            entries.append(key)
        return self._truncate_result(entries, max_keys)

    s3_models.S3Backend.list_objects_v2 = list_objects_v2


def _backend_dicts():
    from moto.core.base_backend import BackendDict

    seen = {}
    for bd in BackendDict._instances:
        seen[id(bd)] = bd
    return list(seen.values())


SNAPSHOTS = {}


def _copyable_key_stores():
    """moto keeps a bucket's versions in a dict subclass whose items() yields only each key's
    newest version and whose __setitem__ appends: the default deepcopy rebuilds it through both,
    keeping the newest version of each key and dropping every older one. Copy its lists whole."""
    import copy

    from moto.s3.utils import _VersionedKeyStore

    def deepcopy_store(self, memo):
        new = _VersionedKeyStore()
        memo[id(self)] = new
        for key, versions in dict.items(self):
            dict.__setitem__(new, key, copy.deepcopy(versions, memo))
        return new

    _VersionedKeyStore.__deepcopy__ = deepcopy_store


def _untracked_copy(obj):
    """A deep copy that moto's instance tracking does not see: moto records every model object it
    creates (BaseModel.__new__, copies included), and its reset disposes every tracked S3 key,
    which would close the snapshot's own copies of the objects' bodies."""
    import copy

    from moto.core.model_instances import model_data

    models = [m for ms in model_data.values() for m in ms.values()]
    lengths = [(m, len(m.instances_tracked)) for m in models]
    out = copy.deepcopy(obj)
    for m, n in lengths:
        del m.instances_tracked[n:]
    return out


def _extra(bd):
    """A BackendDict's state kept beside its accounts (S3's bucket-name registry)."""
    return {k: v for k, v in vars(bd).items() if k == "bucket_accounts"}


def snapshot(req):
    """Keeps a copy of every backend's state (and the caller's note about it) under a name."""
    from moto.core.base_backend import backend_lock

    _copyable_key_stores()
    # The same order as restore() and a DynamoDB request that makes a region's backend.
    with DYNAMODB_LOCK, backend_lock:
        state = [(bd, _untracked_copy((dict(bd), _extra(bd)))) for bd in _backend_dicts()]
    SNAPSHOTS[str(req["name"])] = (state, req.get("meta"))
    return {"count": len(state)}


def restore(req):
    """Puts every backend back as it was at the named snapshot: moto's own reset, then a copy of
    the snapshot's state (the snapshot stays as it was, to be restored again). Unknown name: 404."""
    import copy

    from moto.core.base_backend import BackendDict, backend_lock
    from moto.core.model_instances import reset_model_data

    name = str(req["name"])
    if name not in SNAPSHOTS:
        return None
    state, meta = SNAPSHOTS[name]
    with DYNAMODB_LOCK:
        BackendDict.reset()
        # As moto's own reset: forget the objects it tracked (the copies of the last restore), or
        # each restore would keep every earlier one alive. The snapshot's copies are not tracked.
        reset_model_data()
        with backend_lock:
            for bd, (data, extra) in state:
                accounts, attrs = copy.deepcopy((data, extra))
                bd.update(accounts)
                for k, v in attrs.items():
                    setattr(bd, k, v)
                BackendDict._instances.append(bd)
    return {"count": len(state), "meta": meta}


BULK = {BULK_PATH: put_objects, BULK_ITEMS_PATH: put_items, SNAPSHOT_PATH: snapshot, RESTORE_PATH: restore, FAST_XML_ANSWERS_PATH: lambda req: {"answers": dict(FAST_XML_ANSWERS)}}


# moto's server is threaded and its DynamoDB backend takes no lock, so two concurrent conditional
# writes of one item could both pass their condition. DynamoDB applies them one at a time, and
# drbot's approvals rest on that (one vote decides, one claim wins): its requests go one at a time.
DYNAMODB_LOCK = threading.Lock()


def with_bulk(app):
    def wsgi(environ, start_response):
        bulk = BULK.get(environ.get("PATH_INFO", ""))
        if bulk is None or environ.get("REQUEST_METHOD") != "POST":
            if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
                with DYNAMODB_LOCK:
                    # moto builds the whole response inside the call: the write is done when it returns.
                    return list(app(environ, start_response))
            return app(environ, start_response)
        try:
            out = bulk(json.loads(Request(environ).get_data()))
            if out is None:
                res = Response(json.dumps({"ok": False, "error": "no such snapshot"}), status=404, mimetype="application/json")
            else:
                res = Response(json.dumps({"ok": True, **(out if isinstance(out, dict) else {"count": out})}), mimetype="application/json")
        except Exception as e:  # the caller falls back to PutObject
            res = Response(json.dumps({"ok": False, "error": f"{type(e).__name__}: {e}"}), status=500, mimetype="application/json")
        return res(environ, start_response)

    return wsgi


def _keep_alive_handler():
    """werkzeug's development server answers every request with `Connection: close` (its comment:
    Python's http.server cannot drain a request's unread body before the next request line), so
    every AWS call paid a new TCP connection on both sides and a new server thread, and each
    request was logged to stderr. This handler reads each request's whole body before the app
    runs (Content-Length bytes, or the chunked body to its last chunk), so the next request always
    starts where this one ended whatever the app read, and keeps the connection open: the SDK's
    agent reuses it. werkzeug's drain after the response is then nothing to do and is skipped (it
    would wait 10 ms on an idle connection, or read the next request's first bytes away). A body
    that cannot be read (a bad Content-Length, a broken chunk) closes the connection after the
    answer, as before. DRBOT_MOTO_FAST_KEEPALIVE=off keeps werkzeug's own handler."""
    if os.environ.get("DRBOT_MOTO_FAST_KEEPALIVE", "on") == "off":
        return None
    import io
    import selectors
    import socket
    import types

    import werkzeug.serving as serving

    class _NoDrain:
        def register(self, *args):
            pass

        def select(self, timeout=None):
            return []

        def close(self):
            pass

    serving.selectors = types.SimpleNamespace(DefaultSelector=_NoDrain, EVENT_READ=selectors.EVENT_READ)

    class KeepAliveHandler(serving.WSGIRequestHandler):
        def setup(self):
            super().setup()
            # The head and the body go out in separate writes: on an open connection Nagle's
            # algorithm would hold the body until the client's delayed ACK of the head (~40 ms).
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def make_environ(self):
            environ = super().make_environ()
            try:
                if environ.get("wsgi.input_terminated"):
                    body = environ["wsgi.input"].read()
                else:
                    length = int(environ.get("CONTENT_LENGTH") or 0)
                    if length < 0:
                        raise ValueError("negative Content-Length")
                    body = self.rfile.read(length) if length else b""
                    if len(body) != length:
                        raise ValueError("body shorter than its Content-Length")
            except Exception:
                # The stream's position is unknown: answer this request, then close.
                self.close_connection = True
                return environ
            environ["wsgi.input"] = io.BytesIO(body)
            environ["drbot.handler"] = self
            return environ

        def send_header(self, keyword, value):
            # werkzeug's answers always say close; http.server's own errors (414, 431) set
            # close_connection first, and an HTTP/1.0 client is answered as before.
            if keyword.lower() == "connection" and value.lower() == "close" and not self.close_connection and self.request_version >= "HTTP/1.1":
                return
            super().send_header(keyword, value)

        def send_error(self, code, message=None, explain=None):
            # A request line or header too long: where the next request starts is unknown.
            self.close_connection = True
            super().send_error(code, message, explain)

        def log_request(self, code="-", size="-"):
            pass

    return KeepAliveHandler


def _close_on_error(app):
    """werkzeug closes a connection after an answer that failed part way only when it was chunked;
    one sent with a Content-Length would stay open short of its length, and the client would wait
    for the rest. Any error while the answer is made closes the connection (the keep-alive
    handler puts itself in the environ)."""

    def wsgi(environ, start_response):
        inner = None
        try:
            inner = app(environ, start_response)
            yield from inner
        except Exception:
            handler = environ.get("drbot.handler")
            if handler is not None:
                handler.close_connection = True
            raise
        finally:
            if inner is not None and hasattr(inner, "close"):
                inner.close()

    return wsgi


def _preload(app):
    """Asks moto for the sandbox regions' images once, in this thread, before the server listens:
    moto loads its EC2 models, the EC2 service model and each region's backend (default VPC, stock
    AMIs) while the caller is still loading its own modules, and no request of the caller can race
    that first set-up (a warm-up thread beside the seed's own first EC2 calls could)."""
    from werkzeug.test import Client

    client = Client(app)
    for region in os.environ.get("DRBOT_PRELOAD_REGIONS", "us-east-1,us-west-2").split(","):
        try:
            client.post(
                "/",
                data="Action=DescribeImages&Version=2016-11-15&Owner.1=self",
                headers={
                    "Host": f"ec2.{region.strip()}.amazonaws.com",
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20260101/{region.strip()}/ec2/aws4_request, SignedHeaders=host, Signature=0",
                },
            )
        except Exception:  # the seed's own first call will say what is wrong
            pass


def _stock_amis_only():
    """Points MOTO_AMIS_PATH at moto's own stock image list (see the module's docstring)."""
    if "MOTO_AMIS_PATH" in os.environ:
        return None
    import tempfile

    from moto.utilities.utils import load_resource

    fd, path = tempfile.mkstemp(prefix="drbot-moto-amis-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(load_resource("moto.ec2.models.amis", "../resources/amis.json"), f)
    os.environ["MOTO_AMIS_PATH"] = path
    return path


def _die_with_parent():
    """This server belongs to the drbot that started it: when that process is gone (even killed
    with SIGKILL, which runs none of its exit handlers), stop too rather than live on orphaned."""
    parent = os.getppid()
    try:  # Linux: the kernel signals us when the parent exits
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass

    def watch():
        import time

        while True:
            if os.getppid() != parent:
                os._exit(0)
            time.sleep(0.5)

    threading.Thread(target=watch, daemon=True).start()


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    _die_with_parent()
    _fast_dynamodb_results()
    _fast_s3_xml()
    _fast_table_scan()
    _per_request_lookups_once()
    _timestamps_parsed_once()
    _member_keys_once()
    _cheap_version_listing()
    _paged_version_listing()
    _paged_object_listing()
    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True
    # Bound now (the socket queues connections until serve_forever), so PORT 0 can be reported.
    handler = _keep_alive_handler()
    server = make_server(host, port, _close_on_error(with_bulk(app)) if handler else with_bulk(app), threaded=True, request_handler=handler)
    port = server.server_address[1]
    # As `python3 -m moto.server` does: moto reads its own port from here.
    os.environ.setdefault("MOTO_PORT", str(port))
    if sys.argv[2] == "0":
        sys.stdout.write(f"PORT {port}\n")
        sys.stdout.flush()
    amis = _stock_amis_only()
    _preload(app)
    if amis:
        # moto reads it when its EC2 models are imported: by the preload, or (if that failed
        # early) by the first EC2 request, so it goes only once read, or when this process ends.
        if "moto.ec2.models.amis" in sys.modules:
            os.unlink(amis)
        else:
            import atexit

            atexit.register(lambda: os.path.exists(amis) and os.unlink(amis))
    server.serve_forever()


if __name__ == "__main__":
    main()
