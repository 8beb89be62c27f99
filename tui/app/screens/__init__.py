"""Screens and modal dialogs of the Engram app."""
