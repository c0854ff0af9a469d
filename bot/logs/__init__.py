"""Agent logs: fetch, parse, summarise and render what a Copilot session did."""
