"""The errors of the similar-paper engine: all are ``ValueError``s with a message meant for users
(the CLI prints it as a one-line error; the server can map each class to an HTTP status).

>>> issubclass(UnknownPaper, EmbeddingError) and issubclass(NoEmbeddings, EmbeddingError)
True
"""


class EmbeddingError(ValueError):
    """A similarity request or a training run that cannot be done (the message says why)."""


class NoEmbeddings(EmbeddingError):
    """The store has no (complete) embedding run: train one first (HTTP: 503/404)."""


class UnknownPaper(EmbeddingError, LookupError):
    """The paper is not in the embedding run: not in the store, or added after the last
    training (HTTP: 404)."""


class NoEmbedding(EmbeddingError):
    """The paper is in the run but has no vector in the requested mode (HTTP: 404/422)."""
