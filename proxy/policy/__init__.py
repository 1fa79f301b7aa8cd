"""Compliance policy: the policy file model and the pure engine (decide: facts -> decision)."""
