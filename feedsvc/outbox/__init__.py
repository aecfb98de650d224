"""The outbox: when to try a delivery again (policy), and who sends (dispatcher)."""
