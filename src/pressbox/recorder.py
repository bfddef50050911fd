"""`pressbox record`: follow a live game with the real streamer and capture every response to HAR.

The streamer runs exactly as in production (same budgeted client, same cadences) against a
throwaway database; a capturing transport under its HTTP client writes each response, with its
headers and timing, to the HAR file.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from pressbox.clock import Clock
from pressbox.config import Settings
from pressbox.domain.lifecycle import StreamStatus
from pressbox.domain.sports import profile_for
from pressbox.replay.capture import CapturingTransport, HarWriter
from pressbox.runtime import Runtime, open_runtime
from pressbox.store import GameInfo, TeamInfo


@dataclass
class Recorder:
    """A recording under way: the runtime that streams the game and the HAR writer."""

    runtime: Runtime
    writer: HarWriter
    game_id: str
    league: str

    async def run(self) -> StreamStatus:
        """Stream the game to its end (or until cancelled); every response goes to the file."""
        profile = profile_for(self.league)
        now = self.runtime.clock.now()
        info = GameInfo(
            self.game_id, profile.sport, self.league, "", "", None, TeamInfo(""), TeamInfo("")
        )
        await self.runtime.store.upsert_game(info, now, replace=False)
        await self.runtime.store.ensure_stream(self.game_id, now, now)
        return await self.runtime.streamer(self.game_id, self.league).run()


@asynccontextmanager
async def recording(
    settings: Settings,
    clock: Clock,
    league: str,
    game_id: str,
    out: Path,
    espn_url: str | None = None,
) -> AsyncIterator[Recorder]:
    """Open a recorder writing to `out`; the file is completed however the context ends."""
    profile_for(league)  # fail before creating anything for an unknown league
    writer = HarWriter(out)
    try:
        with tempfile.TemporaryDirectory(prefix="pressbox-record-") as scratch:
            # The seed policy reads every document whole, from the core API only: the recording
            # then holds whole documents a replay can serve at any limit and page (the edge
            # policy's scoreboard sentinel and edge pages would leave holes).
            scratch_settings = settings.model_copy(
                update={
                    "database_url": f"sqlite+aiosqlite:///{scratch}/record.db",
                    "fetch_policy": "seed",
                }
            )
            transport = CapturingTransport(writer, clock)
            async with open_runtime(scratch_settings, clock, espn_url, transport) as runtime:
                yield Recorder(runtime, writer, game_id, league)
    finally:
        writer.close()
