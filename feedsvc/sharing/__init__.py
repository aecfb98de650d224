""" "Suggest To A Friend": share requests checked, signed tokens, and the share desk that
turns an accepted request into emails in the outbox."""
