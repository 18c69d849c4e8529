"""Telling branches: notifications in the inbox and on a signed webhook (issue 16.4)."""
