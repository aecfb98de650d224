"""Embargoed previews (issue 17 item 6): signed links to a release's page before its
embargo lifts, emailed to accredited journalists through the outbox, revoked all at once."""
