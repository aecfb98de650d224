"""Faults on real processes on 127.0.0.1: outages, flapping receivers, SIGKILL, a locked
database, an unwritable export and a bad config."""
