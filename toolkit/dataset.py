"""A dataset-like view of one archive: ``len``, iteration, ``archive[id]``, tables, vectors.

Example::

    import toolkit

    archive = toolkit.open("clarifai-data-protobuf.zip")     # or a catalog ref "birds@v2"
    print(len(archive), archive["img-0001"].data.concepts[0].id)
    ids, matrix = archive.embeddings()                       # float32 (n, d)
    df = archive.filter(concepts=["cat"]).to_pandas(columns=["id", "concepts"])
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import orjson

from ._prefault import Prefaulter
from .archive import ArchiveReader
from .errors import ArchiveError, InputNotFoundError, SchemaError, ToolkitError
from .input_ids import InputIds, InputIdsBuilder
from .limits import DEFAULT_LIMITS, Limits
from .messages import Input
from .metrics import ConceptCount, Metrics, compute_metrics
from .subset import FilterCriteria

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from .index import Hit, SimilarityIndex
    from .tabular.rows import RowOptions

__all__ = ["Archive", "open_archive"]

#: Names of an index folder found beside ``NAME.zip``: ``NAME-index``, ``NAME.index``.
_INDEX_SUFFIXES = ("-index", ".index")


def open_archive(
    path_or_ref: str | os.PathLike[str],
    *,
    home: str | os.PathLike[str] | None = None,
    index: str | os.PathLike[str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Archive:
    """Open an archive file, or the archive of a catalog reference ``DATASET[@VERSION]``
    (the latest version without ``@``; ``home``: the catalog's folder). A path that exists
    wins over a catalog name. ``index``: a similarity index folder for :meth:`Archive.search`.

    Example::

        archive = open_archive("birds@v2", home="~/catalog")
    """
    path = Path(path_or_ref)
    if not path.exists():
        path = _resolve_ref(str(path_or_ref), home, limits)
    return Archive(path, limits=limits, index=index)


def _resolve_ref(ref: str, home: str | os.PathLike[str] | None, limits: Limits) -> Path:
    from .catalog import Catalog, parse_ref
    from .errors import CatalogError

    try:
        parsed = parse_ref(ref)
    except CatalogError:
        raise ArchiveError(
            f"{ref}: no such file, and not a catalog reference DATASET[@VERSION]"
        ) from None
    with Catalog(home, limits=limits) as catalog:
        return catalog.resolve(parsed)


class Archive:
    """One archive as a dataset: ``len(archive)``, ``for record in archive``,
    ``archive[input_id]``, ``input_id in archive``, :attr:`metrics`, :meth:`ids`,
    :meth:`concepts`, :meth:`embeddings`, :meth:`to_arrow`, :meth:`to_pandas`,
    :meth:`to_parquet`, :meth:`filter` (a lazy view) and :meth:`search`.

    Records are the parsed ``clarifai.api.Input`` messages. Reading streams batch by
    batch; only :meth:`to_arrow`, :meth:`to_pandas` and :meth:`embeddings` build
    something the size of the archive. Close it (or use ``with``) to release the file.

    Example::

        with toolkit.open("export.zip") as archive:
            cats = archive.filter(concepts=["cat"])
            print(cats)                  # <Archive ... lazy view ...>
            table = cats.to_arrow(columns=["id", "embedding"])
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        limits: Limits = DEFAULT_LIMITS,
        index: str | os.PathLike[str] | None = None,
    ) -> None:
        self.path = Path(path)
        self.limits = limits
        #: The criteria of this view (None: the whole archive); ``_parent`` the view it
        #: narrows.
        self.criteria: FilterCriteria | None = None
        self._parent: Archive | None = None
        self._index_path = Path(index) if index is not None else None
        self._index: SimilarityIndex | None = None
        self._reader = ArchiveReader(self.path, limits=limits)
        self._owner = True
        self._metrics: Metrics | None = None
        self._count: int | None = None

    # -- the Python data model ---------------------------------------------------------

    def __repr__(self) -> str:
        if self.criteria is None:
            return f"<Archive {str(self.path)!r}: {len(self)} inputs>"
        shown = "; ".join(
            ", ".join(f"{k}={v!r}" for k, v in c.to_dict().items()) or "all" for c in self._chain()
        )
        return f"<Archive {str(self.path)!r} filtered by {shown} (lazy view: read when used)>"

    def __enter__(self) -> Archive:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the archive file (views made by :meth:`filter` share it)."""
        if self._owner:
            self._reader.close()

    def __len__(self) -> int:
        """The number of inputs: from the entry names' ``_n<count>`` when every entry has
        one (as Clarifai's SDK counts them), else counted; a filtered view counts its matches."""
        if self._count is None:
            declared = self._reader.declared_count if self.criteria is None else None
            self._count = declared if declared is not None else sum(1 for _ in self)
        return self._count

    def __iter__(self) -> Iterator[Input]:
        """Every input (of the view), in the archive's order."""
        for _where, records, _raw in self._chunks():
            yield from records

    def _chain(self) -> list[FilterCriteria]:
        """The criteria from the whole archive down to this view."""
        chain: list[FilterCriteria] = []
        view: Archive | None = self
        while view is not None:
            if view.criteria is not None:
                chain.append(view.criteria)
            view = view._parent
        return chain[::-1]

    def _chunks(self, *, raw: bool = False) -> Iterator[tuple[str, Sequence[Input], bytes | None]]:
        """Each batch entry's inputs that the view keeps (reading stops at a limit); with
        ``raw``, the entry's bytes too when the view keeps them all (the whole archive),
        its inputs then parsed only when used."""
        chain = self._chain()
        if raw and not chain:
            from .tabular.stream import iter_chunks

            yield from iter_chunks([self._reader])
            return
        left = [c.limit for c in chain]
        reader = self._reader
        for entry in reader.entries:
            if any(n == 0 for n in left):
                return
            records = list(reader.read_batch(entry).inputs)
            for i, criteria in enumerate(chain):
                if not criteria.is_empty:
                    records = [r for r in records if criteria.matches(r)]
                n = left[i]
                if n is not None:
                    records = records[:n]
                    left[i] = n - len(records)
            yield f"{reader.path}: entry {entry.name!r}", records, None

    def __getitem__(self, input_id: str) -> Input:
        """The input with this id; KeyError when the archive (or the view) has none."""
        if not isinstance(input_id, str):
            raise TypeError(f"archive[...] takes an input id (str), not {type(input_id).__name__}")
        try:
            record = self._reader.get_input(input_id)
        except InputNotFoundError:
            raise KeyError(input_id) from None
        chain = self._chain()
        if not all(c.matches(record) for c in chain):
            raise KeyError(input_id)
        if any(c.limit is not None for c in chain) and input_id not in set(self.ids()):
            raise KeyError(input_id)
        return record

    def __contains__(self, input_id: object) -> bool:
        if not isinstance(input_id, str):
            return False
        try:
            self[input_id]
        except KeyError:
            return False
        return True

    # -- summaries ---------------------------------------------------------------------

    @property
    def metrics(self) -> Metrics:
        """Clarifai's dataset version metrics of the inputs (computed once)."""
        if self._metrics is None:
            self._metrics = compute_metrics(self)
        return self._metrics

    def ids(self) -> list[str]:
        """The input ids, in order."""
        return [record.id for record in self]

    def concepts(self) -> dict[str, ConceptCount]:
        """Every concept used as a label, by id, with how often (see :attr:`metrics`)."""
        return dict(self.metrics.concepts)

    # -- views -------------------------------------------------------------------------

    def filter(self, criteria: FilterCriteria | None = None, **kwargs: Any) -> Archive:
        """A lazy view of the inputs that match, with the criteria of the ``filter``
        command (:class:`~toolkit.subset.FilterCriteria`: ``concepts``, ``no_concepts``,
        ``metadata``, ``types``, ``has_embeddings``, ``has_regions``, ``unlabeled``,
        ``ids``, ``limit``). Nothing is read until the view is used.

        Example::

            train = archive.filter(metadata=[("split", "train")], has_embeddings=True)
        """
        if criteria is None:
            criteria = FilterCriteria(**kwargs)
        elif kwargs:
            criteria = dataclasses.replace(criteria, **kwargs)
        view = Archive.__new__(Archive)
        view.__dict__.update(self.__dict__)
        view.criteria = criteria
        view._parent = self
        view._owner = False
        view._metrics = None
        view._count = None
        return view

    # -- arrays and tables -------------------------------------------------------------

    def embeddings(self, embedding: int = 0) -> tuple[InputIds, np.ndarray]:
        """The ids of the inputs that carry embedding number ``embedding``, and their
        vectors as one float32 ``(n, d)`` matrix, filled in place from the archive's bytes
        (bit-for-bit; no Python float per value). Embeddings of mixed sizes are an error.

        The ids come as :class:`~toolkit.input_ids.InputIds`, a compact ``Sequence[str]``
        (it indexes, iterates and compares equal to a list; ``ids.to_list()`` makes one).

        Example::

            ids, matrix = archive.embeddings()
        """
        from ._vectors import embedding_of

        matrix = _Matrix(self.path, embedding, capacity=max(len(self), 1))
        try:
            if self.criteria is None:
                for entry_records in self._vector_blocks(embedding, matrix):
                    for record in entry_records:
                        vector = embedding_of(record, embedding)
                        if vector is not None:
                            matrix.add(record.id, vector)
            else:
                for record in self:
                    vector = embedding_of(record, embedding)
                    if vector is not None:
                        matrix.add(record.id, vector)
        finally:
            matrix.stop_prefault()
        return matrix.result()

    def _vector_blocks(self, which: int, matrix: _Matrix) -> Iterator[Sequence[Input]]:
        """Put each batch entry's vectors into ``matrix`` with the C reader (straight into
        its spare rows when they fit); yield the parsed inputs of the entries it leaves to
        protobuf."""
        from ._native import batch_vectors_packed

        reader = self._reader
        fast = reader.flavour == "protobuf" and reader.limits.max_metadata_depth >= 8
        for entry in reader.entries:
            if not fast:
                yield reader.read_batch(entry).inputs
                continue
            data = reader.read_batch_bytes(entry)
            found = batch_vectors_packed(data, which, matrix.spare())
            if found is None:
                yield reader.parse_batch(entry, data).inputs
                continue
            (offsets, id_bytes, _valid), dims, floats = found
            ids = _PackedIds(np.frombuffer(offsets, np.int32), id_bytes)
            sizes = np.frombuffer(dims, np.uint32)
            if isinstance(floats, int):
                matrix.written(ids, sizes)
            else:
                matrix.add_block(ids, sizes, np.frombuffer(floats, "<f4"))

    def record_batches(
        self,
        columns: Sequence[str] | None = None,
        *,
        embedding: int = 0,
        metadata_columns: Sequence[str] = (),
        media: bool = False,
    ) -> pa.RecordBatchReader:
        """The table of ``convert --to parquet`` as a ``pyarrow.RecordBatchReader`` (a
        batch per batch entry, or per group of up to 16 entries where no input carries the
        embedding; nothing touches the disk). ``columns`` picks and orders
        columns; ``media`` adds ``image_bytes`` (the bytes the archive carries).

        Example::

            for batch in archive.record_batches(["id", "positive_concepts"]):
                print(batch.num_rows)
        """
        import pyarrow as pa

        from .tabular.stream import DEFAULT_HOLD_BYTES

        options = self._options(columns, embedding, metadata_columns, media)
        schema, batches = self._batches(options, hold_bytes=DEFAULT_HOLD_BYTES)
        return pa.RecordBatchReader.from_batches(schema, batches)

    def to_arrow(
        self,
        columns: Sequence[str] | None = None,
        *,
        embedding: int = 0,
        metadata_columns: Sequence[str] = (),
        media: bool = False,
    ) -> pa.Table:
        """The table (see :func:`toolkit.tabular.schema.table_schema`) as a ``pyarrow.Table``.

        Example::

            table = archive.to_arrow(columns=["id", "embedding"])
        """
        import pyarrow as pa

        options = self._options(columns, embedding, metadata_columns, media)
        schema, batches = self._batches(options, hold_bytes=None)
        return pa.Table.from_batches(list(batches), schema=schema)

    def to_pandas(
        self,
        columns: Sequence[str] | None = None,
        *,
        embedding: int = 0,
        metadata_columns: Sequence[str] = (),
        nested: Literal["arrow", "python"] = "arrow",
    ) -> pd.DataFrame:
        """The table as a ``pandas.DataFrame``, with ``metadata`` as plain dicts (None
        where an input has none) and each embedding a float32 numpy array.

        ``nested="arrow"`` keeps ``concepts``, ``positive_concepts`` and ``regions``
        Arrow-backed (``pd.ArrowDtype``: an item is still a list of dicts, but no Python
        object is made per label until one is used); ``"python"`` makes them lists of
        dicts up front.

        Example::

            df = archive.to_pandas(columns=["id", "positive_concepts", "metadata"])
        """
        import pandas as pd
        import pyarrow as pa

        if nested not in ("arrow", "python"):
            raise ValueError(f"nested must be 'arrow' or 'python', not {nested!r}")
        table = self.to_arrow(columns, embedding=embedding, metadata_columns=metadata_columns)

        def arrow_nested(kind: pa.DataType) -> Any:
            if pa.types.is_list(kind) or pa.types.is_struct(kind):
                return pd.ArrowDtype(kind)
            return None

        frame: pd.DataFrame = table.to_pandas(
            types_mapper=arrow_nested if nested == "arrow" else None
        )
        if "metadata" in frame.columns:
            loads = orjson.loads
            frame["metadata"] = [
                loads(text) if text is not None else None
                for text in table.column("metadata").to_pylist()
            ]
        return frame

    def to_parquet(
        self,
        path: str | os.PathLike[str],
        *,
        rows_per_file: int = 100_000,
        embedding: int = 0,
        metadata_columns: Sequence[str] = (),
        media: bool = False,
        force: bool = False,
    ) -> Path:
        """Write the table as a folder of Parquet files (as ``convert --to parquet``),
        streaming, atomically; return the folder.

        Example::

            archive.filter(types=["image"]).to_parquet("images.parquet")
        """
        from .convert import FORMATS, _check_output
        from .tabular.parquet import ParquetFolderWriter
        from .tabular.stream import DEFAULT_HOLD_BYTES

        out = Path(path)
        _check_output(FORMATS["parquet"], out, [self.path], force)
        options = self._options(None, embedding, metadata_columns, media)
        schema, batches = self._batches(options, hold_bytes=DEFAULT_HOLD_BYTES)
        writer = ParquetFolderWriter(out, schema, rows_per_file=rows_per_file)
        with writer:
            for batch in batches:
                writer.write(batch)
        return out

    def _batches(
        self, options: RowOptions, *, hold_bytes: int | None
    ) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
        from .tabular.stream import find_embedding_dim, iter_record_batches

        def read_ahead() -> int | None:
            return find_embedding_dim(self, options.embedding)

        return iter_record_batches(
            self._chunks(raw=True), options, read_ahead=read_ahead, hold_bytes=hold_bytes
        )

    def _options(
        self,
        columns: Sequence[str] | None,
        embedding: int,
        metadata_columns: Sequence[str],
        media: bool,
    ) -> RowOptions:
        from .tabular.rows import RowOptions

        return RowOptions(
            embedding=embedding,
            metadata_columns=tuple(metadata_columns),
            media=media or (columns is not None and "image_bytes" in columns),
            columns=tuple(columns) if columns is not None else None,
        )

    # -- similarity --------------------------------------------------------------------

    def search(self, like: str, k: int = 10) -> list[Hit]:
        """The ``k`` inputs most similar to input ``like`` (itself left out), best first,
        from the index given to :func:`open_archive` or found beside the archive
        (``NAME-index`` or ``NAME.index`` next to ``NAME.zip``, built from this archive).
        A filtered view keeps the hits it holds.

        Example::

            hits = archive.search(like="img-0007", k=5)    # [Hit(id, score, rank), ...]
        """
        index = self._similarity_index()
        if self.criteria is None:
            return index.search_like([like], k=k)[0]
        wanted = set(self.ids())
        hits = index.search_like([like], k=len(index))[0]
        return [h for h in hits if h.id in wanted][:k]

    def _similarity_index(self) -> SimilarityIndex:
        if self._index is not None:
            return self._index
        from .index import SimilarityIndex

        folder = self._index_path or self._index_beside()
        if folder is None:
            stem = self.path.with_suffix("").name
            raise ToolkitError(
                f"{self.path}: no similarity index given or found beside it; build one with "
                f"'clarifai-archive index build {self.path} -o {self.path.parent / stem}-index' "
                "or pass index=FOLDER to toolkit.open"
            )
        self._index = SimilarityIndex.load(folder)
        return self._index

    def _index_beside(self) -> Path | None:
        stem = self.path.with_suffix("").name
        mine = self.path.resolve()
        for suffix in _INDEX_SUFFIXES:
            folder = self.path.parent / f"{stem}{suffix}"
            sidecar = folder / "index.json"
            if not sidecar.is_file():
                continue
            try:
                info = orjson.loads(sidecar.read_bytes())
            except (OSError, orjson.JSONDecodeError):
                continue
            for source in info.get("sources", []):
                where = source.get("path") if isinstance(source, dict) else None
                if where and _same_path(Path(where), mine, folder):
                    return folder
        return None


def _same_path(recorded: Path, mine: Path, base: Path) -> bool:
    candidates = [recorded] if recorded.is_absolute() else [recorded, base / recorded]
    return any(c.resolve() == mine for c in candidates)


class _PackedIds:
    """The ids of one batch entry as the C reader packs them (UTF-8 bytes and offsets)."""

    __slots__ = ("data", "offsets")

    def __init__(self, offsets: np.ndarray, data: bytes) -> None:
        self.offsets = offsets
        self.data = data

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> str:
        return self.data[int(self.offsets[i]) : int(self.offsets[i + 1])].decode()


class _Matrix:
    """A float32 ``(n, d)`` matrix filled row by row or block by block, grown by doubling,
    and the ids of its rows (kept packed)."""

    def __init__(self, path: Path, which: int, *, capacity: int) -> None:
        self.path = path
        self.which = which
        self.capacity = capacity
        self.ids = InputIdsBuilder()
        self.matrix: np.ndarray | None = None
        self.first = ""
        self._prefault: Prefaulter | None = None

    def _room(self, dim: int, rows: int, input_id: str) -> np.ndarray:
        matrix = self.matrix
        if matrix is None:
            matrix = self.matrix = np.empty((max(self.capacity, rows), dim), dtype=np.float32)
            self.first = input_id
            self._prefault = Prefaulter(matrix)
        elif dim != matrix.shape[1]:
            raise SchemaError(
                f"{self.path}: input {input_id!r} has a {dim}-dimensional embedding "
                f"{self.which}, input {self.first!r} a {matrix.shape[1]}-dimensional one; one "
                "matrix holds one size: pick another with embedding=N"
            )
        need = len(self.ids) + rows
        if need > matrix.shape[0]:
            self.stop_prefault()
            matrix.resize((max(need, 2 * matrix.shape[0]), dim), refcheck=False)
        return matrix

    def spare(self) -> np.ndarray | None:
        """The rows after the filled ones, flat (None before the first vector)."""
        if self.matrix is None:
            return None
        return self.matrix[len(self.ids) :].reshape(-1)

    def _keep_ids(self, ids: _PackedIds, have: np.ndarray) -> None:
        if len(have) == len(ids):
            self.ids.extend_packed(ids.offsets, ids.data)
        else:
            self.ids.extend_packed(ids.offsets, ids.data, have)

    def written(self, ids: _PackedIds, dims: np.ndarray) -> None:
        """The C reader wrote the vectors of ``ids`` (``dims`` > 0) into :meth:`spare`."""
        have = np.flatnonzero(dims)
        if not len(have):
            return
        assert self.matrix is not None
        dim = self.matrix.shape[1]
        odd = have[dims[have] != dim]
        if len(odd):
            self._room(int(dims[odd[0]]), 0, ids[int(odd[0])])
        self._keep_ids(ids, have)

    def add(self, input_id: str, vector: np.ndarray) -> None:
        matrix = self._room(len(vector), 1, input_id)
        matrix[len(self.ids)] = vector
        self.ids.append(input_id)

    def add_block(self, ids: _PackedIds, dims: np.ndarray, floats: np.ndarray) -> None:
        have = np.flatnonzero(dims)
        if not len(have):
            return
        dim = int(dims[have[0]])
        odd = have[dims[have] != dim]
        if len(odd):
            self._room(dim, 0, ids[int(have[0])])
            self._room(int(dims[odd[0]]), 0, ids[int(odd[0])])
        matrix = self._room(dim, len(have), ids[int(have[0])])
        row = len(self.ids)
        matrix[row : row + len(have)] = floats.reshape(len(have), dim)
        self._keep_ids(ids, have)

    def stop_prefault(self) -> None:
        """Stop mapping pages ahead of the writer (before a resize, an error or the end)."""
        if self._prefault is not None:
            self._prefault.stop()
            self._prefault = None

    def result(self) -> tuple[InputIds, np.ndarray]:
        self.stop_prefault()
        ids = self.ids.build()
        if self.matrix is None:
            return ids, np.empty((0, 0), dtype=np.float32)
        if len(ids) != self.matrix.shape[0]:
            self.matrix.resize((len(ids), self.matrix.shape[1]), refcheck=False)
        return ids, self.matrix
