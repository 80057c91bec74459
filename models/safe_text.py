"""Text a database can store: no NUL characters, no unpaired surrogates. PostgreSQL refuses NUL in text, and
neither SQLite nor PostgreSQL can encode a lone surrogate (``"\\ud800"``, which ``json.loads`` happily produces)
as UTF-8. Here, in models/, so that the job's spec (models/job_spec.py) refuses them wherever it is parsed."""

from typing import Annotated

from pydantic import AfterValidator


def text_problem(value: str) -> str | None:
    """What is wrong with ``value`` for storage, or None."""
    if "\x00" in value:
        return "must not contain NUL characters (\\u0000)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must not contain unpaired surrogates (e.g. \\ud800); send valid UTF-8 text"
    return None


def check_text(value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise ValueError(problem)
    return value


SafeStr = Annotated[str, AfterValidator(check_text)]
