"""An explicit, bounded, thread-safe cache of loaded models shared by all users.

Loads are serialized: one model loads at a time (a load can take gigabytes and tens
of seconds; two at once could take twice that memory), while users of models already
loaded are never blocked: the cache-wide lock is held only to look up or insert entries. Per-model results that
depend only on the weights (filters, position similarity) live beside the model and
are evicted with it.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable

from ..models import ExplorerModel


class ModelCache:
    def __init__(self, loader: Callable[[str], ExplorerModel], max_models: int = 3) -> None:
        self._loader = loader
        self._max = max_models
        self._models: OrderedDict[str, ExplorerModel] = OrderedDict()
        self._views: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()
        self._view_locks: dict[tuple[str, str], threading.Lock] = {}  # one per (model, view); dropped with the model

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._models

    def get(self, key: str) -> ExplorerModel:
        """The model for ``key``, loading it (once, even if many ask at once) when needed."""
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
        with self._load_lock:
            with self._lock:
                if key in self._models:
                    return self._models[key]
            model = self._loader(key)  # may raise: nothing is cached then
            with self._lock:
                self._models[key] = model
                self._views[key] = {}
                while len(self._models) > self._max:
                    old, _ = self._models.popitem(last=False)
                    self._views.pop(old, None)
                    self._view_locks = {k: v for k, v in self._view_locks.items() if k[0] != old}
            return model

    def view(self, key: str, name: str, compute: Callable[[], Any]) -> Any:
        """A per-model result, computed once per model (also when many users ask at once, as when
        a class opens the page together) and kept while the model is cached."""
        with self._lock:
            views = self._views.setdefault(key, {})
            if name in views:
                return views[name]
            view_lock = self._view_locks.setdefault((key, name), threading.Lock())
        with view_lock:
            with self._lock:
                if name in self._views.get(key, {}):
                    return self._views[key][name]
            value = compute()
            with self._lock:
                if key in self._views:
                    self._views[key][name] = value
            return value
