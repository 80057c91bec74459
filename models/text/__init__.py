"""Text classifiers (issue 27): Hugging Face teachers checked and loaded, texts tokenized, text students built
and exported.

Nothing here imports transformers at import time: the API imports ``models`` at start-up, and transformers
(seconds to import, hundreds of MiB) is imported inside the functions that need it, when a text job does.
"""
