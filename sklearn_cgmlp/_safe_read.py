"""Reading untrusted input: ``.npz`` archives, their arrays and JSON values.

Nothing here trusts a size, a type or a nesting depth that the input declares:
the zip directory and each ``.npy`` header are checked against each other (and,
by the caller, against the metadata) before any array data is read, and every
defect is reported by :func:`fail` as a ValueError.
"""

import contextlib
import json
import math
import os
import reprlib
import stat
import zipfile
import zlib
from collections import namedtuple

import numpy as np
from numpy.lib import format as npy_format

# Our files are stored uncompressed and float weights barely compress; an
# archive that inflates more than this is a compression bomb.
MAX_COMPRESSION_RATIO = 100
# Our metadata nests four levels deep (metadata, params, class_weight, labels);
# a deeper structure is refused before anything (repr in an error message
# included) recurses into it.
MAX_JSON_DEPTH = 8
MAX_INT_DIGITS = 100
# What zipfile, zlib and numpy raise on a damaged archive or .npy stream
# (zipfile raises NotImplementedError for a version or flag it does not know).
_READ_ERRORS = (
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,
    zipfile.BadZipFile,
    zlib.error,
)


class InvalidModelFile(ValueError):
    """The loader's ValueError; ``reason`` is the message without its prefix.

    Parameters
    ----------
    reason : str
        What is wrong with the file.
    """

    def __init__(self, reason):
        super().__init__(f"Invalid sklearn-cgmlp model file: {reason}")
        self.reason = reason


def fail(message):
    """Raise the loader's ValueError."""
    raise InvalidModelFile(message)


short = reprlib.Repr()
short.maxstring = short.maxother = 60


# ------------------------------------------------------ JSON value checks
# A checker takes the key's name and its JSON value and fails unless the
# value is of the expected type and range.
def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def is_real(value):
    return isinstance(value, int | float) and not isinstance(value, bool)


def integer(minimum):
    def check(name, value):
        if not is_int(value) or value < minimum:
            fail(f"{name}={short.repr(value)} is not an integer >= {minimum}.")

    return check


def finite(name, value):
    if not is_real(value) or not math.isfinite(value):
        fail(f"{name}={short.repr(value)} is not a finite number.")


def of_type(kind, description):
    def check(name, value):
        if not isinstance(value, kind):
            fail(f"{name}={short.repr(value)} is not {description}.")

    return check


def one_of(*options):
    def check(name, value):
        if not isinstance(value, str) or value not in options:
            fail(f"{name}={short.repr(value)} is not one of {options}.")

    return check


def optional(checker):
    def check(name, value):
        if value is not None:
            checker(name, value)

    return check


def list_of(checker):
    def check(name, value):
        if not isinstance(value, list):
            fail(f"{name}={short.repr(value)} is not a list.")
        for i, item in enumerate(value):
            checker(f"{name}[{i}]", item)

    return check


# ------------------------------------------------------------------- JSON
def _unique_keys(pairs):
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("a key appears twice in an object")
    return dict(pairs)


def _bounded_int(text):
    # int() of a long digit string takes quadratic time where Python does not
    # limit the digits itself (before 3.10.7); ours have at most a dozen.
    if len(text) > MAX_INT_DIGITS:
        raise ValueError(f"an integer of {len(text)} digits")
    return int(text)


def parse_json(text):
    """The JSON value of the metadata ``text``, no deeper than MAX_JSON_DEPTH."""
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys, parse_int=_bounded_int)
    except RecursionError:
        fail("metadata is nested too deeply.")
    except ValueError as exc:  # JSONDecodeError, or from the hooks
        fail(f"metadata is not JSON ({exc}).")
    stack = [(value, 1)]
    while stack:  # no recursion: the depth is what is being checked
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                fail("metadata is nested too deeply.")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return value


# ------------------------------------------------------------------- archive
_Header = namedtuple("_Header", "shape fortran_order dtype")
_NPY_HEADER_READERS = {
    (1, 0): npy_format.read_array_header_1_0,
    (2, 0): npy_format.read_array_header_2_0,
}


class Archive:
    """The members of an ``.npz`` zip, checked before any of them is read.

    ``length`` is the size of the file that holds the zip, ``allowed`` a
    regular expression that every member name must match.
    """

    def __init__(self, zf, length, allowed):
        self._zf = zf
        infos = zf.infolist()
        self.members = {info.filename: info for info in infos}
        if len(self.members) != len(infos):
            fail("the archive holds two members of the same name.")
        unknown = sorted(n for n in self.members if not allowed.fullmatch(n))
        if unknown:
            fail(f"unexpected arrays {short.repr(unknown)}.")
        for info in infos:
            if info.flag_bits & 0x1:
                fail(f"member {info.filename!r} is encrypted.")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                fail(f"member {info.filename!r} uses an unsupported compression.")
            if (
                info.compress_type == zipfile.ZIP_STORED
                and info.compress_size != info.file_size
            ):
                fail(f"member {info.filename!r} has inconsistent sizes.")
        packed = sum(info.compress_size for info in infos)
        unpacked = sum(info.file_size for info in infos)
        if packed > length:
            fail("the zip directory claims more data than the file holds.")
        if unpacked > MAX_COMPRESSION_RATIO * max(packed, 1):
            fail(f"the archive inflates {packed} bytes to {unpacked} bytes.")

    def has(self, name):
        return f"{name}.npy" in self.members

    def header(self, name):
        """Shape, order and dtype of array ``name``; its data is not read."""
        info = self.members[f"{name}.npy"]
        read_header = None
        try:
            with self._zf.open(info) as fp:
                version = npy_format.read_magic(fp)
                read_header = _NPY_HEADER_READERS.get(version)
                if read_header is not None:
                    shape, fortran_order, dtype = read_header(fp)
                    header_size = fp.tell()
        except Exception as exc:
            # numpy parses the header with ast.literal_eval, tokenize (for
            # Python 2 headers) and np.dtype, which raise TypeError,
            # TokenError, RecursionError... on hostile text, beside what zipfile
            # raises on a damaged entry.
            fail(f"array {name!r} is not a valid .npy array ({exc}).")
        if read_header is None:
            fail(f"array {name!r} has .npy format version {version}.")
        if dtype.hasobject:
            fail(f"array {name!r} holds Python objects, which would need pickle.")
        if any(n < 0 for n in shape) or (
            header_size + math.prod(shape) * dtype.itemsize != info.file_size
        ):
            fail(
                f"array {name!r} declares shape {short.repr(shape)} of {dtype} but "
                f"its zip entry holds {info.file_size} bytes."
            )
        return _Header(shape, fortran_order, dtype)

    def read(self, name, header):
        """The data of array ``name``, whose ``header`` was checked."""
        try:
            with self._zf.open(self.members[f"{name}.npy"]) as fp:
                array = npy_format.read_array(fp, allow_pickle=False)
        except _READ_ERRORS as exc:
            fail(f"array {name!r} could not be read ({exc}).")
        if array.shape != header.shape or array.dtype != header.dtype:
            fail(f"array {name!r} changed while it was read.")  # pragma: no cover
        array = array.astype(array.dtype.newbyteorder("="), copy=False)
        if array.dtype.kind == "U" and array.size and array.dtype.itemsize:
            # numpy builds strings from any 32-bit code, Python holds < 0x110000.
            codes = np.ascontiguousarray(array).reshape(-1).view(np.uint32)
            if codes.max() > 0x10FFFF:
                fail(f"array {name!r} holds invalid characters.")
        return array


@contextlib.contextmanager
def open_archive(file, allowed):
    """Yield an :class:`Archive` of ``file``, a path or a binary file object."""
    if isinstance(file, str | bytes | os.PathLike):
        # OSError (no such file, no permission) is left to the caller as usual;
        # stat first so that a FIFO or a device is never opened.
        if not stat.S_ISREG(os.stat(file).st_mode):
            fail(f"{file!r} is not a regular file.")
        with open(file, "rb") as fp:
            with _open_zip(fp, allowed) as archive:
                yield archive
    elif callable(getattr(file, "read", None)) and callable(
        getattr(file, "seek", None)
    ):
        with _open_zip(file, allowed) as archive:
            yield archive
    else:
        fail(f"expected a path or a binary file object, got {type(file).__name__}.")


@contextlib.contextmanager
def _open_zip(fp, allowed):
    try:
        probe = fp.read(0)
        start = fp.tell()
        fp.seek(0, os.SEEK_END)
        length = fp.tell()
        fp.seek(start)
        zf = None if not isinstance(probe, bytes) else zipfile.ZipFile(fp)
    except _READ_ERRORS as exc:
        fail(f"not a readable .npz (zip) archive ({exc}).")
    if zf is None:
        fail("the file is not opened in binary mode.")
    with zf:
        yield Archive(zf, length, allowed)
