"""Webhook deliveries after the intake: recovering those GitHub failed to deliver (`plan` decides,
`recovery` asks GitHub), and `flask --app app deliveries …` (`cli`)."""
