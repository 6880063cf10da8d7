"""Atomic, compact MinHash LSH index in Redis: one Lua call decides and inserts a whole batch.

Why not datasketch's RedisStorage: it costs ≈ 5,200 B and 2 + 2×bands round trips per
document and cannot check-and-insert atomically. Here one EVALSHA per batch runs the verdict
rules of `dedup.index.DedupIndex` in order, so two workers seeing near-duplicates at the same
instant get exactly one NEW.

Key layout (base = ``<prefix>{<hash_tag>}:``, default ``newsdedup:{idx}:``; every key of one
index carries the same hash tag, so they share one Redis Cluster slot, as a script touching
many keys requires there; ``hash_tag=""`` gives plain ``<prefix>...`` keys):

- ``<base>cfg``   JSON string: format, bands, rows, bits, bucket bits, doc bytes, block size;
  checked at start-up so workers with other parameters (or an index of an older format) fail
  instead of corrupting the index; bucket bits and doc bytes are adopted from it.
- ``<base>seq``   string: last internal document number (u32, grows for ever).
- ``<base>t``     hash: ``f<slot>`` first document number of a time slot (window/64),
  ``n<slot>`` documents indexed in it (for ``len`` and for pruning).
- ``<base>b``     hash, one field per bucket (2**bucket_bits of them, shared by all bands;
  field name: the bucket number as 4 big-endian bytes), value: records
  ``residual(2) | doc number`` in document-number order. The doc number takes 3 bytes
  (``doc_bytes``, modulo 2**24, resolved as the latest number not above ``seq`` with that
  remainder) when ``capacity`` <= 2**20, else 4: exact while fewer than 2**24 documents are
  numbered within one window (plus the ≤ 2S pruning lag), 16x the capacity; a wrongly
  resolved number can only add a candidate, which is verified like any other. Band k
  (k < bands) hashes its rows; pseudo-band ``bands`` is the content hash, ``bands+1`` the
  document id; a duplicate has one more record, in the bucket of its cluster: bucket = the
  first 4 bytes (big-endian) of SHA-1(cluster id) >> (32 - bucket bits), residual = bytes 5-6
  (the script hashes with ``redis.sha1hex``), so a cluster's members need no key of their own
  (format 2 kept a list key per cluster: ≈ 48 B/doc in bench/bench_index.py, mostly per-key
  overhead). A band hit is confirmed on the stored b-bit rows of that band, so candidates
  equal exact band matches up to ~2**-56. Packed strings rather than a field per record:
  ≈ 6 instead of ≈ 10-60 bytes a record, and expired records form a prefix that is cut
  cheaply. A batch reads every bucket it needs with HMGET and writes the changed ones back
  with HSET (a bucket of ~150 records moves in ~2 µs; measured: smaller buckets, i.e. a lower
  `records_per_bucket`, cost memory without a clear speed gain).
- ``<base>s:<block>`` string of ``block`` fixed 23-byte records, one per document number:
  ``inserted u32 | content hash 8 | version u32 | meta offset u32 | meta length u16 |
  flag u8`` (flag 2 indexed, 1 duplicate). Pre-allocated whole, so SETRANGE never
  over-allocates.
- ``<base>m:<chunk>`` one metadata stream cut in chunks of 65,530 bytes (one 64 KiB
  allocation each: pre-allocated whole at their first write, so nothing is over-allocated;
  an entry may continue in the next chunk). Per document, in document order: its b-bit
  signature (indexed documents only: a duplicate keeps none), then ``id 0x1f site 0x1f url
  0x1f cluster`` (`encode_meta`: a site that is the id's prefix and the ``https://<site>`` of
  the url are abbreviated; cluster empty for an indexed canonical). The record's meta offset
  is the entry's position in the stream modulo 65,530 x 65,536 (< 2**32); chunk
  ``offset // 65530`` holds it, so chunk names repeat after ≈ 4.3 GB of metadata (a chunk is
  cleared when the stream reaches its start again): exact while less than that is written
  within W + S, ≈ 20 million documents at ≈ 200 bytes (3-byte doc numbers bound a window
  to 2**24 documents anyway).
- ``<base>mt`` string: the stream's tail (the next entry's offset).
- ``cluster_members``: the canonical is the earliest live record of the cluster id (its
  id/site/url), then the live duplicates found in the cluster's bucket whose cluster field is
  that id, in insertion order.

Expiry guarantee (W = window_seconds, S = W/64): a document matches for exactly W seconds
of the index clock after insertion (each record stores its time; the script ignores older
ones), never less. Its bucket records are cut the next time a batch reads their bucket after
W + 2S: a batch reads the buckets it touches plus the next 64 of a sweep, so every bucket at
least once per 2**bucket_bits / 64 batches; the hash ``b`` expires W + S after the last batch.
A record block (``s``) or metadata chunk (``m``) expires W + S after the last write to it,
i.e. W + S after its last document. A cluster member is listed for exactly W seconds after
it joined, like any match; a canonical while it matches (if it has expired and members are
still live, the list starts with its id alone).

Nothing is pickled: ids, urls and sites are UTF-8, numbers are big-endian binary.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import redis
import xxhash

from dedup.index import Decision, DedupIndex, IndexEntry, Verdict
from dedup.lsh_params import DEFAULT_THRESHOLD, index_bands
from dedup.signature_bits import DEFAULT_BITS

_SCRIPT = (Path(__file__).parent / "lua" / "check_and_insert.lua").read_text(encoding="utf-8")
_VERDICTS = {1: Verdict.NEW, 2: Verdict.DUPLICATE, 3: Verdict.NEW_VERSION, 4: Verdict.UNCHANGED}
_SLOTS_PER_WINDOW = 64
_SWEEP = 64  # buckets pruned per batch besides the ones the batch touches
_BLOCK_BYTES = 32768 - 8  # a record block fills one 32 KiB allocation with its sds header
CHUNK_BYTES = 65536 - 6  # a metadata chunk fills one 64 KiB allocation with its sds header (type 16) and NUL
CHUNK_NAMES = 65536  # metadata offsets are modulo CHUNK_BYTES * CHUNK_NAMES (< 2**32)
_ADOPTED = ("bucket_bits", "doc_bytes")  # sized from `capacity` by the first worker; others adopt them
_DOC3_CAPACITY = 1 << 20  # 3-byte doc numbers in bucket records up to this capacity (16x headroom)
_RECORD = 23  # time u32 | content hash 8 | version u32 | meta offset u32 | meta length u16 | flag u8
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_SLOT_DTYPE = np.dtype([("index", ">u4"), ("residual", ">u2")])


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (wrapping uint64 arithmetic)."""
    h = (h ^ (h >> np.uint64(30))) * _M1
    h = (h ^ (h >> np.uint64(27))) * _M2
    return h ^ (h >> np.uint64(31))


def estimate_from_equal(equal: int, n: int, bits: int) -> float:
    """The formula of signature_bits.estimate_jaccard, from a count of equal b-bit values."""
    chance = 1.0 / (1 << bits)
    return max(0.0, (equal / n - chance) / (1.0 - chance))


def compress_many(signatures: np.ndarray, bits: int) -> list[bytes]:
    """signature_bits.compress for each row, vectorised."""
    low = (signatures & np.uint64((1 << bits) - 1)).astype(np.uint8)
    if bits == 4:
        if low.shape[1] % 2:
            low = np.concatenate([low, np.zeros((low.shape[0], 1), np.uint8)], axis=1)
        low = low[:, 0::2] | (low[:, 1::2] << np.uint8(4))
    elif bits != 8:
        raise ValueError(f"bits must be 4 or 8, got {bits}")
    return [row.tobytes() for row in low]


def _clean(text: str) -> str:
    return text.replace("\x1f", " ").replace("\x01", " ").replace("\x02", " ")


def encode_meta(doc_id: str, site: str, url: str) -> bytes:
    """``id 0x1f site 0x1f url``, UTF-8, with the crawler's redundancy taken out: a site that is
    the id's prefix (``<site>:<article id>``) is stored as 0x01, a url ``https://<site>/<rest>``
    as 0x01 + ``/<rest>``, and then (site abbreviated) the first ``<article id>`` in the url, if
    2 characters or more, as 0x02. 0x1f, 0x01 and 0x02 in the fields become spaces."""
    doc_id, site, url = _clean(doc_id), _clean(site), _clean(url)
    stored_site, stored_url = site, url
    if site and url.startswith(f"https://{site}/"):
        stored_url = "\x01" + url[len(site) + 8 :]
    if site and ":" not in site and doc_id.startswith(site + ":"):
        stored_site = "\x01"
        article = doc_id[len(site) + 1 :]
        if len(article) >= 2:
            stored_url = stored_url.replace(article, "\x02", 1)
    return f"{doc_id}\x1f{stored_site}\x1f{stored_url}".encode()


def decode_meta(raw: bytes | str) -> dict[str, str]:
    """The inverse of encode_meta (missing fields are empty)."""
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    doc_id, site, url = [*text.split("\x1f"), "", ""][:3]
    if site == "\x01":
        site, article = doc_id.split(":", 1)
        url = url.replace("\x02", article, 1)
    if url.startswith("\x01"):
        url = f"https://{site}{url[1:]}"
    return {"id": doc_id, "url": url, "site": site}


class RedisIndex(DedupIndex):
    """DedupIndex on Redis, shared by all workers; see the module docstring for the layout."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str = "newsdedup:",
        threshold: float = DEFAULT_THRESHOLD,
        num_perm: int = 128,
        window_seconds: float = 30 * 86400,
        bits: int = DEFAULT_BITS,
        *,
        hash_tag: str = "idx",
        capacity: int = 1_000_000,
        records_per_bucket: int = 192,
        batch_size: int = 256,
        clock: Callable[[], float] = time.time,
        bands: tuple[int, int] | None = None,
    ) -> None:
        if bits not in (4, 8):
            raise ValueError(f"bits must be 4 or 8, got {bits}")
        self.client = client
        self.threshold = threshold
        self.num_perm = num_perm
        self.window = int(window_seconds)
        if self.window < _SLOTS_PER_WINDOW:
            raise ValueError("window_seconds must be at least 64")
        self.bits = bits
        self.bands, self.rows = bands if bands is not None else index_bands(threshold, num_perm)
        if self.bands * self.rows > num_perm:
            raise ValueError(f"{self.bands} bands x {self.rows} rows exceed {num_perm} permutations")
        self.batch_size = batch_size
        self.clock = clock
        self.base = f"{prefix}{{{hash_tag}}}:" if hash_tag else prefix
        self.sig_len = len(compress_many(np.zeros((1, num_perm), np.uint64), bits)[0])
        self.n_compare = self.sig_len * (8 // bits)
        self.min_equal = next(
            (e for e in range(self.n_compare + 1) if estimate_from_equal(e, self.n_compare, bits) >= threshold),
            self.n_compare + 1,
        )
        self.slot_len = self.window // _SLOTS_PER_WINDOW
        self.ttl_ms = (self.window + self.slot_len) * 1000
        want = max(1, capacity * (self.bands + 2) // records_per_bucket)
        self._config = {
            "format": "3",
            "num_perm": str(num_perm),
            "bands": str(self.bands),
            "rows": str(self.rows),
            "bits": str(bits),
            "bucket_bits": str(min(32, max(4, (want - 1).bit_length()))),
            "doc_bytes": "3" if capacity <= _DOC3_CAPACITY else "4",
            "block": str(_BLOCK_BYTES // _RECORD),
        }
        self._load_config()
        self._script = client.register_script(_SCRIPT)
        self.seq_key = self.base + "seq"
        self._salts = _mix(np.arange(1, self.bands + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15))

    def _load_config(self) -> None:
        """Adopt the parameters stored by the first worker (SET NX), or refuse different ones."""
        key = self.base + "cfg"
        self.client.set(key, orjson.dumps(self._config), nx=True)
        stored = orjson.loads(self.client.get(key) or b"{}")
        wrong = {k: (v, stored.get(k)) for k, v in self._config.items() if k not in _ADOPTED and stored.get(k) != v}
        if wrong:
            raise ValueError(f"Redis index at {self.base} was built with other parameters: {wrong}")
        self.bucket_bits = int(stored["bucket_bits"])
        self.block = int(stored["block"])
        self.doc_bytes = int(stored["doc_bytes"])

    def _pack(self, entries: Sequence[IndexEntry]) -> tuple[bytes, list[bytes]]:
        """The batch's bucket fields (4-byte names, ascending, concatenated) and one binary argument per entry: b-bit
        signature, content hash, (field index, residual) per slot, meta."""
        sigs = np.stack([np.asarray(e.signature, dtype=np.uint64) for e in entries])
        if sigs.shape[1] != self.num_perm:
            raise ValueError(f"signatures have {sigs.shape[1]} values, index expects {self.num_perm}")
        used = sigs[:, : self.bands * self.rows].reshape(len(entries), self.bands, self.rows)
        h = np.broadcast_to(self._salts, (len(entries), self.bands)).copy()
        for j in range(self.rows):
            h = _mix(h ^ used[:, :, j])
        content = [xxhash.xxh64_intdigest(e.content_hash.encode("utf-8"), seed=1) for e in entries]
        ids = [xxhash.xxh64_intdigest(e.doc_id.encode("utf-8"), seed=2) for e in entries]
        h = np.concatenate([h, np.array([content, ids], dtype=np.uint64).T], axis=1)
        buckets, index = np.unique(h >> np.uint64(64 - self.bucket_bits), return_inverse=True)
        slots = np.empty(h.shape, dtype=_SLOT_DTYPE)
        slots["index"] = index.reshape(h.shape) + 1
        slots["residual"] = h & np.uint64(0xFFFF)
        fields = buckets.astype(">u4").tobytes()
        packed = []
        for i, (e, low) in enumerate(zip(entries, compress_many(sigs, self.bits), strict=True)):
            info = encode_meta(e.doc_id, e.site, e.url)
            packed.append(b"".join((low, content[i].to_bytes(8, "big"), slots[i].tobytes(), info)))
        return fields, packed

    def _args(self, chunk: Sequence[IndexEntry]) -> list[Any]:
        fields, packed = self._pack(chunk)
        return [
            self.base, int(self.clock()), self.window, self.ttl_ms, self.min_equal, self.slot_len,
            self.sig_len, self.bits, self.rows, self.bands, self.block, 1 << self.bucket_bits,
            _SWEEP, fields, self.doc_bytes, CHUNK_BYTES, *packed,
        ]

    def _decode(self, chunk: Sequence[IndexEntry], raw: list[Any]) -> list[Decision]:
        decisions = []
        for i, e in enumerate(chunk):
            code, cluster, version, equal = raw[4 * i : 4 * i + 4]
            verdict = _VERDICTS[int(code)]
            cluster_id = cluster.decode("utf-8") if isinstance(cluster, bytes) else str(cluster)
            similarity = None
            if int(equal) == -2:
                similarity = 1.0
            elif int(equal) >= 0:
                similarity = estimate_from_equal(int(equal), self.n_compare, self.bits)
            decisions.append(Decision(
                doc_id=e.doc_id, verdict=verdict, cluster=cluster_id,
                duplicate_of=cluster_id if verdict is Verdict.DUPLICATE else None,
                similarity=similarity, version=int(version),
            ))
        return decisions

    def check_and_insert(self, entries: Sequence[IndexEntry]) -> list[Decision]:
        """Decide in batches of `batch_size`, each one atomic script call, in order. With several
        batches the next is sent before the previous answer is read: if a call fails (bad entry,
        lost connection) the batches before it, and possibly the one after, have been applied
        although no decisions are returned; running the same entries again then reports those
        as UNCHANGED."""
        chunks = [entries[start : start + self.batch_size] for start in range(0, len(entries), self.batch_size)]
        if len(chunks) <= 1:
            return [d for c in chunks for d in self._decode(c, self._script(keys=[self.seq_key], args=self._args(c)))]
        # Send batch i + 1 before reading batch i's answer, so packing overlaps the server's
        # work; batches still run one after another, each atomically, on one connection. EVAL
        # (the server caches the compiled script by its SHA1) so no NOSCRIPT can split a pair.
        decisions: list[Decision] = []
        pool = self.client.connection_pool
        try:
            conn = pool.get_connection()  # redis-py >= 5.3
        except TypeError:  # pragma: no cover - redis-py 5.0-5.2 wants a command name
            conn = pool.get_connection("EVAL")
        clean = False
        try:
            sent: list[Sequence[IndexEntry]] = []
            for chunk in chunks:
                conn.send_command("EVAL", _SCRIPT, 1, self.seq_key, *self._args(chunk))
                sent.append(chunk)
                if len(sent) == 2:
                    decisions.extend(self._decode(sent.pop(0), conn.read_response()))
            for chunk in sent:
                decisions.extend(self._decode(chunk, conn.read_response()))
            clean = True
        finally:
            if not clean:
                conn.disconnect()  # an answer may be pending: never hand this connection back as is
            pool.release(conn)
        return decisions

    def cluster_slot(self, cluster: str) -> tuple[bytes, bytes]:
        """Bucket field name and residual of a cluster's member records (see the module docstring)."""
        digest = hashlib.sha1(cluster.encode("utf-8")).digest()
        bucket = int.from_bytes(digest[:4], "big") >> (32 - self.bucket_bits)
        return bucket.to_bytes(4, "big"), digest[4:6]

    def cluster_members(self, cluster: str) -> list[dict[str, str]]:
        field, residual = self.cluster_slot(cluster)
        pipe = self.client.pipeline(transaction=False)
        data, seq = pipe.hget(self.base + "b", field).get(self.base + "seq").execute()
        found = self._records_with(data or b"", residual, int(seq or 0))
        members = [
            decode_meta("\x1f".join(parts[:3]))
            for parts in self._read(dict.fromkeys(found), duplicate=True)
            if parts is not None and parts[3] == cluster
        ]
        canonical = self._lookup(cluster, earliest=True)
        if canonical is not None and not canonical[3]:
            return [decode_meta("\x1f".join(canonical[:3])), *members]
        return [{"id": cluster, "url": "", "site": ""}, *members] if members else []

    def _records_with(self, data: bytes, residual: bytes, seq: int) -> list[int]:
        """Doc numbers of a bucket's records with this residual, in insertion order."""
        width, modulus = 2 + self.doc_bytes, 1 << (8 * self.doc_bytes)
        return [
            seq - (seq - int.from_bytes(data[pos + 2 : pos + width], "big")) % modulus
            for pos in range(0, len(data) - width + 1, width)
            if data[pos : pos + 2] == residual
        ]

    def _read(self, docs: Iterable[int], duplicate: bool | None = None) -> list[list[str] | None]:
        """Meta fields (id, site, url, cluster) of each document if it is live (and of that kind,
        if given), else None; read-only, two pipelined round trips."""
        docs = list(docs)
        pipe = self.client.pipeline(transaction=False)
        for d in docs:
            off = (d % self.block) * _RECORD
            pipe.getrange(f"{self.base}s:{d // self.block}", off, off + _RECORD - 1)
        records = pipe.execute() if docs else []
        now = int(self.clock())
        pieces: list[int] = []
        for rec in records:
            n = 0
            live = len(rec) == _RECORD and rec[-1] != 0 and now - int.from_bytes(rec[:4], "big") < self.window
            if live and (duplicate is None or (rec[-1] == 1) == duplicate):
                off, left = int.from_bytes(rec[16:20], "big"), int.from_bytes(rec[20:22], "big")
                while left > 0:  # the entry may continue in the next chunk
                    chunk, pos = divmod(off, CHUNK_BYTES)
                    step = min(left, CHUNK_BYTES - pos)
                    pipe.getrange(f"{self.base}m:{chunk}", pos, pos + step - 1)
                    off, left, n = (off + step) % (CHUNK_BYTES * CHUNK_NAMES), left - step, n + 1
            pieces.append(n)
        raws = iter(pipe.execute() if any(pieces) else [])
        out: list[list[str] | None] = []
        for rec, n in zip(records, pieces, strict=True):
            if not n:
                out.append(None)
                continue
            raw = b"".join(next(raws) for _ in range(n))
            parts = raw[self.sig_len if rec[-1] == 2 else 0 :].decode("utf-8").split("\x1f")
            out.append([*parts, "", "", ""][:4])
        return out

    def _lookup(self, doc_id: str, earliest: bool = False) -> list[str] | None:
        """Meta fields (id, site, url, cluster) of the latest (or earliest) live record of doc_id, read-only."""
        h = xxhash.xxh64_intdigest(doc_id.encode("utf-8"), seed=2)
        bucket, residual = h >> (64 - self.bucket_bits), (h & 0xFFFF).to_bytes(2, "big")
        pipe = self.client.pipeline(transaction=False)
        data, seq = pipe.hget(self.base + "b", bucket.to_bytes(4, "big")).get(self.base + "seq").execute()
        found = self._records_with(data or b"", residual, int(seq or 0))
        for parts in self._read(found if earliest else reversed(found)):
            if parts is not None and parts[0] == doc_id:
                return parts
        return None

    def __len__(self) -> int:
        """Distinct documents indexed in the bands (counted per time slot of their first indexing,
        so under expiry it may be off by up to one slot, W/64, of documents)."""
        now = int(self.clock())
        total = 0
        for field, value in self.client.hgetall(self.base + "t").items():
            name = field.decode()
            if name.startswith("n") and (int(name[1:]) + 1) * self.slot_len + self.window > now:
                total += int(value)
        return total

    def stats(self) -> dict[str, Any]:
        """Cheap figures for `newsdedup status` (no key scan)."""
        used = self.client.info("memory").get("used_memory")
        return {
            "backend": "redis",
            "docs_indexed": len(self),
            "documents_seen": int(self.client.get(self.base + "seq") or 0),
            "bands": self.bands,
            "rows": self.rows,
            "bits": self.bits,
            "buckets": 1 << self.bucket_bits,
            "window_seconds": self.window,
            "key_prefix": self.base,
            "server_keys": self.client.dbsize(),
            "server_used_memory": used,
        }
