"""`distillery`: the command line, built on the generated client (distillery_client)."""
