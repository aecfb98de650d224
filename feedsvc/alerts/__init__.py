"""Email alerts (issue 16): subscribe, confirm, manage; immediate and digest emails;
bounces and complaints."""

# Which version of the subscribe form a consent was given on (the consent record): change
# it when what the form says a subscriber agrees to changes.
FORM_VERSION = "alerts-form-2026-12"
