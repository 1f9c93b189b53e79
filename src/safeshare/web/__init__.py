"""The web interface: server-rendered pages for caseworkers and focal points (EN/FR/AR)."""
