"""The harness's own client of the API server: blocking HTTPS requests with the admin client
certificate of a kubeconfig written by testenv/controlplane.py, retried across API server
restarts (connection refused, reset, 5xx while it starts), and a watch thread that records
every value each tracked object showed, to count lost and duplicated updates.

The harness always talks to the real API server, never through the fault-injecting proxy:
only the host under test sees the faults."""
import http.client
import json
import ssl
import threading
import time
import urllib.parse

TESTRESOURCES = "/apis/bench.wasm-operator.dev/v1"


class ApiError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class Api:
    def __init__(self, kubeconfig, retry_s=60):
        with open(kubeconfig) as f:
            config = json.load(f)  # controlplane.py writes JSON kubeconfigs
        cluster = config["clusters"][0]["cluster"]
        user = config["users"][0]["user"]
        url = urllib.parse.urlsplit(cluster["server"])
        self.host, self.port = url.hostname, url.port
        self.context = ssl.create_default_context(cafile=cluster["certificate-authority"])
        self.context.load_cert_chain(user["client-certificate"], user["client-key"])
        self.retry_s = retry_s
        self.local = threading.local()  # one keep-alive connection per thread

    def connect(self, timeout=30):
        return http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=timeout)

    def _once(self, method, path, data, content_type):
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = self.connect()
        try:
            conn.request(method, path, body=data, headers={"Content-Type": content_type})
            response = conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self.local.conn = None
            conn.close()
            raise

    def request(self, method, path, body=None, content_type="application/json", ok=(200, 201)):
        """The decoded answer; retries connection errors, 429 and 5xx for retry_s (the API
        server may be restarting). Other statuses raise ApiError."""
        data = json.dumps(body) if body is not None else None
        deadline = time.monotonic() + self.retry_s
        while True:
            try:
                status, payload = self._once(method, path, data, content_type)
            except (OSError, http.client.HTTPException) as e:
                if time.monotonic() > deadline:
                    raise ApiError(0, f"{method} {path}: {e}")
                time.sleep(0.2)
                continue
            if status in ok:
                return json.loads(payload) if payload else None
            if (status == 429 or status >= 500) and time.monotonic() < deadline:
                time.sleep(0.2)
                continue
            raise ApiError(status, f"{method} {path}: HTTP {status}: {payload[:300]!r}")

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, body):
        return self.request("POST", path, body)

    def merge_patch(self, path, body):
        return self.request("PATCH", path, body, content_type="application/merge-patch+json")

    def ensure(self, collection, body):
        """Creates the object; an existing one (409) is fine."""
        try:
            return self.request("POST", collection, body)
        except ApiError as e:
            if e.status != 409:
                raise
            return None

    def create_namespace(self, name):
        self.ensure("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})


class ValueWatcher:
    """Watches one collection (all namespaces, optional label selector) and records, per
    (namespace, name), the sequence of distinct values value_of(object) took, with the
    monotonic time of each. Reconnects from the last resourceVersion; on 410 Gone relists.
    A value that comes back after a different one is a duplicate: an older update applied
    again over a newer one (the ring never lowers a nonce; the replicator copies the source)."""

    def __init__(self, api, path, value_of, selector=""):
        self.api, self.path, self.value_of, self.selector = api, path, value_of, selector
        self.history = {}  # (ns, name) -> [(value, time)]
        self.cond = threading.Condition()
        self.stopped = False
        self.rv = ""
        self.reconnects = 0
        self.relists = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._relist()
        self.thread.start()

    def stop(self):
        self.stopped = True

    def _query(self, extra):
        q = dict(extra)
        if self.selector:
            q["labelSelector"] = self.selector
        return self.path + "?" + urllib.parse.urlencode(q)

    def _relist(self):
        listing = self.api.get(self._query({}))
        now = time.monotonic()
        for obj in listing["items"]:
            self._record(obj, now)
        self.rv = listing["metadata"]["resourceVersion"]
        self.relists += 1

    def _record(self, obj, now):
        meta = obj["metadata"]
        value = self.value_of(obj)
        if value is None:
            return
        key = (meta.get("namespace", ""), meta["name"])
        with self.cond:
            seq = self.history.setdefault(key, [])
            if not seq or seq[-1][0] != value:
                seq.append((value, now))
                self.cond.notify_all()

    def _run(self):
        while not self.stopped:
            try:
                self._watch_once()
            except Exception:  # noqa: BLE001 - API server restarting: reconnect
                time.sleep(0.3)
            self.reconnects += 1

    def _watch_once(self):
        conn = self.api.connect(timeout=60)
        try:
            conn.request("GET", self._query({"watch": "1", "timeoutSeconds": "50",
                                             "allowWatchBookmarks": "true", "resourceVersion": self.rv}))
            response = conn.getresponse()
            if response.status == 410:
                self._relist()
                return
            if response.status != 200:
                time.sleep(0.3)
                return
            while not self.stopped:
                line = response.readline()
                if not line:
                    return
                now = time.monotonic()
                event = json.loads(line)
                obj = event["object"]
                if event["type"] == "ERROR":
                    if obj.get("code") == 410:
                        self._relist()
                    return
                self.rv = obj["metadata"].get("resourceVersion", self.rv)
                if event["type"] in ("ADDED", "MODIFIED"):
                    self._record(obj, now)
        finally:
            conn.close()

    def values(self, key):
        with self.cond:
            return list(self.history.get(key, []))

    def first_time(self, key, predicate):
        """The time key first showed a value satisfying predicate, or None."""
        with self.cond:
            for value, t in self.history.get(key, []):
                if predicate(value):
                    return t
        return None

    def wait(self, key, predicate, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                seq = self.history.get(key)
                if seq and predicate(seq[-1][0]):
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(min(left, 0.5))

    def duplicates(self, keys):
        """How many times a value came back after a different one, over keys."""
        total = 0
        with self.cond:
            for key in keys:
                seen, last = set(), None
                for value, _ in self.history.get(key, []):
                    if value in seen and value != last:
                        total += 1
                    seen.add(value)
                    last = value
        return total
