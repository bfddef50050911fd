"""The database is the truth: games, streams and each game's event log (SQLite or PostgreSQL)."""

from pressbox.store.repository import GameInfo, Store, StreamRecord, TeamInfo

__all__ = ["GameInfo", "Store", "StreamRecord", "TeamInfo"]
