"""Email alerts: subscribers, sending, and the bounces and complaints that come back."""
