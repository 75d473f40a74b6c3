"""Jobs as bytes: a function and its arguments, with per-process objects left out by name."""

from __future__ import annotations

import io
import logging
import pickle
from typing import Any, Callable, Mapping

log = logging.getLogger("coachbot.afterack")

Job = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, shared: Mapping[type, str]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._shared = shared

    def persistent_id(self, obj: Any) -> str | None:
        for kind, name in self._shared.items():
            if isinstance(obj, kind):
                return name
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, shared: Mapping[str, Any]) -> None:
        super().__init__(file)
        self._shared = shared

    def persistent_load(self, pid: Any) -> Any:
        if pid not in self._shared:
            raise pickle.UnpicklingError(f"this process has no shared object named {pid!r}")
        return self._shared[pid]


def dumps(job: Job, shared: Mapping[type, str]) -> bytes:
    """Pickle ``job``; any object of a type in ``shared`` goes as that type's name."""
    out = io.BytesIO()
    _Pickler(out, shared).dump(job)
    return out.getvalue()


def loads(data: bytes, shared: Mapping[str, Any]) -> Job:
    """Unpickle a job, putting in this process's object for each name."""
    return _Unpickler(io.BytesIO(data), shared).load()


def run_job(data: bytes, shared: Mapping[str, Any]) -> bool:
    """Unpickle a job with these shared objects and run it; False (logged) if it failed."""
    try:
        fn, args, kwargs = loads(data, shared)
    except Exception:
        log.exception("an after-ack job could not be unpickled")
        return False
    try:
        fn(*args, **kwargs)
    except Exception:  # the handlers reply on their own errors; this is the last word
        log.exception("after-ack job %s failed", name_of(fn))
        return False
    return True


def name_of(fn: Any) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"
