"""``python -m simulator`` prints READY and serves until terminated."""

from __future__ import annotations

import asyncio
from pathlib import Path
import re
import sys

import aiohttp

ROOT = Path(__file__).parents[2]


async def test_cli_ready_and_serves(socket_enabled):
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulator",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--license",
        "free",
        "--profile",
        "dlms-three",
        "--telegram-interval",
        "0",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with asyncio.timeout(20):
            line = (await proc.stdout.readline()).decode().strip()
        match = re.fullmatch(r"READY (http://127\.0\.0\.1:(\d+))", line)
        assert match, line
        async with aiohttp.ClientSession() as session:
            async with session.get(match[1] + "/api/v1/system") as resp:
                data = await resp.json()
            assert data["device"]["license"]["type"] == "FREE"
            assert data["meter"]["protocol"] == "DLMS"
        proc.terminate()
        async with asyncio.timeout(10):
            assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
