"""Channels around the core: LINE, Slack and the HTTP server that hosts them.

Flow is one way: an adapter verifies, parses and de-duplicates a platform
request, asks `bot` for a channel-neutral `Answer`, and renders it.
"""
