"""session-bot: a GitHub App that makes Copilot coding-agent sessions visible and controllable."""
