"""Issue 12.8's measurement: does a contrastive fine-tune of the shipped MiniLM tag better? Run by hand, never a test.

It fine-tunes a copy of the encoder on the training documents (never the frozen test set or the probes), SetFit
style: for every pair of paragraphs in a batch, the cosine of their vectors is pulled towards the Jaccard overlap
of their theme sets. Two themeless paragraphs are left alone (a cookie notice and a minute of procedure need not be
alike), a themeless and a themed one are pushed apart. Then it trains joinedup on the fine-tuned encoder exactly as
``joinedup train`` does (same data, same int8 ONNX serving path, a scratch models folder) and scores the pasted-page
probes with joinedup's segmentation and on the annotators' own units. Compare with ``joinedup train`` and
``python bench/probes.py [--gold-units]`` on the shipped encoder.

Cross-validation of the fine-tuned model is optimistic (the encoder has seen every fold's labels); the frozen test
set and the probes are the honest figures.

    python bench/finetune.py [--epochs 2] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifier.config import load_settings  # noqa: E402
from classifier.model.codebook import load_codebook  # noqa: E402
from classifier.model.dataset import load_labelled  # noqa: E402
from classifier.model.embeddings import resolve_model_path  # noqa: E402

BATCH = 32
TRAIN_LENGTH = 128   # tokens while fine-tuning: 99% of training paragraphs are shorter
LEARNING_RATE = 2e-5
WARMUP = 0.1


def pair_targets(theme_sets: list[set]) -> tuple[list[list[float]], list[list[float]]]:
    """Target cosine (Jaccard overlap of the two theme sets) and a 0/1 mask for every ordered pair in a batch."""
    n = len(theme_sets)
    target = [[0.0] * n for _ in range(n)]
    mask = [[0.0] * n for _ in range(n)]
    for i, a in enumerate(theme_sets):
        for j, b in enumerate(theme_sets):
            if i != j and (a or b):
                target[i][j] = len(a & b) / len(a | b)
                mask[i][j] = 1.0
    return target, mask


def fine_tune(out: Path, epochs: int, seed: int = 0) -> None:
    import torch
    from sentence_transformers import SentenceTransformer

    settings = load_settings()
    torch.set_num_threads(os.cpu_count() or 1)
    torch.manual_seed(seed)
    rng = random.Random(seed)
    codebook = load_codebook(settings.training_data_dir / "themes.toml")
    examples = list(load_labelled(settings.training_data_dir / "documents", codebook).without_boilerplate().examples)
    model = SentenceTransformer(str(resolve_model_path(settings.embedding_model)), device="cpu",
                                local_files_only=True)
    serving_length = model.max_seq_length
    model.max_seq_length = TRAIN_LENGTH
    prepare = getattr(model, "preprocess", None) or model.tokenize   # renamed in sentence-transformers 5.7
    steps = epochs * (len(examples) // BATCH)
    optimiser = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / (WARMUP * steps)) * max(0.0, 1.0 - s / steps))
    print(f"fine-tuning on {len(examples)} paragraphs, {epochs} epochs of {steps // epochs} batches", flush=True)
    model.train()
    started, step = time.perf_counter(), 0
    for _ in range(epochs):
        order = list(range(len(examples)))
        rng.shuffle(order)
        for b in range(0, len(order) - BATCH + 1, BATCH):
            batch = [examples[i] for i in order[b:b + BATCH]]
            vectors = model(prepare([e.text for e in batch]))["sentence_embedding"]
            vectors = torch.nn.functional.normalize(vectors, dim=1)
            target, mask = (torch.tensor(m) for m in pair_targets([set(e.themes) for e in batch]))
            loss = (((vectors @ vectors.T - target) ** 2) * mask).sum() / mask.sum()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            step += 1
            if step % 50 == 0:
                print(f"  step {step}/{steps}, loss {loss.item():.4f}, {time.perf_counter() - started:.0f} s", flush=True)
    model.eval()
    model.max_seq_length = serving_length   # serve with the shipped model's truncation
    model.save(str(out))
    # sentence-transformers 5 writes the truncation into the tokenizer's config only; keep it at the serving length
    config = out / "tokenizer_config.json"
    config.write_text(config.read_text().replace(f'"model_max_length": {TRAIN_LENGTH}',
                                                 f'"model_max_length": {serving_length}'))
    print(f"fine-tuned in {time.perf_counter() - started:.0f} s -> {out}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="joinedup-finetune-"))
    encoder = work / "encoder"
    if not (encoder / "modules.json").exists():
        fine_tune(encoder, args.epochs)
    env = {**os.environ, "JOINEDUP_EMBEDDING_MODEL": str(encoder), "JOINEDUP_MODELS_DIR": str(work / "models"),
           "JOINEDUP_DATA_DIR": str(work / "data")}
    joinedup = Path(sys.executable).with_name("joinedup")   # the project's own command, beside this Python
    subprocess.run([str(joinedup), "train"], cwd=ROOT, env=env, check=True)
    for extra in ([], ["--gold-units"]):
        subprocess.run([sys.executable, str(ROOT / "bench" / "probes.py"), "--models", str(work / "models"), *extra],
                       cwd=ROOT, env=env, check=True)


if __name__ == "__main__":
    main()
