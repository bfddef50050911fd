"""Streaming: the streamer (one per game) and, later, the scheduler and runners."""
