"""Property: the stream readers hold whatever arrives, and judge it alike whatever the chunks.

- ``SdCsvReader``: the rows of a daily file (hostile fields, a 5,000-byte row, a BOM, NUL) are
  the same however the download is cut into chunks, each within the boundary's promise; the
  reader never keeps more than ``MAX_LINE_BYTES`` between chunks.
- ``SseParser``: the events of a stream (long lines, lines without end, events without blank
  line, CR/LF/CRLF cut anywhere) are the same however it is cut; between chunks the parser keeps
  at most ``MAX_EVENT_BYTES`` of an unfinished line and of an unfinished event's data; no event
  dispatched is larger.
- ``decode_json``/``raise_for_status``: any body (binary, nested 120,000 deep, NaN literals) is
  decoded or refused with ``WhatwattError``; any status maps to its error, 2xx to none.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from hypothesis import example, given, strategies as st

from custom_components.whatwatt.api import WhatwattError
from custom_components.whatwatt.api.client import raise_for_status
from custom_components.whatwatt.api.live import MAX_EVENT_BYTES, SseEvent, SseParser
from custom_components.whatwatt.api.parse_common import load_json as decode_json
from custom_components.whatwatt.api.parse_sdcard import MAX_LINE_BYTES, SdCsvReader

from .model_checks import check_report
from .wire_strategies import SD_COLUMNS, chunkings, cut, payload_texts, sd_files

LONG_ROW = (
    ",".join(SD_COLUMNS)
    + "\r\n"
    + '1,"2026-01-15T08:00:00Z",,,2,' + "x" * 5000 + "\r\n"
    + '2,"2026-01-15T08:01:00Z",,,1,,,\r\n'
).encode()  # fmt: skip


def _sd_rows(chunks: list[bytes], bounds: dict[str, datetime]) -> tuple[list[Any], int, int, bool]:
    reader = SdCsvReader(**bounds)
    rows = []
    for chunk in chunks:
        rows += reader.feed(chunk)
        assert len(reader._buffer) <= MAX_LINE_BYTES
    rows += reader.close()
    return rows, reader.rows, reader.skipped, reader.past_end


BOUNDS = st.fixed_dictionaries(
    {},
    optional={
        "start": st.just(datetime(2026, 1, 15, 8, 0, 30, tzinfo=UTC)),
        "end": st.just(datetime(2026, 1, 15, 9, tzinfo=UTC)),
    },
)


@given(data=st.data(), content=sd_files, bounds=BOUNDS)
@example(data=None, content=LONG_ROW, bounds={})
def test_sd_rows_alike_whatever_the_chunks(
    data: st.DataObject | None, content: bytes, bounds: dict[str, datetime]
) -> None:
    """The same rows, counts and end whatever the chunks; every row within the promise."""
    whole = _sd_rows([content], bounds)
    if data is None:  # the 5,000-byte row of issue 19: cut through it, every which way
        cuts = [[size] for size in range(1, len(content), 97)]
    else:
        cuts = [data.draw(chunkings(len(content)))]
    for points in cuts:
        assert _sd_rows(cut(content, points), bounds) == whole, points
    for row in whole[0]:
        check_report(row)


def _sse(chunks: list[bytes]) -> tuple[list[SseEvent], int]:
    parser = SseParser()
    events = []
    for chunk in chunks:
        events += parser.feed(chunk)
        assert len(parser._buffer) <= MAX_EVENT_BYTES
        assert sum(len(item) + 1 for item in parser._data) <= MAX_EVENT_BYTES + 1
    for event in events:
        assert len(event.data) <= MAX_EVENT_BYTES
    return events, parser.dropped


_LINE_ENDS = ("\n", "\r\n", "\r")
_SHORT_LINES = ("", "event: live", "event: other", ": comment", "id: 1", "retry: 5", "data: {}")
_LONG = (  # name → how a long line starts; its length is drawn
    ("data", "data: "),
    ("field", ""),
    ("event", "event: "),
)
_lines = st.one_of(
    st.tuples(st.sampled_from(_SHORT_LINES), st.just(0)),
    st.tuples(st.text(max_size=30).map(lambda text: "data: " + text), st.just(0)),
    st.tuples(
        st.sampled_from([name for name, _ in _LONG]),
        st.one_of(
            st.integers(1, 3 * MAX_EVENT_BYTES),
            st.sampled_from((MAX_EVENT_BYTES - 6, MAX_EVENT_BYTES - 5, MAX_EVENT_BYTES + 1)),
        ),
    ),
)
# A stream as (line, long line's size, line end) triples, built in the test: a short repr.
sse_streams = st.lists(st.tuples(_lines, st.sampled_from(_LINE_ENDS)), max_size=16)


def _stream(lines: list[tuple[tuple[str, int], str]]) -> bytes:
    starts = dict(_LONG)
    text = "".join(
        (starts[line] + "x" * size if size else line) + end for (line, size), end in lines
    )
    return text.encode("utf-8", "surrogatepass")


NO_BLANK_LINE = [(("data", 1000), "\n")] * 100 + [(("", 0), "\n")]
ENDLESS = [(("event: live", 0), "\n"), (("data", 4 * MAX_EVENT_BYTES), "")]
ALMOST_TOO_LONG = [(("data", MAX_EVENT_BYTES - 5), "\n"), (("", 0), "\n")]


@given(data=st.data(), lines=sse_streams, tail=st.binary(max_size=20))
@example(data=None, lines=NO_BLANK_LINE, tail=b"")
@example(data=None, lines=ENDLESS, tail=b"")
@example(data=None, lines=ALMOST_TOO_LONG, tail=b"")
def test_sse_events_alike_whatever_the_chunks(
    data: st.DataObject | None, lines: list[tuple[tuple[str, int], str]], tail: bytes
) -> None:
    """The same events whatever the chunks; memory bounded all along."""
    stream = _stream(lines) + tail
    whole = _sse([stream])
    if data is None:
        cuts = [[size] for size in range(1, len(stream), 4099)]
        cuts += [[size] for size in range(len(stream) - 8, len(stream))]
        cuts.append(list(range(1, len(stream), 1000)))
    else:
        cuts = [data.draw(chunkings(len(stream)))]
    for points in cuts:
        assert _sse(cut(stream, points)) == whole, points


bodies = st.one_of(
    st.binary(max_size=200),
    payload_texts.map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.sampled_from((b"NaN", b'{"a": Infinity}', b"\xef\xbb\xbf{}", "\ufeff{}".encode("utf-16"))),
)


@given(body=bodies)
@example(body=b"[" * 100_000 + b"]" * 100_000)
def test_decode_json(body: bytes) -> None:
    """Any body decodes or is refused with ``WhatwattError``."""
    with contextlib.suppress(WhatwattError):
        decode_json(body)


@given(
    status=st.one_of(st.integers(100, 599), st.integers()),
    path=st.one_of(st.sampled_from(("/api/v1/report", "/api/v1/system", "/sdcard/")), st.text()),
    body=bodies,
)
@example(status=503, path="/api/v1/report", body=b"[" * 100_000 + b"]" * 100_000)
@example(status=404, path="/api/v1/report", body=b'{"error": {"a": [' * 10_000)
def test_raise_for_status(status: int, path: str, body: bytes) -> None:
    """2xx passes; anything else raises its ``WhatwattError``, whatever the body."""
    try:
        raise_for_status(status, path, body)
    except WhatwattError:
        assert not 200 <= status < 300
    else:
        assert 200 <= status < 300
