"""The session index alone: merge rules (`model`), storage (`store`) and reads (`queries`); no GitHub.

What GitHub says reaches it as plain values from the handlers in bot/handlers/.
"""
