"""Webhooks: subscriptions, the events they carry (filtered by what each owner may see), signed delivery with
retries and backoff, and the sweep that retries what is due."""
