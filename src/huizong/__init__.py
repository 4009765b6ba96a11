"""Huizong."""
