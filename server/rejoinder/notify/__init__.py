"""Consumers of the event log: email notifications and webhooks (see worker.py)."""
