"""The fake GitHub (tests/fakegithub) behaves like GitHub: routes, auth, answers, payloads, hooks, permissions."""
