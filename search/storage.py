"""Index storage for the server: segment files read with ``pread``, one open file per
segment file and process, shared by every reader.

Whoosh's CompoundStorage maps a ``.seg`` file, then opens each file inside it as a
``BufferFile``, which wraps its slice in ``BytesIO`` and so copies it onto the heap. Each
reader does this, and the server keeps a reader per thread: on the 24k index every
searcher copied ~103 MB (stored fields, postings, terms) and mapped the 108 MB file once
more, 1.77 GB RSS under 8 threads.

Here a read copies only the bytes it returns, from one descriptor per file. Not a map:
every page a map has touched counts in the process's resident memory, so a server on a
multi-gigabyte index grew towards the index's size (366 MB of mapped pages after 500
searches at 100,000 articles, more than its own tables). Read pages stay in the kernel's
page cache, shared and reclaimable, as for any database reading its files. A segment
file is never written again once committed, so sharing its descriptor is safe.
"""

from __future__ import annotations

import os
import threading
import weakref
from pathlib import Path
from typing import Any

from whoosh.codec.base import Segment
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import BufferFile

# Whoosh reads a posting block's header with pickle.load: the file interface reads
# ahead this much, and offers it to pickle through ``peek`` so that pickle parses the
# header in one call rather than some twenty small reads.
READ_AHEAD = 8192
# Reads up to this size (term-table entries) are served from the read-ahead window.
SMALL_READ = 512


class SegmentFile:
    """One open file, read with ``pread`` (positioned: safe to share between threads);
    closed when the last range over it goes."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_RDONLY)
        self.size = os.fstat(self.fd).st_size

    def read(self, offset: int, length: int) -> bytes:
        return os.pread(self.fd, length, offset)

    def __del__(self) -> None:
        if hasattr(self, "fd"):  # not when the open itself failed
            os.close(self.fd)


_FILES: weakref.WeakValueDictionary[tuple[str, int, int, int], SegmentFile] = (
    weakref.WeakValueDictionary()
)
_FILES_LOCK = threading.Lock()


def shared_file(path: str) -> SegmentFile:
    """The process's open ``path``; a replaced file (new inode or size) is opened anew."""
    stat = Path(path).stat()
    key = (path, stat.st_ino, stat.st_size, stat.st_mtime_ns)
    with _FILES_LOCK:
        opened = _FILES.get(key)
        if opened is None:
            opened = SegmentFile(path)
            _FILES[key] = opened
        return opened


class FileRange:
    """Bytes [start, end) of a segment file, sliced like the ``memoryview`` BufferFile
    expects; the bytes are read when asked for (``bytes()``, ``tobytes()``)."""

    __slots__ = ("end", "file", "start")

    def __init__(self, file: SegmentFile, start: int, end: int) -> None:
        self.file, self.start, self.end = file, start, end

    def __len__(self) -> int:
        return self.end - self.start

    def __getitem__(self, key: slice | int) -> Any:
        if isinstance(key, slice):
            start, stop, _ = key.indices(len(self))
            return FileRange(self.file, self.start + start, self.start + max(start, stop))
        if key < 0:
            key += len(self)
        if not 0 <= key < len(self):
            raise IndexError("file range index out of range")
        return self.file.read(self.start + key, 1)[0]

    def tobytes(self) -> bytes:
        return self.file.read(self.start, len(self))

    __bytes__ = tobytes


class _RangeIO:
    """The file interface StructFile and pickle use, over a FileRange, reading ahead."""

    def __init__(self, data: FileRange) -> None:
        self._data = data
        self._size = len(data)
        self._pos = 0
        self._ahead = b""
        self._ahead_at = 0

    def _bytes(self, start: int, end: int) -> bytes:
        ahead_end = self._ahead_at + len(self._ahead)
        if not (self._ahead_at <= start and end <= ahead_end):
            self._ahead_at = start
            self._ahead = self._data[start : max(end, start + READ_AHEAD)].tobytes()
        return self._ahead[start - self._ahead_at : end - self._ahead_at]

    def read(self, size: int | None = -1) -> bytes:
        start = min(self._pos, self._size)
        end = self._size if size is None or size < 0 else min(start + size, self._size)
        self._pos = end
        return self._bytes(start, end)

    def peek(self, size: int = 0) -> bytes:
        """What follows, without moving: at least one byte before the end, at most the
        read-ahead."""
        start = min(self._pos, self._size)
        return self._bytes(start, min(start + READ_AHEAD, self._size))

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(memoryview(buffer)))
        memoryview(buffer)[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        start = min(self._pos, self._size)
        limit = self._size if size is None or size < 0 else min(start + size, self._size)
        # Pickle calls readline only for its rare text opcodes: a byte-wise scan is enough.
        end = start
        while end < limit:
            end += 1
            if self._bytes(end - 1, end) == b"\n":
                break
        self._pos = end
        return self._bytes(start, end)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_CUR:
            offset += self._pos
        elif whence == os.SEEK_END:
            offset += self._size
        if offset < 0:
            raise ValueError("negative seek position")
        self._pos = offset
        return offset

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        pass  # the descriptor is shared; it closes when its last range goes


class RangeFile(BufferFile):
    """A Whoosh file over part of a shared segment file. Not a real file (no ``fileno``),
    so CompoundStorage opens the files inside it through ``subset``, without copying."""

    def __init__(self, data: FileRange, name: str | None = None) -> None:
        # Not BufferFile.__init__: its BytesIO(buf) is the copy this module avoids.
        self._buf = data
        self._name = name
        self.file = _RangeIO(data)
        self.onclose = None
        self.is_real = False
        self.is_closed = False

    def get(self, position: int, length: int) -> bytes:
        # BufferFile.get, without a FileRange made for each read; small reads (term table
        # entries, read one after another when a field's terms are listed) come from
        # the read-ahead window.
        data = self._buf
        start = min(max(position, 0), len(data))
        end = max(start, min(position + length, len(data)))
        if end - start > SMALL_READ:
            return data.file.read(data.start + start, end - start)
        return self.file._bytes(start, end)

    def subset(self, position: int, length: int, name: str | None = None) -> RangeFile:
        return RangeFile(self._buf[position : position + length], name=name or self._name)


class SharedFileStorage(FileStorage):
    """A FileStorage whose compound segment files are read through shared descriptors."""

    def open_file(self, name: str, **kwargs: Any) -> Any:
        if name.endswith(Segment.COMPOUND_EXT) and not kwargs:
            opened = shared_file(str(Path(self.folder, name).resolve()))
            return RangeFile(FileRange(opened, 0, opened.size), name=name)
        return super().open_file(name, **kwargs)
