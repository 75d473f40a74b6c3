"""Coaching feedback on practice answers."""
