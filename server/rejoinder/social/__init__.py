"""Replies from the open social web: a post's Mastodon and Bluesky replies, followed by the worker and
shown in its thread as comments (follow.py), through the same address guard as every other fetch."""
