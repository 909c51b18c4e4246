"""问数: ask the cockpit a question in Chinese (or English) and get the figure, a table and the link.

    >>> from metrics.ask import ask
    >>> reply = ask("上个月丽水哪些县一网通办率没达标？", engine)
    >>> reply.sentence, reply.reading, reply.link

`parse` reads a question into a `Query` (or a `Clarification`: it never guesses); `answer` runs a
query on the engine with the same functions the pages use, so the figures agree. An optional
OpenAI-compatible model (metrics.ask.model, off unless COCKPIT_ASK_MODEL_URL is set) may rephrase a
question the parser could not read into a Query, which is checked and run the same way. No Streamlit here.
"""

from __future__ import annotations

from .executor import Answer, answer, ask, context_of
from .parser import normalise, parse
from .query import Clarification, Figure, Query

__all__ = ["Answer", "Clarification", "Figure", "Query", "answer", "ask", "context_of", "normalise", "parse"]
