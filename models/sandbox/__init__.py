"""Tenants' models run here, in a child process behind bubblewrap: no network, only their own files, an
unprivileged user, memory, CPU and time limits. Imports nothing from ``app`` or ``worker``; ``jail`` and
``protocol`` import no torch, so settings can describe a sandbox cheaply."""
