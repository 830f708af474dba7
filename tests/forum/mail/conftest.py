"""Every test here may deliver to a real SMTP server on localhost (the ``smtp`` fixture)."""
from tests.smtp_support import smtp  # noqa: F401
