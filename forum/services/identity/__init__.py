"""Proving who someone is: second factors (TOTP, recovery codes, remembered devices) and single sign-on."""
