"""The child process of the local runner: imports an agent and serves calls.

Run as ``__main__`` (by a ``python -c`` bootstrap that keeps the agent's files off
``sys.path`` until the limits are set) with ``MODULE...`` as arguments and the agent's
working directory (its files plus ``ViksaAI.py``) as the current directory. It
imports each MODULE, answers a ``ready`` frame, then serves ``call`` frames one at a
time until its channel closes. The channel is the process's original stdin and
stdout; the agent gets ``/dev/null`` as stdin and stderr as stdout, so nothing the
agent prints (or its subprocesses write) can corrupt a frame.

Only the standard library, the runtime and this package's stdlib-only modules are
imported here: the agent should see the interpreter the way a platform worker leaves it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import importlib
import inspect
import io
import json
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from types import ModuleType, TracebackType
from typing import IO, Any

from viksa_ai.devtools.runner import _child_trace
from viksa_ai.devtools.runner._child_trace import restore_trace
from viksa_ai.devtools.runner._envkeys import is_auth_env_key
from viksa_ai.devtools.runner._protocol import (
    CGROUP_OPTION,
    DISK_OPTION,
    FILES_OPTION,
    KIND_AUTH,
    KIND_DISK_LIMIT,
    KIND_ENDPOINT,
    KIND_IMPORT,
    KIND_MEMORY_LIMIT,
    KIND_NOT_FOUND,
    KIND_OUTPUT_LIMIT,
    KIND_RESULT_LIMIT,
    MAX_ERROR_CHARS,
    MEMORY_OPTION,
    encode_frame,
    read_frame,
)
from viksa_ai.devtools.runner._reap import become_subreaper, kill_tree

_ASYNCIO_DIR = os.path.dirname(asyncio.__file__)
# Frames of these files lead every call's traceback: the agent's own come after them.
_OWN_FILES = frozenset({__file__, _child_trace.__file__})

__all__ = ["main"]

# glibc's stack for a thread when RLIMIT_STACK sets none (most architectures).
_DEFAULT_THREAD_STACK = 2 * 1024 * 1024
# A write past the file size limit (EFBIG), into a full private /tmp (ENOSPC) or quota.
_DISK_FULL = frozenset({errno.EFBIG, errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})
# How often the child checks that the runner which started it is still there.
_PARENT_POLL_SECONDS = 0.5
# The most digits of an int a reply may hold: the limit this process starts with (4300
# unless set otherwise), read before any agent code runs. Agent code may lift its own
# (sys.set_int_max_str_digits(0)); the runner parses the reply under its limit.
_INT_DIGITS: int | None = getattr(sys, "get_int_max_str_digits", lambda: None)()
# The recursion limit this process starts with, read before any agent code runs.
_RECURSION_LIMIT = sys.getrecursionlimit()
# Bound before agent code runs, which may rebind json.dumps or time.perf_counter (a
# library freezing time does) to something that breaks the reply: the size of a result
# for its limit, and the duration of a call.
_SIZE_ENCODE = json.JSONEncoder(ensure_ascii=False).encode
_perf_counter = time.perf_counter


def main(argv: list[str]) -> int:
    """Serve the agent whose modules are named in ``argv``; the process exit code.

    Leading options, applied before the agent is imported: ``--cgroup=PATH`` joins the
    cgroup whose ``cgroup.procs`` is PATH, ``--memory=BYTES`` caps the address space,
    ``--disk=BYTES`` the size of a file the process may write.
    """
    while argv and argv[0].startswith(CGROUP_OPTION):
        _join_cgroup(argv.pop(0)[len(CGROUP_OPTION) :])
    channel_in, channel_out = _take_channel()
    become_subreaper()
    _die_with_parent()
    # bwrap's --chdir sets PWD: the agent gets exactly the environment documented.
    os.environ.pop("PWD", None)
    while argv and argv[0].startswith((MEMORY_OPTION, DISK_OPTION, FILES_OPTION)):
        option = argv.pop(0)
        if option.startswith(MEMORY_OPTION):
            _limit_memory(int(option[len(MEMORY_OPTION) :]))
        elif option.startswith(DISK_OPTION):
            _limit_file_size(int(option[len(DISK_OPTION) :]))
        else:
            _limit_open_files(int(option[len(FILES_OPTION) :]))
    _no_core_files()
    # Import the runtime before the agent, and before the agent's directory is on
    # sys.path: the envelope is set through it, and a viksa_ai/ among the agent's files
    # would join a namespace package viksa_ai (no meta-package installed) ahead of ours.
    from viksa_ai.runtime import _set_envelope

    if os.getcwd() not in sys.path:
        # The bootstrap kept the working directory off sys.path until now (the limits
        # are set); the agent imports its own modules from it.
        sys.path.insert(0, os.getcwd())
    # The loop exists before the agent is imported: module-level code that asks for the
    # event loop gets the one its endpoints will run on.
    server = _Server(_set_envelope)
    ready: dict[str, Any] = {"op": "ready", "ok": True, "pid": os.getpid()}
    for name in argv:
        try:
            importlib.import_module(name)
        except BaseException as exc:
            ready = {"op": "ready", "ok": False, "error": _error(exc, KIND_IMPORT)}
            break
    _send(channel_out, ready)
    try:
        if not ready["ok"]:
            return 1
        while True:
            message = read_frame(channel_in)
            if message is None:
                return 0
            _send(channel_out, server.call(message))
    finally:
        server.close()
        # Nothing the agent started outlives its child, even what left the group.
        kill_tree(os.getpid(), include_root=False)


def _take_channel() -> tuple[IO[bytes], IO[bytes]]:
    """Keep stdin/stdout for frames; give the agent /dev/null and stderr instead."""
    channel_in = open(os.dup(0), "rb")  # noqa: SIM115 - lives as long as the process
    channel_out = open(os.dup(1), "wb")  # noqa: SIM115
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    return channel_in, channel_out


def _die_with_parent() -> None:
    """End this process (and its group) when the runner that started it is gone.

    The child leads its own session, so a terminal's Ctrl-C never reaches it. An idle
    child sees its channel close when the runner dies, but a busy one would run on as
    an orphan with whatever the agent spawned: a daemon thread watches for the parent
    to change (the child was re-parented) and kills the group.
    """
    if os.name != "posix":
        return
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_PARENT_POLL_SECONDS)
        # Descendants that left the group (setsid) were re-parented to us: end them too.
        kill_tree(os.getpid(), include_root=False)
        if os.getpgrp() == os.getpid():
            with contextlib.suppress(OSError):
                os.killpg(os.getpid(), signal.SIGKILL)
        os._exit(1)

    threading.Thread(target=watch, name="viksa-parent-watch", daemon=True).start()


def _limit_memory(limit: int) -> None:
    """Cap the address space: an allocation past it raises ``MemoryError``."""
    try:
        import resource
    except ImportError:  # not POSIX: no such limit
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    # The hard limit too: agent code runs in this process and could lift a soft one.
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _join_cgroup(procs: str) -> None:
    """Move this process into a cgroup (its ``cgroup.procs`` file): all it starts is
    born there. The runner checks that it worked and counts ``/proc`` otherwise."""
    with contextlib.suppress(OSError), open(procs, "w", encoding="ascii") as stream:
        stream.write("0")


def _limit_file_size(limit: int) -> None:
    """Cap the size of a file this process (and what it starts) may write."""
    # Python ignores SIGXFSZ: a write past the limit fails with EFBIG instead of killing.
    _cap("RLIMIT_FSIZE", limit)


def _limit_open_files(limit: int) -> None:
    """Cap the descriptors this process (and what it starts) may hold open."""
    _cap("RLIMIT_NOFILE", limit)


def _cap(name: str, limit: int) -> None:
    """Set resource ``name``'s soft and hard limits to ``limit`` (the hard one if lower):
    the hard one too, as agent code could raise a soft one."""
    try:
        import resource
    except ImportError:
        return
    which = getattr(resource, name)
    _, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(which, (limit, limit))


def _no_core_files() -> None:
    # A process ended by its CPU limit would dump a core of its whole memory otherwise.
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


@contextlib.contextmanager
def _cpu_limit(seconds: float | None) -> Iterator[None]:
    """Limit the CPU time of this call: past it the kernel ends the process (SIGXCPU).

    RLIMIT_CPU counts the process's whole life, so the soft limit is set to the time
    used so far plus ``seconds`` for the call; after it, to the time used then plus
    ``seconds`` again: what the agent left running (a thread spinning) gets no more
    between two calls than one call gets, and an idle worker does not burn a core for
    good (the kernel ends it; the next call starts a new one).
    """
    try:
        import resource
    except ImportError:
        yield
        return
    if seconds is None:
        yield
        return
    _set_cpu_budget(resource, seconds)
    try:
        yield
    finally:
        _set_cpu_budget(resource, seconds)


def _set_cpu_budget(resource: ModuleType, seconds: float) -> None:
    """Let this process use ``seconds`` more CPU time from now (soft RLIMIT_CPU)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    target = int(usage.ru_utime + usage.ru_stime + seconds) + 1
    if hard != resource.RLIM_INFINITY:
        target = min(target, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (target, hard))


class _OutputLimitError(Exception):
    """Raised into agent code that writes more than the call's output limit."""


class _BoundedOutput(io.StringIO):
    """What a call prints, up to ``limit`` bytes (UTF-8); past that every write raises."""

    def __init__(self, limit: int | None) -> None:
        super().__init__()
        self.limit = limit
        self.size = 0
        self.exceeded = False

    def write(self, text: str) -> int:
        if self.limit is not None:
            size = len(text.encode("utf-8", "surrogatepass"))
            if self.exceeded or self.size + size > self.limit:
                self.exceeded = True
                raise _OutputLimitError(
                    f"the call wrote more than its output limit of {self.limit} bytes"
                )
            self.size += size
        return super().write(text)


def _send(channel: IO[bytes], reply: dict[str, Any]) -> None:
    try:
        frame = _encode_reply(reply)
    except BaseException as exc:  # a value's own methods may raise anything
        # Only an endpoint's value can fail to serialise: everything else is ours. A value
        # nested deeper than the recursion limit is refused here rather than killing us,
        # as is one whose methods (a dict subclass's items()) raise, even SystemExit.
        reply = {
            "op": "result",
            "id": reply.get("id"),
            "ok": False,
            "output": reply.get("output"),
            "duration_ms": reply.get("duration_ms"),
            "error": {
                "kind": KIND_ENDPOINT,
                "type": None,
                "message": "the endpoint returned a value that is not JSON-serialisable: "
                + _safe_str(exc),
                "traceback": None,
            },
        }
        frame = encode_frame(reply)
    channel.write(frame)
    channel.flush()


def _encode_reply(reply: dict[str, Any]) -> bytes:
    """``encode_frame(reply)``, with ints limited to :data:`_INT_DIGITS` digits whatever
    limit agent code set: an int the runner cannot parse is the endpoint's error, not a
    reply that kills the worker."""
    set_digits = getattr(sys, "set_int_max_str_digits", None)
    if set_digits is None or _INT_DIGITS is None:  # Python before 3.10.7: no limit
        return encode_frame(reply)
    current: int = sys.get_int_max_str_digits()
    set_digits(_INT_DIGITS)
    try:
        return encode_frame(reply)
    finally:
        set_digits(current)


class _Server:
    """Runs calls on one event loop that lives as long as the process."""

    def __init__(self, set_envelope: Callable[[Any], object]) -> None:
        self._set_envelope = set_envelope
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._base_env = {k: v for k, v in os.environ.items() if is_auth_env_key(k)}

    def call(self, message: dict[str, Any]) -> dict[str, Any]:
        reply: dict[str, Any] = {"op": "result", "id": message.get("id")}
        env = message.get("env")
        limits = message.get("limits") or {}
        output = _BoundedOutput(limits.get("output")) if message.get("capture") else None
        started = _perf_counter()
        try:
            with _recursion_room():
                function = _resolve(message["module"], message["function"])
                coroutine = self._invoke(
                    function, message["inputs"], message.get("envelope"), message.get("input_names")
                )
                coroutine = restore_trace(coroutine, message.get("trace"))
                with (
                    _auth_env(env, self._base_env),
                    _captured(output),
                    _cpu_limit(limits.get("cpu")),
                ):
                    value = self._complete(self._loop.create_task(coroutine))
        except _NotFoundError as exc:
            reply.update(ok=False, error=_plain_error(KIND_NOT_FOUND, str(exc)))
        except BaseException as exc:
            kind = KIND_IMPORT if isinstance(exc, _ImportFailedError) else KIND_ENDPOINT
            cause = exc.__cause__ if isinstance(exc, _ImportFailedError) and exc.__cause__ else exc
            reply.update(ok=False, error=_error(cause, kind))
        else:
            reply.update(ok=True, value=value)
            _check_result_size(reply, limits.get("result"))
        finally:
            _flush(sys.stdout)
            _flush(sys.stderr)
        reply["duration_ms"] = (_perf_counter() - started) * 1000.0
        reply["output"] = _encodable(output.getvalue()) if output is not None else None
        if output is not None and output.exceeded:
            # Whatever the agent did with the exception, the call is over its limit.
            text = f"the call wrote more than its output limit of {output.limit} bytes"
            reply.update(ok=False, value=None, error=_plain_error(KIND_OUTPUT_LIMIT, text))
        return reply

    def _complete(self, task: asyncio.Task[Any]) -> Any:
        """Run the loop until the call's ``task`` is done: its result, or its exception.

        asyncio lets SystemExit and KeyboardInterrupt out of the loop from whichever task
        raises them. One that is not the call's own (a task an earlier call left running,
        say) is not the call's error: its traceback goes to stderr (the call's output
        when captured), as asyncio reports a task's lost exception, and the call goes on.
        """
        while True:
            try:
                return self._loop.run_until_complete(task)
            except (SystemExit, KeyboardInterrupt) as exc:
                if task.done():
                    raise
                _report_stray(exc)

    async def _invoke(
        self,
        function: Callable[..., Any],
        inputs: dict[str, Any],
        envelope: dict[str, Any] | None,
        input_names: list[str] | None,
    ) -> Any:
        # This coroutine runs as its own task, in a copy of the loop thread's context:
        # the envelope set here is seen by this call only. None is set too: module code
        # may have set one in that context, which no call has.
        self._set_envelope(envelope)
        if _takes_keywords(function, inputs, input_names or []):
            result = function(**inputs)
        else:
            result = function(inputs)
        if inspect.isawaitable(result):
            result = await result
        return result

    def close(self) -> None:
        loop = self._loop
        with contextlib.suppress(Exception):
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


class _NotFoundError(Exception):
    pass


class _ImportFailedError(Exception):
    pass


def _resolve(module_name: str, function_name: str) -> Callable[..., Any]:
    module: ModuleType | None = sys.modules.get(module_name)
    if module is None:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                raise _NotFoundError(f"the agent has no module {module_name!r}") from None
            raise _ImportFailedError(module_name) from exc
        except BaseException as exc:
            raise _ImportFailedError(module_name) from exc
    function = getattr(module, function_name, None)
    if not callable(function):
        raise _NotFoundError(
            f"module {module_name!r} has no function {function_name!r}: define it with "
            f"@mcp_endpoint(description=...) or fix the endpoint's name in agent.json"
        )
    return function  # type: ignore[no-any-return]


def _takes_keywords(
    function: Callable[..., Any], inputs: dict[str, Any], input_names: list[str]
) -> bool:
    """Whether ``function`` takes its inputs as named parameters rather than ``payload``."""
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    if "payload" in parameters:
        return False
    names = set(inputs) | set(input_names)
    return any(
        p.kind is inspect.Parameter.VAR_KEYWORD
        or (p.name in names and p.kind is not p.VAR_POSITIONAL)
        for p in parameters.values()
    )


@contextlib.contextmanager
def _auth_env(env: dict[str, str] | None, base: dict[str, str]) -> Iterator[None]:
    """Give the call exactly the auth variables ``env`` (``None``: those the process began with).

    Whatever a previous call left in the auth variables is undone, so every call
    starts from its own configuration.
    """
    _replace_auth_env(base if env is None else env)
    try:
        yield
    finally:
        _replace_auth_env(base)


def _replace_auth_env(target: dict[str, str]) -> None:
    for name in [n for n in os.environ if is_auth_env_key(n)]:
        if name not in target:
            del os.environ[name]
    os.environ.update(target)


@contextlib.contextmanager
def _recursion_room() -> Iterator[None]:
    """Undo, before and after the call, a recursion limit agent code set below the one the
    child started with: the child's own code (asyncio, the reply) needs those frames, and
    would fail every later call. A limit the agent raised is left as it set it."""
    _restore_recursion_limit()
    try:
        yield
    finally:
        _restore_recursion_limit()


def _restore_recursion_limit() -> None:
    if sys.getrecursionlimit() < _RECURSION_LIMIT:
        sys.setrecursionlimit(_RECURSION_LIMIT)


@contextlib.contextmanager
def _captured(buffer: io.StringIO | None) -> Iterator[None]:
    if buffer is None:
        yield
        return
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = buffer
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def _flush(stream: object) -> None:
    """Flush ``stream``, which agent code may have replaced (with None, or an object whose
    flush raises anything): the call's reply must still be sent."""
    with contextlib.suppress(BaseException):
        stream.flush()  # type: ignore[attr-defined]


def _report_stray(exc: BaseException) -> None:
    """Write what a task other than the call's raised to stderr, whatever stderr now is."""
    with contextlib.suppress(BaseException):  # agent code may have replaced stderr
        text = "".join(traceback.format_exception(type(exc), exc, _agent_frames(exc.__traceback__)))
        sys.stderr.write(
            f"a task other than the call's own raised {type(exc).__name__}; the call goes "
            f"on:\n{text}"
        )


def _is_auth_error(exc: BaseException) -> bool:
    # The agent may have raised the class of ViksaAI.py or of viksa_ai.runtime: two
    # distinct classes of the same name, so the name is what identifies it.
    return any(cls.__name__ == "ViksaAuthError" for cls in type(exc).__mro__)


def _check_result_size(reply: dict[str, Any], limit: int | None) -> None:
    """Replace a successful reply whose value is larger than ``limit`` bytes of JSON."""
    if limit is None:
        return
    try:
        size = len(_SIZE_ENCODE(reply["value"]).encode("utf-8", "surrogatepass"))
    except BaseException:  # agent code (a dict subclass's items()) may run
        return  # _send says what is wrong with it
    if size > limit:
        message = f"the endpoint returned {size} bytes of JSON, more than its limit of {limit}"
        reply.update(ok=False, value=None, error=_plain_error(KIND_RESULT_LIMIT, message))


def _error(exc: BaseException, kind: str) -> dict[str, Any]:
    """The error of a reply describing ``exc``, raised by agent code.

    Its text is agent code too (``__str__``, ``__module__``, attributes): whatever that
    raises (SystemExit included) or returns, the call still gets a reply.
    """
    try:
        return _described(exc, kind)
    except BaseException:  # agent code may raise anything here
        # Its type's name is the interpreter's own: that much can always be said.
        error = _plain_error(kind, _STR_FAILED)
        error["type"] = type(exc).__qualname__
        return error


# What Python itself prints for an exception whose str() fails.
_STR_FAILED = "<exception str() failed>"


def _safe_str(exc: BaseException) -> str:
    """``str(exc)`` cut to size, or :data:`_STR_FAILED` when agent code makes it fail."""
    try:
        return _cut(str(exc))
    except BaseException:  # its __str__ is agent code
        return _STR_FAILED


def _described(exc: BaseException, kind: str) -> dict[str, Any]:
    auth = _is_auth_error(exc)
    if (isinstance(exc, MemoryError) or _thread_without_room(exc)) and not auth:
        kind = KIND_MEMORY_LIMIT
    elif isinstance(exc, OSError) and exc.errno in _DISK_FULL and not auth:
        kind = KIND_DISK_LIMIT
    return {
        "kind": KIND_AUTH if auth else kind,
        "method_id": _text_or_none(getattr(exc, "method_id", None)) if auth else None,
        "param_name": _text_or_none(getattr(exc, "param_name", None)) if auth else None,
        "type": _qualified_name(type(exc)),
        "message": _cut(str(exc)),
        "traceback": _cut(
            "".join(traceback.format_exception(type(exc), exc, _agent_frames(exc.__traceback__)))
        ),
    }


def _text_or_none(value: object) -> str | None:
    return value if value is None or type(value) is str else None


def _thread_without_room(exc: BaseException) -> bool:
    """Whether ``exc`` is CPython's failure to start a thread because its stack no
    longer fits in the address space (``RLIMIT_AS``): a RuntimeError, not a MemoryError.
    (A thread the pids cgroup refused is the runner's to report, as the process limit.)"""
    if type(exc) is not RuntimeError or str(exc) != "can't start new thread":
        return False
    import mmap

    try:
        import resource
    except ImportError:  # not POSIX: no address space limit
        return False
    size = threading.stack_size() or resource.getrlimit(resource.RLIMIT_STACK)[0]
    if size <= 0 or size == resource.RLIM_INFINITY:
        size = _DEFAULT_THREAD_STACK
    try:
        mmap.mmap(-1, size).close()
    except OSError:
        return True
    return False


def _cut(text: str) -> str:
    """``text`` up to ``MAX_ERROR_CHARS``: an error's text is not a channel for data."""
    if len(text) > MAX_ERROR_CHARS:
        text = f"{text[:MAX_ERROR_CHARS]}... [{len(text) - MAX_ERROR_CHARS} more characters cut]"
    return _encodable(text)


def _encodable(text: str) -> str:
    """``text`` with each lone surrogate (no UTF-8 has one) written as ``\\udXXX``: a
    frame is UTF-8, and a reply that cannot be sent would end the child."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _plain_error(kind: str, message: str) -> dict[str, Any]:
    return {"kind": kind, "type": None, "message": message, "traceback": None}


def _qualified_name(cls: type[BaseException]) -> str:
    module = cls.__module__
    return (
        cls.__qualname__ if module in ("builtins", "__main__") else f"{module}.{cls.__qualname__}"
    )


def _agent_frames(tb: TracebackType | None) -> TracebackType | None:
    """Drop the leading frames of this module and asyncio: the user wants their own code."""
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        ours = filename in _OWN_FILES or filename.startswith(_ASYNCIO_DIR)
        if not ours and not filename.startswith("<frozen importlib"):
            break
        tb = tb.tb_next
    return tb


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
