"""Moodlake: a local-first lakehouse for Spotify listening history and mood analytics."""

__version__ = "0.1.0"
