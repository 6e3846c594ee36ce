"""Red team: an OTLP collector that is down, slow or answers garbage breaks nothing.

``--otlp-endpoint`` sends spans from a background thread; at exit what is queued gets
``EXPORT_TIMEOUT_SECONDS`` at most (OpenTelemetry's defaults held ``viksa run`` about
10 s longer on a collector that never answers), and SIGTERM sends it before the process
ends (its default action skipped the exit handlers: the spans were lost).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace.export import SpanExportResult

from viksa_ai.devtools._otlp import EXPORT_TIMEOUT_SECONDS, _bounded
from viksa_ai.devtools._otlp_report import ExportReport
from viksa_ai.devtools.cli import main
from viksa_ai.devtools.platform.http import _serve

PROBE = Path(__file__).parent.parent / "fixtures" / "runner_probe"
_ANSWERS = {
    "garbage": b"\x00\xff\x1b[2JGARBAGE\r\n\r\n",
    "503": b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n",
    "400": b"HTTP/1.1 400 \x1b[2J\r\nContent-Length: 5\r\n\r\n\x1b[2J!",
}


@pytest.fixture
def bad_collector() -> Iterator[Callable[[str], str]]:
    """``start(mode)``: the URL of a collector on 127.0.0.1 that never answers (``hang``),
    answers ``garbage``, ``503`` or ``400`` (with escape sequences), or is not there
    (``down``: a port nothing listens on). All stop after the test."""
    sockets: list[socket.socket] = []
    stop = threading.Event()

    def serve(listener: socket.socket, mode: str) -> None:
        held: list[socket.socket] = []
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                break
            held.append(connection)  # "hang": kept open, never answered
            if mode in _ANSWERS:
                connection.recv(65536)
                connection.sendall(_ANSWERS[mode])
                connection.close()
        for connection in held:
            connection.close()

    def start(mode: str) -> str:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        sockets.append(listener)
        if mode == "down":
            listener.close()  # the port was free a moment ago: nothing listens there
        else:
            listener.listen(16)
            threading.Thread(target=serve, args=(listener, mode), daemon=True).start()
        return f"http://127.0.0.1:{port}/v1/traces"

    yield start
    stop.set()
    for listener in sockets:
        listener.close()


def _run_exporting_to(url: str, **environment: str) -> subprocess.CompletedProcess[str]:
    """``viksa run`` of the probe's echo exporting to ``url``, with ``environment`` added."""
    command = [sys.executable, "-m", "viksa_ai.devtools.cli", "run", str(PROBE), "echo"]
    return subprocess.run(
        [*command, "--no-sandbox", "--format", "json", "--otlp-endpoint", url],
        capture_output=True,
        text=True,
        # Generous: the run, the interpreter's start and the bounded wait at exit.
        timeout=EXPORT_TIMEOUT_SECONDS + 90,
        check=False,
        env={**os.environ, **environment},
    )


@pytest.mark.parametrize("mode", ["down", "hang", "garbage", "503", "400"])
def test_viksa_run_works_whatever_the_collector_does(
    bad_collector: Callable[[str], str], mode: str
) -> None:
    done = _run_exporting_to(bad_collector(mode))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["calls"] == 1
    assert "Traceback" not in done.stderr
    # What the collector answered is shown with its escape sequences escaped.
    assert "\x1b" not in done.stderr


@pytest.mark.timeout(300)
async def test_sigterm_sends_the_queued_spans_then_ends_viksa_dev_as_before(
    otlp_collector: Callable[..., tuple[str, list[Any]]],
    tmp_path: Path,
    serve_data: Any,
    served_client: Any,
) -> None:
    url, received = otlp_collector()
    args = ["--otlp-endpoint", url, "--no-sandbox"]
    with serve_data(tmp_path / "state.db", args=args) as (process, exports):
        async with served_client(exports) as http:
            answer = await http.get("/auth/me")
            assert answer.status_code == 200, answer.text
        # Before the batch's delay (5 s) sends it: only the SIGTERM handler can.
        process.terminate()
        assert process.wait(timeout=120) == -signal.SIGTERM
    exported = b"".join(body for _, _, body in received)
    assert b"GET /auth/me" in exported


@pytest.mark.parametrize(
    "url",
    [
        "localhost:4318",  # the collector's address without the scheme: a common slip
        "http://[::1",
        "ftp://127.0.0.1/v1/traces",
        "http://127.0.0.1:99999/v1/traces",
        "http://:4318/v1/traces",
        "http://user:pw-in-url@127.0.0.1:0/v1/traces",
    ],
)
@pytest.mark.parametrize("command", ["run", "dev"])
def test_an_otlp_endpoint_that_is_no_http_url_is_a_usage_error(
    command: str, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before, each export logged that it could not send, and the command went on.
    argv = [str(PROBE), "echo", "--no-sandbox"] if command == "run" else ["--memory"]
    assert main([command, *argv, "--otlp-endpoint", url]) == 2
    err = capsys.readouterr().err
    assert "--otlp-endpoint" in err
    assert "http://localhost:4318/v1/traces" in err
    assert "pw-in-url" not in err  # the value is not echoed: it may hold a password


@pytest.mark.parametrize("url", ["", " "])
@pytest.mark.parametrize("command", ["run", "dev"])
def test_an_empty_otlp_endpoint_is_a_usage_error(
    command: str, url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before, an empty value silently meant "no export" and the command went on.
    served: list[object] = []

    def serve(*args: object, **kwargs: object) -> int:
        served.append(args)
        return 0

    monkeypatch.setattr(_serve, "serve", serve)
    argv = [str(PROBE), "echo", "--no-sandbox"] if command == "run" else ["--memory"]
    assert main([command, *argv, "--otlp-endpoint", url]) == 2
    assert served == []
    err = capsys.readouterr().err
    assert "--otlp-endpoint is empty" in err
    assert "omit the flag" in err
    assert "http://localhost:4318/v1/traces" in err


def test_a_collector_that_is_down_is_said_once_naming_the_endpoint_only(
    bad_collector: Callable[[str], str],
) -> None:
    # Before: three lines per batch (two retries, then the failure), each naming the
    # exporter's connection error rather than what to check.
    port = bad_collector("down").rsplit(":", 1)[1].split("/")[0]
    url = f"http://someone:pw-in-url@127.0.0.1:{port}/v1/traces?token=query-secret"
    done = _run_exporting_to(url, OTEL_EXPORTER_OTLP_HEADERS="authorization=Bearer hdr-secret")
    assert done.returncode == 0, done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith(f"viksa run: cannot export spans to http://127.0.0.1:{port}/v1/traces ")
    for secret in ("someone", "pw-in-url", "query-secret", "hdr-secret"):
        assert secret not in line


def test_spans_dropped_while_the_collector_is_down_are_not_a_line_each(
    bad_collector: Callable[[str], str], fresh_python: Callable[..., Any]
) -> None:
    # Before: three lines per batch that failed, and "Queue full" lines past the queue
    # (one per span with SDKs without OpenTelemetry's own duplicate filter; with it, one
    # per 20 s window, so a loaded `viksa dev` kept printing them).
    done = fresh_python(
        """
        import sys
        from opentelemetry import trace
        from viksa_ai.devtools._otlp import configure_otlp

        assert configure_otlp(sys.argv[1], command="test", service_name="test") is None
        tracer = trace.get_tracer("load")
        for _ in range(6000):
            tracer.start_span("s").end()
        trace.get_tracer_provider().shutdown()
        """,
        bad_collector("down"),
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert sum("cannot export spans" in line for line in lines) == 1, lines[:5]
    assert len(lines) <= 2, lines[:5]  # at most one "Queue full" besides


class _Exporter:
    """A span exporter answering ``results`` in turn."""

    def __init__(self, *results: SpanExportResult) -> None:
        self.results = list(results)

    def export(self, spans: object) -> SpanExportResult:
        return self.results.pop(0)


def test_the_report_says_a_failure_once_then_the_recovery_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fail, ok = SpanExportResult.FAILURE, SpanExportResult.SUCCESS
    report = ExportReport("https://u:p@collector.test:4318/v1/traces?k=v", "viksa dev")
    exporter = report.exporter(_Exporter(ok, fail, fail, fail, ok, ok, fail))
    with caplog.at_level(logging.INFO, logger="viksa_ai.devtools.otlp"):
        for _ in range(7):
            exporter.export([])
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [
        "viksa dev: cannot export spans to https://collector.test:4318/v1/traces",
        "viksa dev: spans reach https://collector.test:4318/v1/traces again",
        "viksa dev: cannot export spans to https://collector.test:4318/v1/traces",
    ]


class _OlderSdkProcessor:
    """BatchSpanProcessor as opentelemetry-sdk 1.27 (the extra's floor) has it: no inner
    ``_batch_processor``, a shutdown without a bound of its own."""

    def __init__(self, exporter: object) -> None:
        self.exporter = exporter
        self.shut_down = False

    def shutdown(self) -> None:
        self.shut_down = True


def test_an_older_sdk_processor_still_shuts_down_at_exit() -> None:
    # The bound reaches into the SDK's inner processor, which older SDKs lack: their
    # own shutdown must run (it sends what is queued), not an AttributeError at exit.
    processor = _bounded(_OlderSdkProcessor)(object())
    processor.shutdown()
    assert processor.shut_down


def test_sigterm_while_the_main_thread_holds_the_exporters_lock_does_not_hang(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The handler runs between two bytecodes of the main thread: inside a span's end,
    # the batch processor's lock is held, and a shutdown taking it there never returned.
    from viksa_ai.devtools import _otlp

    monkeypatch.setattr(_otlp, "EXPORT_TIMEOUT_SECONDS", 0.2)
    held = threading.Lock()

    class Provider:
        def shutdown(self) -> None:
            with held:
                pass

    signals: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: signals.append(signum))
    try:
        _otlp._flush_on_sigterm(Provider())
        handler = signal.getsignal(signal.SIGTERM)
        assert callable(handler)
        with held:  # as the main thread inside the processor's `with self._condition`
            done = threading.Event()

            def deliver() -> None:
                handler(signal.SIGTERM, None)
                done.set()

            threading.Thread(target=deliver, daemon=True).start()
            assert done.wait(30), "the SIGTERM handler hung on the exporter's lock"
        assert signals == [signal.SIGTERM]  # then the signal did what it did before
    finally:
        signal.signal(signal.SIGTERM, previous)
