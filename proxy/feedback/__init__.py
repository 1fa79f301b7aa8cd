"""Feedback loops: bounces and complaints coming back, events going out (webhooks)."""
