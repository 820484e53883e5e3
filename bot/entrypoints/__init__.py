"""The entry points: Telegram (polling and webhook), the HTTP server and clinic API, the CLI,
the local chat, start-up wiring."""
