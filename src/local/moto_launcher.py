"""moto's server, as `python3 -m moto.server` runs it, plus two bulk calls for the sandbox seed.

POST /_drbot/s3/put-many  {"bucket": "...", "objects": [{"key": "...", "body": "..."}]}
writes the objects through moto's own S3 backend in this process, exactly as PutObject would
(versions, ETags), without one HTTP round trip per object: seeding 600 objects one request
at a time is what made `npm start` slow.

POST /_drbot/dynamodb/put-many  {"region": "...", "table": "...", "items": [{"pk": {"S": "..."}, ...}]}
writes DynamoDB items (AttributeValue JSON) through moto's DynamoDB backend, as PutItem would:
moto spends most of a BatchWriteItem in its request and response handling, and the sandbox
tables hold a few thousand items. Everything else is moto's app, untouched.

Usage: python3 moto_launcher.py HOST PORT
"""
import json
import os
import sys

from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple
from werkzeug.wrappers import Request, Response

BULK_PATH = "/_drbot/s3/put-many"
BULK_ITEMS_PATH = "/_drbot/dynamodb/put-many"


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


BULK = {BULK_PATH: put_objects, BULK_ITEMS_PATH: put_items}


def with_bulk(app):
    def wsgi(environ, start_response):
        bulk = BULK.get(environ.get("PATH_INFO", ""))
        if bulk is None or environ.get("REQUEST_METHOD") != "POST":
            return app(environ, start_response)
        try:
            count = bulk(json.loads(Request(environ).get_data()))
            res = Response(json.dumps({"ok": True, "count": count}), mimetype="application/json")
        except Exception as e:  # the caller falls back to PutObject
            res = Response(json.dumps({"ok": False, "error": f"{type(e).__name__}: {e}"}), status=500, mimetype="application/json")
        return res(environ, start_response)

    return wsgi


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    # As `python3 -m moto.server` does: moto reads its own port from here.
    os.environ.setdefault("MOTO_PORT", str(port))
    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True
    run_simple(host, port, with_bulk(app), threaded=True)


if __name__ == "__main__":
    main()
