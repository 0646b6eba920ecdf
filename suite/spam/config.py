"""The spam recipe's own sections: ``data``, ``model`` and ``evaluation`` (dataclasses with help text).

Saved with every model (``model/suite.json``) and rebuilt from it by the same round trip
(:func:`suite.core.config.save_settings` / ``load_settings``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from suite.core.blend import ProbabilityHybridConfig, check_settings
from suite.core.config import SEED_BOUNDS, between
from suite.core.label_budget import LabelBudget
from suite.core.metrics.paired import check_compare_with
from suite.core.recipe import ModelConfig
from suite.spam.baselines import BASELINES

BUNDLED_NAME = "spamassassin"


@dataclass
class SpamDataConfig(LabelBudget):
    """The recipe's ``data`` section for spam."""

    source: str = field(default=BUNDLED_NAME, metadata={
        "help": "spamassassin (the bundled corpus), a .csv/.tsv/.jsonl/.ndjson file (optionally .gz), or a folder "
                "whose subfolders named like spam/ and ham/ (spam_2/, easy_ham/...) hold .eml or .mbox files."})
    text_column: str = field(default="text", metadata={"help": "Column holding the message text (tables)."})
    label_column: str = field(default="label", metadata={"help": "Column holding the label (tables)."})
    spam_labels: list[str] = field(default_factory=lambda: ["spam", "1", "true", "yes"], metadata={
        "help": "Label values that mean spam (compared case-insensitively)."})
    ham_labels: list[str] = field(default_factory=lambda: ["ham", "0", "false", "no"], metadata={
        "help": "Label values that mean ham; any value in neither list is an error."})
    include_headers: bool = field(default=False, metadata={
        "help": "Put safe sender headers (From, Reply-To, To, Date, X-Mailer, Content-Type, Received count) "
                "before the text."})
    test_size: float = field(default=0.2, metadata={
        "bounds": between(0, 1, low_open=True, high_open=True), "help": "Share of the messages held out for testing."})
    validation_size: float = field(default=0.1, metadata={"bounds": between(0, 1, low_open=True, high_open=True),
        "help": "Share of the remaining messages used to pick checkpoints and thresholds."})
    max_examples: int | None = field(default=None, metadata={"bounds": between(20, 10 ** 9),
        "help": "Keep a stratified random sample of this many messages (after deduplication, before splitting)."})
    seed: int = field(default=0, metadata={"bounds": SEED_BOUNDS, "help": "Seed of the sample and the split."})

    def __post_init__(self):
        def check(ok: bool, name: str, expected: str):
            if not ok:
                raise ValueError(f"{name}: expected {expected}, got {getattr(self, name)!r}")

        for name in ("source", "text_column", "label_column"):
            value = getattr(self, name)
            check(isinstance(value, str) and value.strip() != "", name, "a non-empty string")
        for name in ("spam_labels", "ham_labels"):
            check(isinstance(getattr(self, name), (list, tuple)) and len(getattr(self, name)) > 0, name,
                  "a non-empty list of label values")
            setattr(self, name, [label_key(v) for v in getattr(self, name)])
        check(not set(self.spam_labels) & set(self.ham_labels), "ham_labels", "no value that is also in spam_labels")


@dataclass
class SpamModelConfig(ModelConfig):
    """The recipe's ``model`` section for spam."""

    source: str = field(default="bundled:minilm", metadata={
        "help": "A bundled name (bundled:minilm), a local folder or file, or a Hugging Face hub id."})
    max_length: int = field(default=128, metadata={
        "bounds": between(8, 8192), "help": "Tokens kept per message (the rest is cut)."})
    tail_tokens: int = field(default=0, metadata={"bounds": between(0, 8184),
        "help": "Of a message longer than max_length, keep this many tokens from its end and the rest from its "
                "start (head-and-tail truncation: a signature, an unsubscribe footer); 0 keeps only the start."})
    pad_to_max_length: bool = field(default=False, metadata={
        "help": "Pad every message to max_length (the naive way; only for benchmarking dynamic padding)."})
    class_weights: bool = field(default=False, metadata={
        "help": "Weight the loss by inverse class frequency, for imbalanced data."})

    def __post_init__(self):
        if self.tail_tokens > self.max_length - 8:
            raise ValueError(f"tail_tokens: expected an integer from 0 to max_length - 8 ({self.max_length - 8}), "
                             f"got {self.tail_tokens!r}")


@dataclass
class SpamEvalConfig(ProbabilityHybridConfig):
    """The recipe's ``evaluation`` section for spam."""

    target_fpr: float = field(default=0.001, metadata={"bounds": between(0, 1, high_open=True),
        "help": "Largest share of ham that may be flagged at the operating threshold (0.001 = 0.1%)."})
    baselines: list[str] = field(default_factory=lambda: ["tfidf-logreg", "naive-bayes"], metadata={
        "help": "Classical baselines trained on the same split: tfidf-logreg, naive-bayes."})
    threshold_table: list[float] = field(default_factory=lambda: [0.1, 0.3, 0.5, 0.7, 0.9, 0.99], metadata={
        "bounds": between(0, 1, low_open=True, high_open=True),
        "help": "Thresholds listed in the report's threshold table."})
    compare_with: list[str] = field(default_factory=list, metadata={
        "help": "Baselines the tuned model and the hybrid are also compared with by the paired bootstrap (the "
                "one of the best test F1 always is), e.g. [naive-bayes]."})
    hybrid_operating_weight: float = field(default=0.1, metadata={"bounds": between(0, 1),
        "help": "The validation score that picks the hybrid's weights is F1 at 0.5 plus this x the recall at the "
                "threshold chosen for target_fpr (0: F1 alone); it keeps away blends that saturate at the top."})

    def __post_init__(self):
        for name in self.baselines:
            if name not in BASELINES:
                raise ValueError(f"baselines: unknown baseline {name!r} (known: {', '.join(BASELINES)})")
        check_settings(self.hybrid_with, self.hybrid_weights, self.baselines)
        check_compare_with(self.compare_with, self.baselines)


def label_key(value) -> str:
    """Labels compare as lower-case strings; YAML/JSON booleans and whole floats (1.0) as "true"/"1"."""
    if isinstance(value, bool) or isinstance(value, float) and value.is_integer():
        return str(value).lower() if isinstance(value, bool) else str(int(value))
    return str(value).strip().lower()

