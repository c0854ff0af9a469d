"""The session index: every Copilot coding-agent session, from webhooks, timelines and backfill."""
