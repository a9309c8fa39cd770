"""Rejoinder: a self-hosted comment system for blogs."""

__version__ = "0.1.0"
