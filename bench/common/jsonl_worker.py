"""The Python side of PythonWorker (bench/common/python.ts): one JSON request per line on stdin, one JSON
reply per line on stdout. An exception becomes {"error": "Type: message"}, which the TypeScript side
reports as one line. The reference scripts import it after putting this folder on sys.path:

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
    from jsonl_worker import dispatch, serve
"""
import json
import sys


def serve(handle):
    """Answers every request line with handle(request) until stdin closes."""
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            reply = handle(json.loads(line))
        except Exception as e:  # reported to the TypeScript side as one line
            reply = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(reply), flush=True)


def dispatch(handlers):
    """A handle() that calls handlers[request["cmd"]]."""

    def handle(req):
        handler = handlers.get(req["cmd"])
        if handler is None:
            return {"error": f"unknown cmd {req['cmd']}"}
        return handler(req)

    return handle
