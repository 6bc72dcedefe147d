"""Downloads at once: the shared throttle, and the sink slowing down when a server pushes back."""

from __future__ import annotations

import io
import random
import threading
from pathlib import Path

import pytest
from media_helpers import KEY, all_names, embedded_input, served_url_inputs, wait_until
from media_server import MediaServer
from PIL import Image

from toolkit.media import MediaReport, MediaSink
from toolkit.media import _sink as sink_module
from toolkit.media._throttle import Throttle


def noise_png(side: int) -> bytes:
    """A PNG that does not compress (random pixels), about 3 * side * side bytes."""
    pixels = random.Random(side).randbytes(3 * side * side)
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), pixels).save(out, "PNG")
    return out.getvalue()


FAST = {"backoff": 0.01, "max_backoff": 0.05, "timeout": 10.0, "seed": 7}


# -- the throttle alone -----------------------------------------------------------------


def test_a_push_back_halves_the_limit_once_per_epoch():
    throttle = Throttle(64)
    with throttle.slot() as first, throttle.slot() as second:
        assert first == second == 0
    assert throttle.pushed_back(first)
    assert throttle.limit == 32
    # the other request of the same burst started before the decrease: no second halving
    assert not throttle.pushed_back(second)
    assert throttle.limit == 32
    with throttle.slot() as later:
        assert later == 1
    assert throttle.pushed_back(later)
    assert (throttle.limit, throttle.lowest) == (16, 16)


def test_the_limit_never_falls_below_one():
    throttle = Throttle(3)
    for _ in range(5):
        with throttle.slot() as epoch:
            pass
        throttle.pushed_back(epoch)
    assert throttle.limit == 1 and throttle.lowest == 1


def _halved(most: int) -> tuple[Throttle, int]:
    """A throttle after one push-back, and the epoch of the request pushed back."""
    throttle = Throttle(most)
    with throttle.slot() as epoch:
        pass
    assert throttle.pushed_back(epoch)
    return throttle, epoch


def test_successes_raise_the_limit_back_one_at_a_time_up_to_the_most():
    throttle, _epoch = _halved(8)
    assert throttle.limit == 4
    for _ in range(3):
        throttle.succeeded()
    assert throttle.limit == 4  # 4 in a row are needed at a limit of 4
    throttle.succeeded()
    assert throttle.limit == 5
    for _ in range(5 + 6 + 7 + 100):
        throttle.succeeded()
    assert throttle.limit == 8 and throttle.lowest == 4


def test_a_push_back_restarts_the_run_of_successes():
    throttle, epoch = _halved(8)
    for _ in range(3):
        throttle.succeeded()
    throttle.pushed_back(epoch)  # an old request: no decrease, but the run starts again
    assert throttle.limit == 4
    for _ in range(3):
        throttle.succeeded()
    assert throttle.limit == 4


def test_slots_block_at_the_limit():
    throttle = Throttle(2)
    entered = threading.Semaphore(0)
    leave = threading.Event()
    inside = 0
    most_inside = 0
    lock = threading.Lock()

    def request() -> None:
        nonlocal inside, most_inside
        with throttle.slot():
            with lock:
                inside += 1
                most_inside = max(most_inside, inside)
            entered.release()
            leave.wait(30)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=request) for _ in range(8)]
    for thread in threads:
        thread.start()
    assert entered.acquire(timeout=30) and entered.acquire(timeout=30)
    assert wait_until(lambda: throttle.waiting == 6)  # the other 6 wait for room
    assert inside == 2
    leave.set()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads)
    assert most_inside == 2 and throttle.waiting == 0


def test_a_stop_lets_a_waiting_request_through_to_see_it():
    throttle = Throttle(1)
    stop = threading.Event()
    entered = threading.Event()

    def waiter() -> None:
        with throttle.slot(stop):
            entered.set()

    with throttle.slot():
        thread = threading.Thread(target=waiter)
        thread.start()
        assert wait_until(lambda: throttle.waiting == 1)
        assert not entered.is_set()
        stop.set()
        assert entered.wait(30)
    thread.join(2)


def test_most_must_be_positive():
    with pytest.raises(ValueError):
        Throttle(0)


# -- the sink ---------------------------------------------------------------------------


def test_downloads_slow_down_while_the_server_pushes_back(tmp_path: Path) -> None:
    with MediaServer(latency=0.03, capacity=4) as server:
        records = served_url_inputs(server, 60)
        with MediaSink(tmp_path, mode="download", jobs=32, retries=20, **FAST) as sink:
            for record in records:
                sink.submit(record)
            report = sink.close()
        refused = server.refused
    assert report.ok and report.written == 60
    assert len(all_names(tmp_path)) == 60
    assert report.jobs_lowered_to is not None and report.jobs_lowered_to <= 8
    # Without the throttle all 32 workers keep retrying against 4 places: far more refusals.
    assert refused < 150


def test_no_push_back_keeps_every_job_and_reports_nothing(tmp_path: Path) -> None:
    with MediaServer(latency=0.05) as server:
        records = served_url_inputs(server, 40)
        with MediaSink(tmp_path, mode="download", jobs=20, **FAST) as sink:
            for record in records:
                sink.submit(record)
            report = sink.close()
        assert server.max_in_flight >= 10
    assert report.ok and report.jobs_lowered_to is None


def test_default_jobs_depend_on_the_mode(tmp_path: Path) -> None:
    download = MediaSink(tmp_path / "d", mode="download", pat=KEY)
    embedded = MediaSink(tmp_path / "e", mode="embedded")
    assert download.jobs == sink_module.DEFAULT_DOWNLOAD_JOBS == 64
    assert embedded.jobs == sink_module.DEFAULT_WRITE_JOBS == 16
    download.close()
    embedded.close()


def test_embedded_media_waiting_is_bounded_in_bytes(tmp_path: Path, monkeypatch) -> None:
    payload = noise_png(40)
    budget = 2 * len(payload) + 100
    monkeypatch.setattr(sink_module, "MAX_QUEUED_BYTES", budget)
    most = 0
    sink = MediaSink(tmp_path, mode="embedded", jobs=4)
    real_reserve, real_release = sink._reserve, sink._release
    refused = threading.Event()

    def reserve(size: int) -> bool:
        fits = real_reserve(size)
        if not fits:
            refused.set()
        return fits

    def release(task) -> None:
        nonlocal most
        refused.wait(30)  # writers keep their bytes until the submitting side had to wait
        most = max(most, sink._queued_bytes)
        real_release(task)

    sink._reserve = reserve  # type: ignore[method-assign]
    sink._release = release  # type: ignore[method-assign]
    for n in range(30):
        sink.submit(embedded_input(f"e{n}", payload))
    report = sink.close()
    assert report.written == 30
    assert refused.is_set()
    assert len(payload) < most <= budget  # it waited with two files queued, never three
    assert sink._queued_bytes == 0


def test_two_reports_combine_with_the_lowest_jobs() -> None:
    a = MediaReport(written=2, failed={"x": "HTTP 404"}, bytes_written=10, jobs_lowered_to=8)
    b = MediaReport(written=1, skipped=1, skipped_ids=["t"], skip_reasons={"t": "no media"})
    both = a.combined(b)
    assert (both.written, both.skipped, both.bytes_written) == (3, 1, 10)
    assert both.failed == {"x": "HTTP 404"} and both.skipped_ids == ["t"]
    assert both.jobs_lowered_to == 8
    assert b.combined(MediaReport()).jobs_lowered_to is None
