"""Index storage for the server: one shared, zero-copy memory map per segment file.

Whoosh's CompoundStorage maps a ``.seg`` file, then opens each file inside it as a
``BufferFile``, which wraps its slice in ``BytesIO`` and so copies it onto the heap. Each
reader does this, and the server keeps a reader per thread: on the 24k index every
searcher copied ~103 MB (stored fields, postings, terms) and mapped the 108 MB file once
more (resident pages count once per mapping), 1.77 GB RSS under 8 threads.

Here every ``.seg`` file is mapped once per process and shared by all readers; the files
inside are views into that map, and a read copies only the bytes it returns. A segment
file is never written again once committed, so sharing its map between generations is safe.
"""

from __future__ import annotations

import mmap
import os
import threading
import weakref
from pathlib import Path
from typing import Any

from whoosh.codec.base import Segment
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import BufferFile


class _Mapping:
    """One read-only map of a file; alive while any file opened over it is."""

    def __init__(self, path: str) -> None:
        with open(path, "rb") as handle:  # noqa: PTH123 - the map outlives the handle
            self.map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        self.view = memoryview(self.map)


_MAPPINGS: weakref.WeakValueDictionary[tuple[str, int, int, int], _Mapping] = (
    weakref.WeakValueDictionary()
)
_MAPPINGS_LOCK = threading.Lock()


def shared_mapping(path: str) -> _Mapping:
    """The process's map of ``path``; a replaced file (new inode or size) gets a new one."""
    stat = Path(path).stat()
    key = (path, stat.st_ino, stat.st_size, stat.st_mtime_ns)
    with _MAPPINGS_LOCK:
        mapping = _MAPPINGS.get(key)
        if mapping is None:
            mapping = _Mapping(path)
            _MAPPINGS[key] = mapping
        return mapping


class _ViewIO:
    """The file interface StructFile and pickle use, over a memoryview: a read copies
    only what it returns, where BytesIO would copy the whole view up front."""

    def __init__(self, view: memoryview) -> None:
        self._view = view
        self._pos = 0

    def read(self, size: int | None = -1) -> bytes:
        start = min(self._pos, len(self._view))
        end = len(self._view) if size is None or size < 0 else min(start + size, len(self._view))
        self._pos = end
        return self._view[start:end].tobytes()

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(memoryview(buffer)))
        memoryview(buffer)[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        start = min(self._pos, len(self._view))
        limit = len(self._view) if size is None or size < 0 else min(start + size, len(self._view))
        # Pickle calls readline only for its rare text opcodes: a byte-wise scan is enough.
        end = start
        while end < limit:
            end += 1
            if self._view[end - 1] == 0x0A:
                break
        self._pos = end
        return self._view[start:end].tobytes()

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_CUR:
            offset += self._pos
        elif whence == os.SEEK_END:
            offset += len(self._view)
        if offset < 0:
            raise ValueError("negative seek position")
        self._pos = offset
        return offset

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        pass  # the view belongs to the shared map, which closes when its last file goes


class MappedFile(BufferFile):
    """A Whoosh file over part of a shared map. Not a real file (no ``fileno``), so
    CompoundStorage opens the files inside it through ``subset``, without copying."""

    def __init__(self, mapping: _Mapping, view: memoryview, name: str | None = None) -> None:
        # Not BufferFile.__init__: its BytesIO(view) is the copy this module avoids.
        self._buf = view
        self._name = name
        self.file = _ViewIO(view)
        self.onclose = None
        self.is_real = False
        self.is_closed = False
        self._mapping = mapping  # keeps the map open as long as this file

    def subset(self, position: int, length: int, name: str | None = None) -> MappedFile:
        view = self._buf[position : position + length]
        return MappedFile(self._mapping, view, name=name or self._name)


class SharedMapStorage(FileStorage):
    """A FileStorage whose compound segment files come from the process's shared maps."""

    def open_file(self, name: str, **kwargs: Any) -> Any:
        if name.endswith(Segment.COMPOUND_EXT) and not kwargs:
            mapping = shared_mapping(str(Path(self.folder, name).resolve()))
            return MappedFile(mapping, mapping.view, name=name)
        return super().open_file(name, **kwargs)
