"""The Engram app's widgets, one per module."""
