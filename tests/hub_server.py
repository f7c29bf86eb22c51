"""A tiny Hugging Face hub on 127.0.0.1, for tests that download through ``HF_ENDPOINT``.

    with HubServer({"timm/some-model": {"model.safetensors": data}}) as hub:
        os.environ["HF_ENDPOINT"] = hub.url
        huggingface_hub.hf_hub_download("timm/some-model", "model.safetensors")
        hub.requests  # [Request("HEAD", "/timm/some-model/resolve/main/model.safetensors"), ...]

It answers the way huggingface.co does, as far as ``hf_hub_download`` looks:

``HEAD|GET /{repo_id}/resolve/{revision}/{filename}``
    ``revision`` is ``main`` or the repository's commit (40 hex digits, derived
    from its files). Every answer carries ``X-Repo-Commit``.

    * regular (git) files: ``200`` with ``ETag: "<git blob sha1>"``,
      ``Content-Length``, ``Accept-Ranges: bytes``; GET sends the bytes.
    * LFS files (``.safetensors``, ``.bin``, ... see ``LFS_SUFFIXES``): ``302`` to
      ``{cdn_url}/<sha256>`` (an absolute ``Location`` on another origin, like the
      hub's redirect to its CDN: huggingface_hub follows same-origin redirects and
      would miss the metadata) with ``X-Linked-Etag: "<sha256>"``,
      ``X-Linked-Size`` and the LFS pointer's ``ETag``.
    * unknown repository: ``404`` + ``X-Error-Code: RepoNotFound``; unknown
      revision: ``404`` + ``RevisionNotFound``; unknown file: ``404`` +
      ``EntryNotFound`` (with ``X-Repo-Commit``, which lets the client cache the
      absence).

``HEAD|GET {cdn_url}/<sha256>`` (a second listening socket, the "CDN")
    the LFS object: ``ETag``, ``Content-Length``, ``Content-Disposition`` with the
    file name (what ``huggingface_hub`` shows in its progress bar), ``Range:
    bytes=a-b`` answered with ``206`` + ``Content-Range``.

``GET /api/models/{repo_id}[/revision/{revision}]``
    ``{"id", "sha", "siblings": [{"rfilename"}, ...]}``, enough for ``model_info``.

``stop()`` (also ``__exit__``) shuts both servers down, closes their listening
sockets and every open keep-alive connection, so a client cannot keep talking to a stopped
hub through its connection pool.
"""
from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple
from urllib.parse import quote, unquote, urlsplit

LFS_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".npz", ".h5", ".onnx", ".msgpack")
_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


class Request(NamedTuple):
    method: str
    path: str  # unquoted path, without the query string
    range: str | None = None  # the Range header, when one was sent
    server: str = "hub"  # "hub" (HF_ENDPOINT) or "cdn" (where LFS files are redirected to)


def git_blob_sha1(data: bytes) -> str:
    """The id git gives ``data`` as a blob (what the hub sends as ETag of regular files)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class HubServer:
    """Serves ``repos`` ({repo_id: {filename: bytes}}) on ``http://127.0.0.1:<free port>``."""

    def __init__(self, repos: dict[str, dict[str, bytes]] | None = None, lfs_suffixes=LFS_SUFFIXES):
        self.repos: dict[str, dict[str, bytes]] = {repo: dict(files) for repo, files in (repos or {}).items()}
        self.lfs_suffixes = tuple(lfs_suffixes)
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._digests: dict[int, tuple[bytes, str]] = {}  # id(data) -> (data, sha256): hash each file once
        self._servers: list[tuple[ThreadingHTTPServer, threading.Thread]] = []
        self.url = ""  # the hub: what HF_ENDPOINT points at
        self.cdn_url = ""  # where LFS files are redirected to: another origin, like the hub's CDN

    # -- repository contents -------------------------------------------------------------
    def add_file(self, repo_id: str, filename: str, data: bytes) -> None:
        with self._lock:
            self.repos.setdefault(repo_id, {})[filename] = bytes(data)

    def sha256(self, data: bytes) -> str:
        known = self._digests.get(id(data))
        if known is None or known[0] is not data:
            known = self._digests[id(data)] = (data, hashlib.sha256(data).hexdigest())
        return known[1]

    def commit(self, repo_id: str) -> str:
        """The repository's commit sha (40 hex digits): a digest of its file names and contents."""
        digest = hashlib.sha1(repo_id.encode())
        for name, data in sorted(self.repos[repo_id].items()):
            digest.update(f"{name}\0{self.sha256(data)}\n".encode())
        return digest.hexdigest()

    def is_lfs(self, filename: str) -> bool:
        return filename.endswith(self.lfs_suffixes)

    def _lfs_object(self, sha256: str) -> tuple[str, bytes] | None:
        for files in self.repos.values():
            for name, data in files.items():
                if self.is_lfs(name) and self.sha256(data) == sha256:
                    return name.rsplit("/", 1)[-1], data
        return None

    # -- request log -----------------------------------------------------------------------
    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def paths(self, method: str | None = None) -> list[str]:
        """The paths requested so far (with ``method`` only, when given)."""
        with self._lock:
            return [r.path for r in self.requests if method is None or r.method == method]

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- lifecycle -------------------------------------------------------------------------
    def _serve(self, role: str) -> tuple[ThreadingHTTPServer, threading.Thread]:
        hub = self

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def process_request(self, request, client_address):
                with hub._lock:
                    hub._connections.add(request)
                super().process_request(request, client_address)

            def shutdown_request(self, request):
                with hub._lock:
                    hub._connections.discard(request)
                super().shutdown_request(request)

        class Handler(_HubHandler):
            server_hub = hub
            server_role = role

        httpd = Server(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                  name=f"HubServer-{role}:{httpd.server_address[1]}", daemon=True)
        thread.start()
        return httpd, thread

    def start(self) -> "HubServer":
        if self._servers:
            return self
        try:
            for role in ("hub", "cdn"):
                self._servers.append(self._serve(role))
        except BaseException:
            self.stop()
            raise
        (hub, _), (cdn, _) = self._servers
        self.url = "http://127.0.0.1:%d" % hub.server_address[1]
        self.cdn_url = "http://127.0.0.1:%d" % cdn.server_address[1]
        return self

    def stop(self) -> None:
        """Stop serving: connecting is refused from now on, and the open connections are closed."""
        servers, self._servers = self._servers, []
        for httpd, _ in servers:
            httpd.shutdown()  # serve_forever returns
            httpd.server_close()  # the listening socket is closed
        with self._lock:
            open_connections, self._connections = list(self._connections), set()
        for conn in open_connections:  # keep-alive connections idling in handler threads
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
        for _, thread in servers:
            thread.join(timeout=5)

    @property
    def running(self) -> bool:
        return bool(self._servers)

    def __enter__(self) -> "HubServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class _HubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the hub
    server_hub: HubServer
    server_role: str  # "hub" or "cdn"

    def log_message(self, format, *args):  # quiet
        pass

    def do_HEAD(self):
        self._answer(send_body=False)

    def do_GET(self):
        self._answer(send_body=True)

    # -- dispatch --------------------------------------------------------------------------
    def _answer(self, send_body: bool) -> None:
        hub = self.server_hub
        raw = urlsplit(self.path).path
        hub._record(Request(self.command, unquote(raw), self.headers.get("Range"), self.server_role))
        with hub._lock:  # decide from a consistent view of the repositories, send outside the lock
            if self.server_role == "cdn":
                status, headers, body = self._cdn(raw.strip("/"))
            elif raw.startswith("/api/models/"):
                status, headers, body = self._api_model(unquote(raw[len("/api/models/"):]))
            elif "/resolve/" in raw:
                repo_part, _, rest = raw.partition("/resolve/")
                revision, _, filename = rest.partition("/")
                status, headers, body = self._resolve(unquote(repo_part.lstrip("/")), unquote(revision),
                                                      unquote(filename))
            else:
                status, headers, body = _error(404, None, "Not Found")
        self._send(status, headers, body, send_body)

    def _resolve(self, repo_id: str, revision: str, filename: str):
        hub = self.server_hub
        if repo_id.startswith("models/"):
            repo_id = repo_id[len("models/"):]
        if repo_id not in hub.repos:
            return _error(404, "RepoNotFound", "Repository not found")
        commit = hub.commit(repo_id)
        if revision not in ("main", commit):
            return _error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        files = hub.repos[repo_id]
        if filename not in files:
            return _error(404, "EntryNotFound", "Entry not found", {"X-Repo-Commit": commit})
        data = files[filename]
        if hub.is_lfs(filename):
            sha256 = hub.sha256(data)
            pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {len(data)}\n"
            return 302, {
                "Content-Type": "text/plain; charset=utf-8",
                "X-Repo-Commit": commit,
                "ETag": f'"{git_blob_sha1(pointer.encode())}"',
                "X-Linked-Etag": f'"{sha256}"',
                "X-Linked-Size": str(len(data)),
                "Location": f"{hub.cdn_url}/{sha256}?filename={quote(filename.rsplit('/', 1)[-1])}",
            }, b"Found. Redirecting to the LFS object"
        return self._file({"X-Repo-Commit": commit, "ETag": f'"{git_blob_sha1(data)}"'}, data)

    def _cdn(self, sha256: str):
        found = self.server_hub._lfs_object(sha256)
        if found is None:
            return _error(404, None, "NoSuchKey")
        name, data = found
        return self._file({
            "ETag": f'"{sha256}"',
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(name)}; filename=\"{name}\";",
        }, data)

    def _api_model(self, rest: str):
        hub = self.server_hub
        repo_id, _, revision = rest.partition("/revision/")
        if repo_id not in hub.repos:
            return _error(404, "RepoNotFound", "Repository not found")
        commit = hub.commit(repo_id)
        if revision and revision not in ("main", commit):
            return _error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        info = {"id": repo_id, "modelId": repo_id, "sha": commit, "private": False,
                "siblings": [{"rfilename": name} for name in sorted(hub.repos[repo_id])]}
        return 200, {"Content-Type": "application/json; charset=utf-8", "X-Repo-Commit": commit}, \
            json.dumps(info).encode()

    # -- responses -------------------------------------------------------------------------
    def _file(self, headers: dict, data: bytes):
        """200 with ``data``, or 206 with the part a ``Range: bytes=a-b`` header asks for."""
        headers = {"Content-Type": "application/octet-stream", "Accept-Ranges": "bytes", **headers}
        wanted = self.headers.get("Range")
        match = _RANGE.match(wanted.strip()) if wanted else None
        if not match or not (match.group(1) or match.group(2)):
            return 200, headers, data
        first, last = match.groups()
        if first:
            start, end = int(first), min(int(last) if last else len(data) - 1, len(data) - 1)
        else:  # bytes=-N: the last N bytes
            start, end = max(len(data) - int(last), 0), len(data) - 1
        if start >= len(data) or start > end:
            return 416, {**headers, "Content-Range": f"bytes */{len(data)}"}, b""
        return 206, {**headers, "Content-Range": f"bytes {start}-{end}/{len(data)}"}, data[start:end + 1]

    def _send(self, status: int, headers: dict, body: bytes, send_body: bool) -> None:
        try:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body and body:
                self.wfile.write(body)
        except OSError:  # the client went away, or stop() closed the connection
            self.close_connection = True


def _error(status: int, code: str | None, message: str, extra: dict | None = None):
    """An error the way the hub sends it: ``X-Error-Code`` (what huggingface_hub maps to an
    exception class) and ``X-Error-Message`` headers, and a JSON body."""
    headers = {"Content-Type": "application/json; charset=utf-8", **(extra or {}), "X-Error-Message": message}
    if code:
        headers["X-Error-Code"] = code
    return status, headers, json.dumps({"error": message}).encode()
