"""A fake GitHub for integration tests, checked against GitHub's OpenAPI description."""

APP_ID = 1234  # the GitHub App the fake serves and webhook deliveries name
