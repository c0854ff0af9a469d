"""Webhook deliveries after the intake: recovering those GitHub failed to deliver (`plan` decides,
`recovery` asks GitHub); `flask --app app deliveries …` is bot/cli/deliveries.py."""
