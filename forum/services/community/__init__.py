"""Community: watches and notifications, the inbox, presence and notification e-mail."""
