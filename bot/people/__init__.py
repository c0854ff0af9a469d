"""The people the bot acts for: their GitHub App user access tokens, sealed at rest (`sealing`), kept,
renewed and forgotten (`tokens`). Below the commands and handlers, so a job can act with a person's
token (starting a Copilot task), and below the web, whose sign-in stores them (bot/web/accounts.py).
"""
