"""A randomly initialised PubMedBERT-shaped text tower, built offline.

BiomedCLIP's text tower is PubMedBERT: BERT-base, uncased, with a 30,522-token in-domain
WordPiece vocabulary. Where its weights are not on disk (no hub access), we write the same
architecture as a Hugging Face folder without weights (so open_clip initialises it randomly)
and a WordPiece vocabulary trained on our own captions. The embedding table keeps 30,522
rows even when the captions yield fewer tokens, so parameter count and step cost match
the real model: right for throughput checks and for training from scratch.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tokenizers import BertWordPieceTokenizer
from transformers import BertConfig

from . import TrainError

PUBMEDBERT_VOCAB = 30522
# [PAD] first: open_clip masks attention where token == config.pad_token_id (0).
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def train_wordpiece(captions: Iterable[str], vocab_size: int = PUBMEDBERT_VOCAB) -> list[str]:
    """An uncased WordPiece vocabulary (tokens in id order) learned from ``captions``."""
    tokenizer = BertWordPieceTokenizer(lowercase=True)
    tokenizer.train_from_iterator(
        captions, vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, show_progress=False
    )
    vocab = tokenizer.get_vocab()
    if len(vocab) <= len(SPECIAL_TOKENS):
        raise TrainError("no caption text to learn a vocabulary from: are the shards empty?")
    return sorted(vocab, key=vocab.__getitem__)


def write_random_bert(dest: Path, captions: Iterable[str]) -> Path:
    """Write ``config.json`` (BERT-base) and ``vocab.txt`` to ``dest`` (kept if present).

    The same two files as the PubMedBERT repository minus its weights, so the tokenizer
    loads through the same ``AutoTokenizer`` path as the real model.
    """
    if (dest / "config.json").is_file():
        return dest
    vocab = train_wordpiece(captions)
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    BertConfig(vocab_size=PUBMEDBERT_VOCAB, pad_token_id=0).save_pretrained(dest)
    return dest
