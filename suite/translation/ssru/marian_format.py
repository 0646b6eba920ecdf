"""Marian's binary model format (``*.bin``): read and write a list of named tensors.

The layout (little-endian, as Marian's ``io::binary`` writes it):

- ``uint64`` version (1) and ``uint64`` tensor count;
- per tensor four ``uint64``: name length (with its NUL), type, shape length, data length;
- the NUL-terminated names, then the ``int32`` shapes, back to back;
- a ``uint64`` padding length and that many padding bytes, so that the data starts on a
  256-byte boundary;
- each tensor's data block; numeric blocks padded to a multiple of 256 bytes (Marian pads
  them with whatever its allocator held; this module writes zeros), the configuration's
  byte block not padded.

Three types occur in Firefox Translations models: ``0x404`` float32, ``0x101`` raw bytes
(``special:model.yml``, the model's configuration), and ``0x4101`` intgemm int8: the
matrix's int8 values followed by one float32 multiplier ``scale`` (value = int8 / scale,
scale = 127 / max |value| when written by ``marian-conv``). Int8 matrices other than
``Wemb`` are stored transposed: the header keeps the logical shape (in x out) but the
bytes run out x in, which is exactly the layout of a ``torch.nn.Linear`` weight.
:class:`MarianTensor` keeps ``values`` in that stored order, so a round trip is exact.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

VERSION = 1
ALIGN = 256
TYPE_FLOAT32 = 0x404
TYPE_BYTES = 0x101
TYPE_INT8 = 0x4101
_KINDS = {TYPE_FLOAT32: "float32", TYPE_BYTES: "bytes", TYPE_INT8: "int8"}
_TYPES = {kind: code for code, kind in _KINDS.items()}


class MarianFormatError(ValueError):
    """A file that is not a Marian binary model this module can read."""


@dataclass
class MarianTensor:
    """One named tensor of a Marian binary model.

    Attributes:
        name: Marian's parameter name (``encoder_l1_self_Wq``, ``special:model.yml``...).
        kind: ``"float32"``, ``"int8"`` or ``"bytes"``.
        shape: the header's (logical) shape.
        values: the data in stored order: a float32 or int8 array (transposed int8
            matrices have shape ``shape[::-1]``), or ``bytes`` for kind ``"bytes"``.
        scale: int8 only: the quantisation multiplier (value = int8 / scale).
    """

    name: str
    kind: str
    shape: tuple[int, ...]
    values: object = field(repr=False)
    scale: float = 1.0

    @property
    def stored_transposed(self) -> bool:
        """Whether the bytes hold the matrix transposed (int8 matrices except ``Wemb``)."""
        return self.kind == "int8" and "Wemb" not in self.name and len(self.shape) == 2

    def as_float(self) -> np.ndarray:
        """The values as float32 in stored order (int8 de-quantised: int8 / scale)."""
        if self.kind == "bytes":
            raise MarianFormatError(f"{self.name}: a byte tensor has no float values")
        if self.kind == "int8":
            return self.values.astype(np.float32) / np.float32(self.scale)
        return np.asarray(self.values, dtype=np.float32)


def quantize_int8(values: np.ndarray) -> tuple[np.ndarray, float]:
    """Quantise like ``marian-conv --gemm-type intgemm8``: scale = 127 / max |x|, round to nearest even.

    Args:
        values: a float array.

    Returns:
        (int8 array of the same shape, the float32 scale); an all-zero array gets scale 1.
    """
    values = np.asarray(values, dtype=np.float32)
    peak = float(np.abs(values).max()) if values.size else 0.0
    scale = np.float32(127.0) / np.float32(peak) if peak > 0 else np.float32(1.0)
    quantized = np.clip(np.rint(values * scale), -127, 127).astype(np.int8)
    return quantized, float(scale)


def read_marian(path: str | Path) -> list[MarianTensor]:
    """Read every tensor of a Marian binary model file.

    Args:
        path: the ``.bin`` file.

    Returns:
        The tensors in file order.

    Raises:
        MarianFormatError: a wrong version, an unknown tensor type or a truncated file.
    """
    data = Path(path).read_bytes()
    if len(data) < 16:
        raise MarianFormatError(f"{path}: too short for a Marian binary model")
    version, count = struct.unpack_from("<QQ", data, 0)
    if version != VERSION:
        raise MarianFormatError(f"{path}: binary format version {version}, expected {VERSION}")
    headers = [struct.unpack_from("<QQQQ", data, 16 + 32 * i) for i in range(count)]
    offset = 16 + 32 * count
    names = []
    for name_length, *_ in headers:
        names.append(data[offset:offset + name_length].rstrip(b"\0").decode("utf-8"))
        offset += name_length
    shapes = []
    for _, _, shape_length, _ in headers:
        shapes.append(struct.unpack_from(f"<{shape_length}i", data, offset))
        offset += 4 * shape_length
    (padding,) = struct.unpack_from("<Q", data, offset)
    offset += 8 + padding
    tensors = []
    for name, (_, code, _, length), shape in zip(names, headers, shapes):
        if offset + length > len(data):
            raise MarianFormatError(f"{path}: truncated in tensor {name}")
        tensors.append(_decode(name, code, tuple(shape), data, offset))
        offset += length
    return tensors


def _decode(name: str, code: int, shape: tuple[int, ...], data: bytes, offset: int) -> MarianTensor:
    kind = _KINDS.get(code)
    size = int(np.prod(shape)) if shape else 1
    if kind is None:
        raise MarianFormatError(f"tensor {name}: unsupported Marian type {code:#x}")
    if kind == "bytes":
        return MarianTensor(name, kind, shape, data[offset:offset + size])
    if kind == "float32":
        return MarianTensor(name, kind, shape, np.frombuffer(data, np.float32, size, offset).reshape(shape).copy())
    values = np.frombuffer(data, np.int8, size, offset).copy()
    (scale,) = struct.unpack_from("<f", data, offset + size)
    tensor = MarianTensor(name, kind, shape, values, scale)
    tensor.values = values.reshape(shape[::-1] if tensor.stored_transposed else shape)
    return tensor


def _payload(tensor: MarianTensor) -> bytes:
    if tensor.kind not in _TYPES:
        raise MarianFormatError(f"tensor {tensor.name}: unknown kind {tensor.kind!r}")
    if tensor.kind == "bytes":
        return bytes(tensor.values)
    if tensor.kind == "float32":
        return np.ascontiguousarray(tensor.values, dtype="<f4").tobytes()
    return np.ascontiguousarray(tensor.values, dtype=np.int8).tobytes() + struct.pack("<f", tensor.scale)


def write_marian(path: str | Path, tensors: list[MarianTensor]) -> None:
    """Write ``tensors`` as a Marian binary model file (in the given order; Marian sorts by name).

    Args:
        path: the ``.bin`` file to write.
        tensors: what to write; ``values`` in stored order (see :class:`MarianTensor`).

    Raises:
        MarianFormatError: a tensor of unknown kind.
    """
    payloads = [_payload(t) for t in tensors]
    blocks = [p if t.kind == "bytes" else p + b"\0" * (-len(p) % ALIGN) for t, p in zip(tensors, payloads)]
    names = [t.name.encode("utf-8") + b"\0" for t in tensors]
    head = [struct.pack("<QQ", VERSION, len(tensors))]
    head += [struct.pack("<QQQQ", len(n), _TYPES[t.kind], len(t.shape), len(b))
             for n, t, b in zip(names, tensors, blocks)]
    head += names + [struct.pack(f"<{len(t.shape)}i", *t.shape) for t in tensors]
    position = sum(len(part) for part in head)
    padding = ((position + 8) // ALIGN + 1) * ALIGN - position - 8
    head.append(struct.pack("<Q", padding) + b"\0" * padding)
    with open(path, "wb") as handle:
        handle.write(b"".join(head))
        for block in blocks:
            handle.write(block)


def model_config_text(tensors: list[MarianTensor]) -> str:
    """The YAML text of the ``special:model.yml`` tensor ("" when the file has none)."""
    for tensor in tensors:
        if tensor.name == "special:model.yml":
            return bytes(tensor.values).rstrip(b"\0").decode("utf-8")
    return ""
