"""Upstream clients (ESPN, Kalshi): budgeted, retried, translated into Pressbox errors."""
