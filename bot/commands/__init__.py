"""Slash commands: `/session …` lines parsed, checked and answered (see docs/commands.md)."""
