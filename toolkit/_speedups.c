/*
 * toolkit._speedups: a small reader of the protobuf wire format for the hot path of
 * `convert --to coco`. Optional: when it cannot be built, toolkit/_native.py says so and
 * the pure-Python path (protobuf's classes) does the same work, only slower.
 *
 * - load_schema(tables): the message tables made from protobuf's descriptors by
 *   toolkit/_native.py (table 0 is InputBatch).
 * - scan_batch(data): checks an InputBatch entry against those tables as protobuf's parser
 *   would (lengths, varints, wire types, UTF-8, nesting) and returns its input ids, or
 *   None when anything is unusual: the caller then parses the entry with protobuf, which
 *   raises the right error or copes with the rare encoding this reader leaves to it.
 * - coco_images(...): the COCO image and annotation dicts of the common image input of a
 *   batch that scan_batch accepted; each input it does not take on (no image, no size,
 *   embedded bytes, shapes other than one box, merged duplicates, ...) goes to a Python
 *   callback with its bytes, in archive order. Inputs tagged by `split --tag` (metadata
 *   "split") are written to their split's own text, returned beside the untagged one; the
 *   callback hands a tagged input's dicts back to be filed there. See
 *   toolkit/convert/coco.py.
 * - batch_vectors_packed(data, which, out): the input ids (as Arrow string buffers) and
 *   the packed floats of embedding `which` of each input (Archive.embeddings, the Parquet
 *   embedding column).
 * - table_arrow(data): the columns of the Parquet table as Arrow buffers (ids, types,
 *   urls, sizes, times, concepts, texts, metadata as sorted JSON, regions) and flags for
 *   what the Python side adds (unusual metadata or regions, hosted urls).
 *
 * Every read is bounds-checked: the bytes come from an untrusted archive.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#ifndef _WIN32
#include <sys/mman.h>
#include <unistd.h>
#endif

/* ---- wire format ------------------------------------------------------------------- */

enum { W_VARINT = 0, W_I64 = 1, W_LEN = 2, W_I32 = 5 };

typedef struct {
    uint32_t number;
    int wire;
    uint64_t varint;      /* W_VARINT */
    const uint8_t *data;  /* W_LEN, W_I32, W_I64 */
    size_t len;
} Field;

/* A varint as protobuf's parser (upb) reads it: at most `max_bytes` bytes; bits past the
 * 64th (in a 10th byte) are dropped, as upb drops them. Tags and lengths may take at most
 * 5 bytes there, values 10: a longer (non-minimal) encoding is refused, so this reader
 * accepts exactly what protobuf accepts. */
static inline int read_varint_max(const uint8_t **pp, const uint8_t *end, uint64_t *out, int max_bytes)
{
    const uint8_t *p = *pp;
    if (p < end && *p < 0x80) { /* most tags and lengths: one byte */
        *out = *p;
        *pp = p + 1;
        return 0;
    }
    uint64_t value = 0;
    for (int i = 0; i < max_bytes; i++) {
        if (p >= end)
            return -1;
        uint8_t byte = *p++;
        if (i < 10)
            value |= (i == 9 ? (uint64_t)(byte & 1) : (uint64_t)(byte & 0x7f)) << (7 * i);
        if (!(byte & 0x80)) {
            *pp = p;
            *out = value;
            return 0;
        }
    }
    return -1;
}

/* A value varint: up to 10 bytes. */
static inline int read_varint(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    return read_varint_max(pp, end, out, 10);
}

/* A tag or a length: up to 5 bytes, as upb reads them. */
static inline int read_varint5(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    return read_varint_max(pp, end, out, 5);
}

/* The next field of a message: 1 when read, 0 at its end, -1 when malformed (groups,
 * unknown wire types, field number 0 and truncation all count as malformed here). */
static inline int next_field(const uint8_t **pp, const uint8_t *end, Field *f)
{
    if (*pp >= end)
        return 0;
    uint64_t tag;
    if (read_varint5(pp, end, &tag) < 0 || tag > 0xFFFFFFFFu)
        return -1;
    f->number = (uint32_t)(tag >> 3);
    f->wire = (int)(tag & 7);
    if (f->number == 0)
        return -1;
    const uint8_t *p = *pp;
    switch (f->wire) {
    case W_VARINT:
        return read_varint(pp, end, &f->varint) < 0 ? -1 : 1;
    case W_I64:
        if (end - p < 8)
            return -1;
        f->data = p;
        f->len = 8;
        *pp = p + 8;
        return 1;
    case W_I32:
        if (end - p < 4)
            return -1;
        f->data = p;
        f->len = 4;
        *pp = p + 4;
        return 1;
    case W_LEN: {
        uint64_t len;
        if (read_varint5(&p, end, &len) < 0 || len >= 0x7FFFFFFFu || len > (uint64_t)(end - p))
            return -1;
        f->data = p;
        f->len = (size_t)len;
        *pp = p + len;
        return 1;
    }
    default:
        return -1;
    }
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static float as_float(const uint8_t *p)
{
    uint32_t bits = le32(p);
    float value;
    memcpy(&value, &bits, 4);
    return value;
}

static double as_double(const uint8_t *p)
{
    uint64_t bits = (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
    double value;
    memcpy(&value, &bits, 8);
    return value;
}

/* Strict UTF-8, as protobuf checks proto3 strings: no overlong forms, no surrogates,
 * nothing above U+10FFFF. */
static int valid_utf8(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        /* ASCII, eight bytes at a time. */
        while (n - i >= 8) {
            uint64_t chunk;
            memcpy(&chunk, s + i, 8);
            if (chunk & 0x8080808080808080ull)
                break;
            i += 8;
        }
        if (i >= n)
            break;
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (n - i <= need)
            return 0;
        for (size_t k = 1; k <= need; k++) {
            uint8_t cc = s[i + k];
            if ((cc & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += need + 1;
    }
    return 1;
}

/* ---- schema checks (scan_batch) --------------------------------------------------- */

enum { K_VARINT = 0, K_F32 = 1, K_F64 = 2, K_STRING = 3, K_BYTES = 4, K_MESSAGE = 5 };

/* Clarifai's schema from InputBatch outward: 116 message tables (well-known types and map
 * entries included), at most 36 fields each (clarifai-grpc 12.6). */
#define MAX_TABLES 1024
#define MAX_FIELDS 120
/* Deeper nesting goes to protobuf, which knows its own limit and the metadata limit. */
#define MAX_NESTING 16

typedef struct {
    uint32_t number;
    int kind;
    int repeated;
    int table; /* K_MESSAGE */
} Spec;

#define DIRECT 64 /* field numbers below this are found by index */

typedef struct {
    int count;
    Spec fields[MAX_FIELDS];
    signed char direct[DIRECT]; /* number -> position in fields, or -1 */
} Table;

/* The module's state (PEP 489 multi-phase init: one per module object, so one per
 * interpreter): the tables load_schema made. It holds no Python object, so the module
 * needs no m_traverse or m_clear, only m_free for the tables' memory. */
typedef struct {
    Table *tables;   /* table_count of them, from load_schema; NULL before it */
    int table_count;
} State;

static inline State *state_of(PyObject *module)
{
    return (State *)PyModule_GetState(module);
}

static const Spec *find_spec(const Table *t, uint32_t number)
{
    if (number < DIRECT)
        return t->direct[number] < 0 ? NULL : &t->fields[(int)t->direct[number]];
    for (int i = 0; i < t->count; i++)
        if (t->fields[i].number == number)
            return &t->fields[i];
    return NULL;
}

static int expected_wire(int kind)
{
    switch (kind) {
    case K_VARINT:
        return W_VARINT;
    case K_F32:
        return W_I32;
    case K_F64:
        return W_I64;
    default:
        return W_LEN;
    }
}

/* 1 when the message parses as protobuf would parse it, 0 when in any doubt. */
static int check_message(const Table *tables, const uint8_t *p, const uint8_t *end, int table,
                         int depth)
{
    if (depth > MAX_NESTING)
        return 0;
    const Table *t = &tables[table];
    Field f;
    int r;
    while ((r = next_field(&p, end, &f)) == 1) {
        const Spec *spec = find_spec(t, f.number);
        if (spec == NULL)
            continue; /* an unknown field, kept by protobuf as it is */
        int wire = expected_wire(spec->kind);
        if (f.wire != wire) {
            /* A repeated number may come packed. */
            if (!(spec->repeated && f.wire == W_LEN && wire != W_LEN))
                return 0;
            if (spec->kind == K_F32 && f.len % 4)
                return 0;
            if (spec->kind == K_F64 && f.len % 8)
                return 0;
            if (spec->kind == K_VARINT) {
                const uint8_t *q = f.data, *qend = f.data + f.len;
                uint64_t v;
                while (q < qend)
                    if (read_varint(&q, qend, &v) < 0)
                        return 0;
            }
            continue;
        }
        if (spec->kind == K_STRING && !valid_utf8(f.data, f.len))
            return 0;
        if (spec->kind == K_MESSAGE &&
            !check_message(tables, f.data, f.data + f.len, spec->table, depth + 1))
            return 0;
    }
    return r == 0;
}

static PyObject *load_schema(PyObject *self, PyObject *arg)
{
    State *st = state_of(self);
    PyObject *seq = PySequence_Fast(arg, "load_schema expects a list of tables");
    if (seq == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (n < 1 || n > MAX_TABLES) {
        Py_DECREF(seq);
        return PyErr_Format(PyExc_ValueError, "load_schema: %zd tables (1 to %d)", n, MAX_TABLES);
    }
    Table *loaded = PyMem_Calloc((size_t)n, sizeof(Table));
    if (loaded == NULL) {
        Py_DECREF(seq);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *fields = PySequence_Fast(PySequence_Fast_GET_ITEM(seq, i), "a table is a list");
        if (fields == NULL)
            goto fail;
        Py_ssize_t m = PySequence_Fast_GET_SIZE(fields);
        if (m > MAX_FIELDS) {
            Py_DECREF(fields);
            PyErr_Format(PyExc_ValueError, "load_schema: %zd fields (at most %d)", m, MAX_FIELDS);
            goto fail;
        }
        for (Py_ssize_t j = 0; j < m; j++) {
            unsigned int number;
            int kind, repeated, table;
            if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(fields, j), "Iiii", &number, &kind,
                                  &repeated, &table)) {
                Py_DECREF(fields);
                goto fail;
            }
            if (kind < K_VARINT || kind > K_MESSAGE || (kind == K_MESSAGE && (table < 0 || table >= n))) {
                Py_DECREF(fields);
                PyErr_SetString(PyExc_ValueError, "load_schema: bad field entry");
                goto fail;
            }
            loaded[i].fields[j] = (Spec){number, kind, repeated, table};
        }
        memset(loaded[i].direct, -1, sizeof(loaded[i].direct));
        for (Py_ssize_t j = 0; j < m; j++)
            if (loaded[i].fields[j].number < DIRECT)
                loaded[i].direct[loaded[i].fields[j].number] = (signed char)j;
        loaded[i].count = (int)m;
        Py_DECREF(fields);
    }
    PyMem_Free(st->tables);
    st->tables = loaded;
    st->table_count = (int)n;
    Py_DECREF(seq);
    Py_RETURN_NONE;
fail:
    PyMem_Free(loaded);
    Py_DECREF(seq);
    return NULL;
}

static PyObject *decode(const uint8_t *s, size_t n)
{
    return PyUnicode_DecodeUTF8((const char *)s, (Py_ssize_t)n, "strict");
}

static PyObject *scan_batch(PyObject *self, PyObject *arg)
{
    const State *st = state_of(self);
    if (st->table_count == 0) {
        PyErr_SetString(PyExc_RuntimeError, "scan_batch: load_schema was not called");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    const uint8_t *start = view.buf, *end = start + view.len;
    if (!check_message(st->tables, start, end, 0, 1)) {
        PyBuffer_Release(&view);
        Py_RETURN_NONE;
    }
    PyObject *ids = PyList_New(0);
    if (ids == NULL)
        goto fail;
    const uint8_t *p = start;
    Field f, g;
    while (next_field(&p, end, &f) == 1) {
        if (f.number != 1)
            continue;
        const uint8_t *q = f.data, *qend = f.data + f.len;
        const uint8_t *id = NULL;
        size_t id_len = 0;
        while (next_field(&q, qend, &g) == 1)
            if (g.number == 1) {
                id = g.data;
                id_len = g.len;
            }
        PyObject *text = id ? decode(id, id_len) : PyUnicode_New(0, 0);
        if (text == NULL || PyList_Append(ids, text) < 0) {
            Py_XDECREF(text);
            goto fail;
        }
        Py_DECREF(text);
    }
    PyBuffer_Release(&view);
    return ids;
fail:
    Py_XDECREF(ids);
    PyBuffer_Release(&view);
    return NULL;
}

/* ---- COCO (coco_images) ------------------------------------------------------------ */

/* Field numbers of clarifai.api and google.protobuf messages (resources.proto). */
enum {
    INPUT_ID = 1, INPUT_DATA = 2,
    DATA_IMAGE = 1, DATA_VIDEO = 2, DATA_CONCEPTS = 3, DATA_METADATA = 5, DATA_REGIONS = 11,
    IMAGE_BASE64 = 2, IMAGE_INFO = 6,
    INFO_WIDTH = 1, INFO_HEIGHT = 2, INFO_FORMAT = 3,
    CONCEPT_ID = 1, CONCEPT_NAME = 2, CONCEPT_VALUE = 3,
    REGION_ID = 1, REGION_INFO = 2, REGION_DATA = 3,
    RINFO_BOX = 1,
    STRUCT_FIELDS = 1, ENTRY_KEY = 1, ENTRY_VALUE = 2,
    VALUE_NULL = 1, VALUE_NUMBER = 2, VALUE_STRING = 3, VALUE_BOOL = 4, VALUE_STRUCT = 5,
    VALUE_LIST = 6, LIST_VALUES = 1,
};

typedef struct {
    const uint8_t *p, *end;
} Span;

/* What the checks of one image input found, for making its entries. */
typedef struct {
    Span id, data, format, metadata, split;
    int has_id, regions;
    const uint8_t *first_region; /* where the walk for regions starts */
    int32_t width, height;
} ImageInput;

/* Messages whose singular message fields appear twice are merged by protobuf; such
 * inputs, and numbers JSON cannot hold, are left to the Python path. */
static int metadata_simple(Span s, int depth);

static int value_simple(Span s, int depth)
{
    Field f;
    int kinds = 0;
    const uint8_t *p = s.p;
    while (next_field(&p, s.end, &f) == 1) {
        switch (f.number) {
        case VALUE_NULL: case VALUE_STRING: case VALUE_BOOL:
            kinds++;
            break;
        case VALUE_NUMBER:
            kinds++;
            if (!isfinite(as_double(f.data)))
                return 0;
            break;
        case VALUE_STRUCT:
            kinds++;
            if (!metadata_simple((Span){f.data, f.data + f.len}, depth + 1))
                return 0;
            break;
        case VALUE_LIST: {
            kinds++;
            const uint8_t *q = f.data, *qend = f.data + f.len;
            Field g;
            while (next_field(&q, qend, &g) == 1)
                if (g.number == LIST_VALUES && !value_simple((Span){g.data, g.data + g.len}, depth + 1))
                    return 0;
            break;
        }
        default:
            break;
        }
    }
    return kinds <= 1;
}

static int metadata_simple(Span s, int depth)
{
    if (depth > MAX_NESTING)
        return 0;
    Field f, g;
    const uint8_t *p = s.p;
    while (next_field(&p, s.end, &f) == 1) {
        if (f.number != STRUCT_FIELDS)
            continue;
        const uint8_t *q = f.data, *qend = f.data + f.len;
        int values = 0;
        while (next_field(&q, qend, &g) == 1) {
            /* protobuf keeps a map entry with an unknown field as an unknown field of the
             * Struct, out of the map: the Python path does what it does. */
            if (g.number != ENTRY_KEY && g.number != ENTRY_VALUE)
                return 0;
            if (g.number == ENTRY_VALUE &&
                (++values > 1 || !value_simple((Span){g.data, g.data + g.len}, depth + 1)))
                return 0;
        }
    }
    return 1;
}

/* The split of an input (what `split --tag` writes: metadata key "split", a string).
 * 0: no such key (or one whose value is no string: the Python path takes it as untagged
 * too, and the input goes there); 1: ``*out`` is a name the fast path files under;
 * -1: the key is there but the Python path decides (a bad name is an error there, a key
 * given twice is protobuf's to merge). */
static int split_of(Span s, Span *out)
{
    Field f, g, h;
    int found = 0;
    const uint8_t *p = s.p;
    while (next_field(&p, s.end, &f) == 1) {
        if (f.number != STRUCT_FIELDS)
            continue;
        Span key = {NULL, NULL}, value = {NULL, NULL};
        const uint8_t *q = f.data, *qend = f.data + f.len;
        while (next_field(&q, qend, &g) == 1) {
            if (g.number == ENTRY_KEY)
                key = (Span){g.data, g.data + g.len};
            else if (g.number == ENTRY_VALUE)
                value = (Span){g.data, g.data + g.len};
        }
        if (key.p == NULL || key.end - key.p != 5 || memcmp(key.p, "split", 5) != 0)
            continue;
        if (found++)
            return -1;
        *out = (Span){NULL, NULL};
        int kinds = 0;
        q = value.p;
        while (value.p != NULL && next_field(&q, value.end, &h) == 1) {
            kinds++;
            if (h.number == VALUE_STRING)
                *out = (Span){h.data, h.data + h.len};
        }
        if (kinds != 1 || out->p == NULL)
            return -1; /* not a string: untagged, which the Python path says */
        size_t n = (size_t)(out->end - out->p);
        if (n == 0 || n > 100) /* toolkit/convert/_training.py: _MAX_SPLIT */
            return -1;
        for (size_t i = 0; i < n; i++) {
            uint8_t ch = out->p[i];
            int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                     ch == '_' || (i > 0 && (ch == '.' || ch == '-'));
            if (!ok)
                return -1;
        }
    }
    return found ? 1 : 0;
}

/* A region the fast path takes: no region_info, or one holding one finite box. */
static int region_simple(Span s)
{
    Field f, g;
    int infos = 0, datas = 0;
    const uint8_t *p = s.p;
    while (next_field(&p, s.end, &f) == 1) {
        if (f.number == REGION_DATA && ++datas > 1)
            return 0;
        if (f.number != REGION_INFO)
            continue;
        if (++infos > 1)
            return 0;
        const uint8_t *q = f.data, *qend = f.data + f.len;
        int boxes = 0;
        while (next_field(&q, qend, &g) == 1) {
            if (g.number != RINFO_BOX || ++boxes > 1)
                return 0;
            const uint8_t *b = g.data, *bend = g.data + g.len;
            Field h;
            while (next_field(&b, bend, &h) == 1)
                if (h.number >= 1 && h.number <= 4 && !isfinite(as_float(h.data)))
                    return 0;
        }
    }
    return 1;
}

/* Reads one input; 1 when the fast path takes it (``in`` filled), 0 when Python does. */
static int image_simple(Span s, ImageInput *in)
{
    Field f, g, h;
    int datas = 0;
    memset(in, 0, sizeof(*in));
    const uint8_t *p = s.p;
    while (next_field(&p, s.end, &f) == 1) {
        if (f.number == INPUT_ID) {
            in->id = (Span){f.data, f.data + f.len};
            in->has_id = 1;
        } else if (f.number == INPUT_DATA) {
            if (++datas > 1)
                return 0;
            in->data = (Span){f.data, f.data + f.len};
        }
    }
    if (datas != 1)
        return 0;
    int images = 0, metadatas = 0;
    p = in->data.p;
    const uint8_t *field_start = p;
    for (; next_field(&p, in->data.end, &f) == 1; field_start = p) {
        switch (f.number) {
        case DATA_IMAGE: {
            if (++images > 1)
                return 0;
            const uint8_t *q = f.data, *qend = f.data + f.len;
            int infos = 0;
            size_t base64 = 0;
            while (next_field(&q, qend, &g) == 1) {
                if (g.number == IMAGE_BASE64) {
                    base64 = g.len;
                } else if (g.number == IMAGE_INFO) {
                    if (++infos > 1)
                        return 0;
                    const uint8_t *r = g.data, *rend = g.data + g.len;
                    while (next_field(&r, rend, &h) == 1) {
                        if (h.number == INFO_WIDTH)
                            in->width = (int32_t)(uint32_t)h.varint;
                        else if (h.number == INFO_HEIGHT)
                            in->height = (int32_t)(uint32_t)h.varint;
                        else if (h.number == INFO_FORMAT)
                            in->format = (Span){h.data, h.data + h.len};
                    }
                }
            }
            if (base64)
                return 0;
            break;
        }
        case DATA_VIDEO:
            return 0;
        case DATA_METADATA:
            if (++metadatas > 1 || !metadata_simple((Span){f.data, f.data + f.len}, 1))
                return 0;
            in->metadata = (Span){f.data, f.data + f.len};
            if (split_of(in->metadata, &in->split) < 0)
                return 0;
            break;
        case DATA_REGIONS:
            if (!region_simple((Span){f.data, f.data + f.len}))
                return 0;
            if (in->regions++ == 0)
                in->first_region = field_start;
            break;
        default:
            break;
        }
    }
    return images == 1 && in->width > 0 && in->height > 0 && in->format.end > in->format.p;
}

/* A memo from wire bytes (a Concept message) to what was made of them, so a repeated
 * concept costs no decoding, no new strings or tuples and no call into Python.
 * Direct-mapped: a new key takes its slot's place. One per conversion (a capsule). */
#define MEMO_SLOTS 4096
#define MEMO_MAX_KEY 256

typedef struct {
    uint64_t hash;
    size_t len;
    uint8_t *key;
    PyObject *value;
} MemoSlot;

typedef struct {
    MemoSlot slots[MEMO_SLOTS];
} Memo;

typedef struct {
    Memo concepts;   /* image Concept bytes -> its clarifai_concepts entry, as JSON bytes */
    Memo categories; /* region Concept bytes -> category id (int) */
} Memos;

static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static PyObject *memo_get(Memo *m, const uint8_t *key, size_t n, uint64_t *hash)
{
    *hash = hash_bytes(key, n);
    MemoSlot *slot = &m->slots[*hash & (MEMO_SLOTS - 1)];
    if (slot->value != NULL && slot->hash == *hash && slot->len == n &&
        (n == 0 || memcmp(slot->key, key, n) == 0))
        return slot->value;
    return NULL;
}

static void memo_put(Memo *m, const uint8_t *key, size_t n, uint64_t hash, PyObject *value)
{
    if (n > MEMO_MAX_KEY)
        return;
    MemoSlot *slot = &m->slots[hash & (MEMO_SLOTS - 1)];
    uint8_t *copy = PyMem_Malloc(n ? n : 1);
    if (copy == NULL)
        return; /* a memo is only a shortcut */
    memcpy(copy, key, n);
    PyMem_Free(slot->key);
    Py_XSETREF(slot->value, Py_NewRef(value));
    slot->key = copy;
    slot->len = n;
    slot->hash = hash;
}

static void memo_clear(Memo *m)
{
    for (int i = 0; i < MEMO_SLOTS; i++) {
        PyMem_Free(m->slots[i].key);
        Py_CLEAR(m->slots[i].value);
        m->slots[i].key = NULL;
    }
}

static void memos_free(PyObject *capsule)
{
    Memos *memos = PyCapsule_GetPointer(capsule, "toolkit._speedups.memos");
    if (memos == NULL)
        return;
    memo_clear(&memos->concepts);
    memo_clear(&memos->categories);
    PyMem_Free(memos);
}

static PyObject *new_memos(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    Memos *memos = PyMem_Calloc(1, sizeof(Memos));
    if (memos == NULL)
        return PyErr_NoMemory();
    PyObject *capsule = PyCapsule_New(memos, "toolkit._speedups.memos", memos_free);
    if (capsule == NULL)
        PyMem_Free(memos);
    return capsule;
}

/* ---- JSON text, byte for byte as orjson writes the same dicts --------------------- */

typedef struct {
    char *data;
    size_t len, cap;
} Buf;

static int buf_grow(Buf *b, size_t more)
{
    if (b->len + more <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 1 << 16;
    while (cap < b->len + more)
        cap *= 2;
    char *data = PyMem_Realloc(b->data, cap);
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = data;
    b->cap = cap;
    return 0;
}

static int put(Buf *b, const char *s, size_t n)
{
    if (buf_grow(b, n) < 0)
        return -1;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    return 0;
}

#define PUT_LITERAL(b, s) put((b), (s), sizeof(s) - 1)

/* The decimal digits of ``v`` at ``out`` (no sign); their count. snprintf is slow. */
static int format_digits(char *out, unsigned long long v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (int i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

static int format_int(char *out, long long v)
{
    if (v < 0) {
        out[0] = '-';
        return 1 + format_digits(out + 1, 0ull - (unsigned long long)v);
    }
    return format_digits(out, (unsigned long long)v);
}

static int put_int(Buf *b, long long v)
{
    char text[24];
    return put(b, text, (size_t)format_int(text, v));
}

/* A JSON string from valid UTF-8, escaped as orjson escapes it. */
static int put_string(Buf *b, const uint8_t *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (buf_grow(b, 6 * n + 2) < 0)
        return -1;
    char *out = b->data + b->len;
    *out++ = '"';
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = s[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\') {
            *out++ = (char)ch;
            continue;
        }
        *out++ = '\\';
        switch (ch) {
        case '"': *out++ = '"'; break;
        case '\\': *out++ = '\\'; break;
        case '\b': *out++ = 'b'; break;
        case '\t': *out++ = 't'; break;
        case '\n': *out++ = 'n'; break;
        case '\f': *out++ = 'f'; break;
        case '\r': *out++ = 'r'; break;
        default:
            *out++ = 'u';
            *out++ = '0';
            *out++ = '0';
            *out++ = hex[ch >> 4];
            *out++ = hex[ch & 15];
        }
    }
    *out++ = '"';
    b->len = (size_t)(out - b->data);
    return 0;
}

static int put_str_object(Buf *b, PyObject *text)
{
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(text, &n);
    return s == NULL ? -1 : put_string(b, (const uint8_t *)s, (size_t)n);
}

/* ``k / 10**decimals`` (a float that is exactly the double nearest that decimal) as
 * Python's repr and orjson write it: the decimal itself, trailing zeros dropped. */
static int format_scaled(char *out, long long k, int decimals, int negative_zero)
{
    unsigned long long scale = decimals == 2 ? 100 : 10000;
    unsigned long long a = k < 0 ? 0ull - (unsigned long long)k : (unsigned long long)k;
    int n = 0;
    if (k < 0 || (k == 0 && negative_zero))
        out[n++] = '-';
    n += format_digits(out + n, a / scale);
    out[n++] = '.';
    unsigned long long frac = a % scale;
    for (int i = decimals - 1; i >= 0; i--) {
        out[n + i] = (char)('0' + frac % 10);
        frac /= 10;
    }
    n += decimals;
    while (out[n - 1] == '0' && out[n - 2] != '.')
        n--;
    return n;
}

/* A double as orjson writes it: its length when written, 0 when orjson's form may
 * differ from Python's repr (exponents), -1 on error. */
static int format_double(char *out, size_t cap, double x)
{
    if (!isfinite(x))
        return 0;
    if (x == floor(x) && fabs(x) < 1e15) {
        int n = 0;
        if (signbit(x))
            out[n++] = '-';
        n += format_digits(out + n, (unsigned long long)fabs(x));
        out[n++] = '.';
        out[n++] = '0';
        return n;
    }
    char *text = PyOS_double_to_string(x, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    if (text == NULL)
        return -1;
    size_t n = strlen(text);
    int status = strpbrk(text, "eEni") == NULL && n < cap ? (int)n : 0;
    if (status)
        memcpy(out, text, n);
    PyMem_Free(text);
    return status;
}

static int put_double(Buf *b, double x)
{
    char text[64];
    int n = format_double(text, sizeof(text), x);
    if (n <= 0)
        return n;
    return put(b, text, (size_t)n) < 0 ? -1 : 1;
}

/* ``round(x, decimals)`` as toolkit.convert.coco._round2/_round4 compute it, formatted
 * as orjson writes that float (see format_double); ``*value`` gets the float. */
static int format_rounded(char *out, size_t cap, double x, int decimals, double *value)
{
    const double big = 1099511627776.0; /* 2**40 */
    double scale = decimals == 2 ? 100.0 : 10000.0;
    double s = x * scale;
    if (-big < s && s < big) {
        double k = nearbyint(s); /* ties to even, as round() */
        double d = s - k;
        if (-0.4999 < d && d < 0.4999) {
            *value = k != 0.0 ? k / scale : x * 0.0;
            return format_scaled(out, (long long)k, decimals, signbit(*value) != 0);
        }
    }
    PyObject *number = PyFloat_FromDouble(x);
    if (number == NULL)
        return -1;
    PyObject *rounded = PyObject_CallMethod(number, "__round__", "i", decimals);
    Py_DECREF(number);
    if (rounded == NULL)
        return -1;
    *value = PyFloat_AsDouble(rounded);
    Py_DECREF(rounded);
    return format_double(out, cap, *value);
}

/* ---- metadata (google.protobuf.Struct) as toolkit.jsonmap._struct writes it ------- */

typedef struct {
    Span key, value;
    size_t position;
} Entry;

static int compare_entries(const void *a, const void *b)
{
    const Entry *x = a, *y = b;
    size_t nx = (size_t)(x->key.end - x->key.p), ny = (size_t)(y->key.end - y->key.p);
    int order = memcmp(x->key.p, y->key.p, nx < ny ? nx : ny);
    if (order == 0)
        order = nx < ny ? -1 : nx > ny;
    if (order == 0)
        order = x->position < y->position ? -1 : 1;
    return order;
}

static int put_value(Buf *b, Span s, int depth);

/* Keys sorted (UTF-8 byte order is code point order, as sorted() on str); of a key
 * given twice the last value counts, as protobuf's map parsing keeps it. */
static int put_struct(Buf *b, Span s, int depth)
{
    if (depth > MAX_NESTING)
        return 0;
    size_t count = 0;
    Field f, g;
    const uint8_t *p = s.p;
    while (next_field(&p, s.end, &f) == 1)
        count += f.number == STRUCT_FIELDS;
    if (count == 0)
        return PUT_LITERAL(b, "{}") < 0 ? -1 : 1;
    Entry small[16];
    Entry *entries = count <= 16 ? small : PyMem_Malloc(count * sizeof(Entry));
    if (entries == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    size_t n = 0;
    p = s.p;
    while (next_field(&p, s.end, &f) == 1) {
        if (f.number != STRUCT_FIELDS)
            continue;
        Entry *e = &entries[n];
        e->key = (Span){(const uint8_t *)"", (const uint8_t *)""};
        e->value = (Span){NULL, NULL};
        e->position = n++;
        const uint8_t *q = f.data, *qend = f.data + f.len;
        while (next_field(&q, qend, &g) == 1) {
            if (g.number == ENTRY_KEY)
                e->key = (Span){g.data, g.data + g.len};
            else if (g.number == ENTRY_VALUE)
                e->value = (Span){g.data, g.data + g.len};
        }
    }
    if (n > 1)
        qsort(entries, n, sizeof(Entry), compare_entries);
    int status = PUT_LITERAL(b, "{") < 0 ? -1 : 1;
    int first = 1;
    for (size_t i = 0; i < n && status == 1; i++) {
        if (i + 1 < n && entries[i + 1].key.end - entries[i + 1].key.p == entries[i].key.end - entries[i].key.p &&
            memcmp(entries[i + 1].key.p, entries[i].key.p, (size_t)(entries[i].key.end - entries[i].key.p)) == 0)
            continue; /* a later value for the same key follows */
        if ((!first && PUT_LITERAL(b, ",") < 0) ||
            put_string(b, entries[i].key.p, (size_t)(entries[i].key.end - entries[i].key.p)) < 0 ||
            PUT_LITERAL(b, ":") < 0) {
            status = -1;
            break;
        }
        first = 0;
        if (entries[i].value.p == NULL)
            status = PUT_LITERAL(b, "null") < 0 ? -1 : 1;
        else
            status = put_value(b, entries[i].value, depth + 1);
    }
    if (status == 1 && PUT_LITERAL(b, "}") < 0)
        status = -1;
    if (entries != small)
        PyMem_Free(entries);
    return status;
}

/* One Value (metadata_simple allowed one kind at most). 1, 0 (Python should write
 * it), -1. */
static int put_value(Buf *b, Span s, int depth)
{
    Field f;
    const uint8_t *p = s.p;
    while (next_field(&p, s.end, &f) == 1) {
        switch (f.number) {
        case VALUE_NULL:
            return PUT_LITERAL(b, "null") < 0 ? -1 : 1;
        case VALUE_NUMBER:
            return put_double(b, as_double(f.data));
        case VALUE_STRING:
            return put_string(b, f.data, f.len) < 0 ? -1 : 1;
        case VALUE_BOOL:
            return (f.varint ? PUT_LITERAL(b, "true") : PUT_LITERAL(b, "false")) < 0 ? -1 : 1;
        case VALUE_STRUCT:
            return put_struct(b, (Span){f.data, f.data + f.len}, depth + 1);
        case VALUE_LIST: {
            if (depth > MAX_NESTING)
                return 0;
            if (PUT_LITERAL(b, "[") < 0)
                return -1;
            const uint8_t *q = f.data, *qend = f.data + f.len;
            Field g;
            int first = 1;
            while (next_field(&q, qend, &g) == 1) {
                if (g.number != LIST_VALUES)
                    continue;
                if (!first && PUT_LITERAL(b, ",") < 0)
                    return -1;
                first = 0;
                int status = put_value(b, (Span){g.data, g.data + g.len}, depth + 1);
                if (status != 1)
                    return status;
            }
            return PUT_LITERAL(b, "]") < 0 ? -1 : 1;
        }
        default:
            break;
        }
    }
    return PUT_LITERAL(b, "null") < 0 ? -1 : 1;
}

/* ---- the conversion ----------------------------------------------------------------- */

/* What coco_images works with: the converter's tables, callbacks and counters. */
typedef struct {
    Memos *memos;
    PyObject *concept_entries, *concept_entry; /* dict (id, name, value) -> entry; maker */
    PyObject *category_ids, *category_id;      /* dict (id, name) -> int; maker */
    PyObject *stem_for;                        /* callable id -> file stem */
    PyObject *stems, *taken, *reserved;        /* FileNamer.plain_tables() */
    Py_ssize_t stem_budget;
    PyObject *exts, *ext_for;                  /* dict format -> ".ext" or None; maker */
    PyObject *fallback;                        /* callable(bytes): the Python path */
    PyObject *dumps;                           /* orjson.dumps with the converter's options */
    PyObject *counters;                        /* list: image, annotation, no concept, no shape */
    long long next_image, next_annotation, without_concept, without_shape;
    Buf images, annotations;                   /* JSON objects, commas between */
    long long images_written, annotations_written;
    struct Slot *slots;                        /* the same, per split of tagged inputs */
    Py_ssize_t nslots, slots_cap;
    long long skipped[3];                      /* inputs left out: text, audio, unknown */
} Coco;

/* What the inputs of one split (``split --tag``) give: their own JSON text and counts. */
typedef struct Slot {
    PyObject *name; /* str */
    Buf images, annotations;
    long long images_written, annotations_written;
} Slot;

static PyObject *cached_call(PyObject *cache, PyObject *key, PyObject *maker, PyObject *args)
{
    PyObject *hit = PyDict_GetItemWithError(cache, key);
    if (hit != NULL)
        return Py_NewRef(hit);
    if (PyErr_Occurred())
        return NULL;
    return PyObject_Call(maker, args, NULL);
}

/* A Concept message's id, name and value. */
static void read_concept(const Field *f, Span *id, Span *name, float *value)
{
    *id = (Span){(const uint8_t *)"", (const uint8_t *)""};
    *name = *id;
    *value = 0.0f;
    Field g;
    const uint8_t *q = f->data, *qend = f->data + f->len;
    while (next_field(&q, qend, &g) == 1) {
        if (g.number == CONCEPT_ID)
            *id = (Span){g.data, g.data + g.len};
        else if (g.number == CONCEPT_NAME)
            *name = (Span){g.data, g.data + g.len};
        else if (g.number == CONCEPT_VALUE)
            *value = as_float(g.data);
    }
}

/* What the converter makes of a positive concept (memoised by its bytes): for the image,
 * its clarifai_concepts entry as JSON bytes; for a region, its category id. New ref. */
static PyObject *concept_item(Coco *c, const Field *f, Span id, Span name, float value, int region)
{
    Memo *memo = region ? &c->memos->categories : &c->memos->concepts;
    uint64_t hash;
    PyObject *item = memo_get(memo, f->data, f->len, &hash);
    if (item != NULL)
        return Py_NewRef(item);
    PyObject *cid = decode(id.p, (size_t)(id.end - id.p));
    PyObject *cname = cid ? decode(name.p, (size_t)(name.end - name.p)) : NULL;
    PyObject *key = NULL;
    if (cname != NULL)
        key = region ? PyTuple_Pack(2, cid, cname) : Py_BuildValue("(OOd)", cid, cname, (double)value);
    Py_XDECREF(cid);
    Py_XDECREF(cname);
    if (key == NULL)
        return NULL;
    item = region ? cached_call(c->category_ids, key, c->category_id, key)
                  : cached_call(c->concept_entries, key, c->concept_entry, key);
    Py_DECREF(key);
    if (item != NULL && !region) {
        Py_SETREF(item, PyObject_CallOneArg(c->dumps, item));
        if (item != NULL && !PyBytes_Check(item)) {
            PyErr_SetString(PyExc_TypeError, "coco_images: dumps must return bytes");
            Py_CLEAR(item);
        }
    }
    if (item != NULL)
        memo_put(memo, f->data, f->len, hash, item);
    return item;
}

/* The clarifai_concepts list of the image: its positive concepts' entries. */
static int put_concepts(Coco *c, Buf *b, Span data)
{
    if (PUT_LITERAL(b, "[") < 0)
        return -1;
    int first = 1;
    Field f;
    const uint8_t *p = data.p;
    while (next_field(&p, data.end, &f) == 1) {
        if (f.number != DATA_CONCEPTS)
            continue;
        Span id, name;
        float value;
        read_concept(&f, &id, &name, &value);
        if (!(value > 0.0f))
            continue;
        PyObject *entry = concept_item(c, &f, id, name, value, 0);
        if (entry == NULL)
            return -1;
        int status = (!first && PUT_LITERAL(b, ",") < 0) ||
                     put(b, PyBytes_AS_STRING(entry), (size_t)PyBytes_GET_SIZE(entry)) < 0;
        Py_DECREF(entry);
        if (status)
            return -1;
        first = 0;
    }
    return PUT_LITERAL(b, "]");
}

#define MAX_REGION_CATEGORIES 64

/* A region's annotations (one per positive concept). 1, 0 (Python should convert the
 * input), -1. */
static int put_region(Coco *c, Span region, long long image_id, double w, double h)
{
    Field f, g, bf;
    Span id = {(const uint8_t *)"", (const uint8_t *)""}, data = {NULL, NULL};
    const uint8_t *info = NULL, *info_end = NULL;
    const uint8_t *p = region.p;
    while (next_field(&p, region.end, &f) == 1) {
        if (f.number == REGION_ID)
            id = (Span){f.data, f.data + f.len};
        else if (f.number == REGION_INFO) {
            info = f.data;
            info_end = f.data + f.len;
        } else if (f.number == REGION_DATA)
            data = (Span){f.data, f.data + f.len};
    }
    long long cats[MAX_REGION_CATEGORIES];
    int ncats = 0;
    if (data.p != NULL) {
        p = data.p;
        while (next_field(&p, data.end, &f) == 1) {
            if (f.number != DATA_CONCEPTS)
                continue;
            Span cid, cname;
            float value;
            read_concept(&f, &cid, &cname, &value);
            if (!(value > 0.0f))
                continue;
            if (ncats == MAX_REGION_CATEGORIES)
                return 0;
            PyObject *cat = concept_item(c, &f, cid, cname, value, 1);
            if (cat == NULL)
                return -1;
            cats[ncats] = PyLong_AsLongLong(cat);
            Py_DECREF(cat);
            if (cats[ncats] == -1 && PyErr_Occurred())
                return -1;
            ncats++;
        }
    }
    if (ncats == 0) {
        c->without_concept++;
        return 1;
    }
    /* region_simple allowed one box at most, with finite values. */
    int has_box = 0;
    float box[4] = {0, 0, 0, 0}; /* top, left, bottom, right */
    if (info != NULL) {
        while (next_field(&info, info_end, &g) == 1) {
            has_box = 1;
            const uint8_t *q = g.data, *qend = g.data + g.len;
            while (next_field(&q, qend, &bf) == 1)
                if (bf.number >= 1 && bf.number <= 4)
                    box[bf.number - 1] = as_float(bf.data);
        }
    }
    if (!has_box) {
        c->without_shape++;
        return 1;
    }
    double top = box[0], left = box[1], bottom = box[2], right = box[3];
    /* The text from the bbox to the region id's key once, then one annotation per
     * category. Each number takes at most 64 characters; the segmentation is the box's
     * corners (x, y, x2, y, x2, y2, x, y2), as _annotate writes it. */
    char geometry[1024], x[64], y[64], bw[64], bh[64], area[64], x2[64], y2[64];
    double vx, vy, vw, vh, varea, vx2, vy2;
    int nw = format_rounded(bw, sizeof(bw), (right - left) * w, 2, &vw);
    int nh = nw > 0 ? format_rounded(bh, sizeof(bh), (bottom - top) * h, 2, &vh) : nw;
    int nx = nh > 0 ? format_rounded(x, sizeof(x), left * w, 2, &vx) : nh;
    int ny = nx > 0 ? format_rounded(y, sizeof(y), top * h, 2, &vy) : nx;
    int na = ny > 0 ? format_rounded(area, sizeof(area), vw * vh, 4, &varea) : ny;
    int nx2 = na > 0 ? format_rounded(x2, sizeof(x2), right * w, 2, &vx2) : na;
    int ny2 = nx2 > 0 ? format_rounded(y2, sizeof(y2), bottom * h, 2, &vy2) : nx2;
    if (ny2 <= 0)
        return ny2;
    Buf text = {geometry, 0, sizeof(geometry)}; /* big enough: never grows */
    PUT_LITERAL(&text, ",\"bbox\":[");
    put(&text, x, (size_t)nx);
    PUT_LITERAL(&text, ",");
    put(&text, y, (size_t)ny);
    PUT_LITERAL(&text, ",");
    put(&text, bw, (size_t)nw);
    PUT_LITERAL(&text, ",");
    put(&text, bh, (size_t)nh);
    PUT_LITERAL(&text, "],\"area\":");
    put(&text, area, (size_t)na);
    PUT_LITERAL(&text, ",\"iscrowd\":0,\"segmentation\":[[");
    const char *corner_x[4] = {x, x2, x2, x}, *corner_y[4] = {y, y, y2, y2};
    int corner_nx[4] = {nx, nx2, nx2, nx}, corner_ny[4] = {ny, ny, ny2, ny2};
    for (int i = 0; i < 4; i++) {
        if (i)
            PUT_LITERAL(&text, ",");
        put(&text, corner_x[i], (size_t)corner_nx[i]);
        PUT_LITERAL(&text, ",");
        put(&text, corner_y[i], (size_t)corner_ny[i]);
    }
    PUT_LITERAL(&text, "]],\"clarifai_region_id\":");
    size_t ng = text.len;
    for (int i = 0; i < ncats; i++) {
        Buf *b = &c->annotations;
        if ((b->len && PUT_LITERAL(b, ",") < 0) || PUT_LITERAL(b, "{\"id\":") < 0 ||
            put_int(b, c->next_annotation) < 0 || PUT_LITERAL(b, ",\"image_id\":") < 0 ||
            put_int(b, image_id) < 0 || PUT_LITERAL(b, ",\"category_id\":") < 0 ||
            put_int(b, cats[i]) < 0 || put(b, geometry, ng) < 0 ||
            put_string(b, id.p, (size_t)(id.end - id.p)) < 0 || PUT_LITERAL(b, "}") < 0)
            return -1;
        c->next_annotation++;
        c->annotations_written++;
    }
    return 1;
}

/* FileNamer.stem_for(input_id): a plain id that is free keeps its name, as stem_for's
 * first branch decides (toolkit/media/_names.py); any other id goes to stem_for. */
static PyObject *stem_of(Coco *c, PyObject *input_id, Span raw)
{
    PyObject *stem = PyDict_GetItemWithError(c->stems, input_id);
    if (stem != NULL)
        return Py_NewRef(stem);
    if (PyErr_Occurred())
        return NULL;
    Py_ssize_t n = raw.p ? raw.end - raw.p : 0;
    char folded[256];
    int plain = n > 0 && n <= c->stem_budget && n < (Py_ssize_t)sizeof(folded) &&
                raw.p[n - 1] != '.' && raw.p[0] != '.' && raw.p[0] != '-';
    Py_ssize_t prefix = n;
    for (Py_ssize_t i = 0; plain && i < n; i++) {
        char ch = (char)raw.p[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        else if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
                   ch == '.'))
            plain = 0;
        if (ch == '.' && prefix == n)
            prefix = i;
        folded[i] = ch;
    }
    if (plain && prefix <= 7) { /* the reserved device names are short */
        PyObject *head = PyUnicode_FromStringAndSize(folded, prefix);
        if (head == NULL)
            return NULL;
        int reserved = PySet_Contains(c->reserved, head);
        Py_DECREF(head);
        if (reserved < 0)
            return NULL;
        plain = !reserved;
    }
    if (plain) {
        /* An id without capitals is its own casefolded name (and has its hash already). */
        PyObject *name = memcmp(folded, raw.p, (size_t)n) == 0 ? Py_NewRef(input_id)
                                                               : PyUnicode_FromStringAndSize(folded, n);
        if (name == NULL)
            return NULL;
        int taken = PySet_Contains(c->taken, name);
        if (taken == 0 && (PySet_Add(c->taken, name) < 0 || PyDict_SetItem(c->stems, input_id, input_id) < 0))
            taken = -1;
        Py_DECREF(name);
        if (taken < 0)
            return NULL;
        if (taken == 0)
            return Py_NewRef(input_id);
    }
    return PyObject_CallOneArg(c->stem_for, input_id);
}

/* The image entry and annotations of one input that image_simple took on: 1 when
 * written, 0 when Python should convert it (nothing of it is kept then), -1. */
static int put_image(Coco *c, ImageInput *in, PyObject *ext)
{
    Buf *b = &c->images;
    size_t images_len = b->len, annotations_len = c->annotations.len;
    long long counters[4] = {c->next_image, c->next_annotation, c->without_concept, c->without_shape};
    long long annotations_written = c->annotations_written;
    Span id = in->has_id ? in->id : (Span){(const uint8_t *)"", (const uint8_t *)""};
    PyObject *input_id = decode(id.p, (size_t)(id.end - id.p));
    if (input_id == NULL)
        return -1;
    int status = -1;
    PyObject *stem = stem_of(c, input_id, in->has_id ? in->id : (Span){NULL, NULL});
    if (stem == NULL)
        goto done;
    long long image_id = c->next_image;
    if ((b->len && PUT_LITERAL(b, ",") < 0) || PUT_LITERAL(b, "{\"id\":") < 0 ||
        put_int(b, image_id) < 0 || PUT_LITERAL(b, ",\"file_name\":\"") < 0)
        goto done;
    /* stem + ext, one JSON string: the stem escaped, the extension plain. */
    b->len--;
    Py_ssize_t stem_len, ext_len;
    const char *stem_text = PyUnicode_AsUTF8AndSize(stem, &stem_len);
    const char *ext_text = PyUnicode_AsUTF8AndSize(ext, &ext_len);
    if (stem_text == NULL || ext_text == NULL || put_string(b, (const uint8_t *)stem_text, (size_t)stem_len) < 0)
        goto done;
    b->len--;
    if (put(b, ext_text, (size_t)ext_len) < 0 || PUT_LITERAL(b, "\",\"width\":") < 0 ||
        put_int(b, in->width) < 0 || PUT_LITERAL(b, ",\"height\":") < 0 || put_int(b, in->height) < 0 ||
        PUT_LITERAL(b, ",\"clarifai_input_id\":") < 0 || put_string(b, id.p, (size_t)(id.end - id.p)) < 0 ||
        PUT_LITERAL(b, ",\"clarifai_concepts\":") < 0 || put_concepts(c, b, in->data) < 0 ||
        PUT_LITERAL(b, ",\"clarifai_metadata\":") < 0)
        goto done;
    status = in->metadata.p != NULL ? put_struct(b, in->metadata, 1) : (PUT_LITERAL(b, "{}") < 0 ? -1 : 1);
    if (status == 1 && PUT_LITERAL(b, "}") < 0)
        status = -1;
    if (status != 1)
        goto done;
    c->next_image = image_id + 1;
    if (in->regions) {
        double w = (double)in->width, h = (double)in->height;
        Field f;
        const uint8_t *p = in->first_region;
        while (status == 1 && next_field(&p, in->data.end, &f) == 1)
            if (f.number == DATA_REGIONS)
                status = put_region(c, (Span){f.data, f.data + f.len}, image_id, w, h);
    }
done:
    if (status == 0) { /* undone: the Python path converts the input */
        b->len = images_len;
        c->annotations.len = annotations_len;
        c->next_image = counters[0];
        c->next_annotation = counters[1];
        c->without_concept = counters[2];
        c->without_shape = counters[3];
        c->annotations_written = annotations_written;
    } else if (status == 1) {
        c->images_written++;
    }
    Py_DECREF(input_id);
    Py_XDECREF(stem);
    return status;
}

static int store_counters(Coco *c)
{
    long long values[4] = {c->next_image, c->next_annotation, c->without_concept, c->without_shape};
    for (Py_ssize_t i = 0; i < 4; i++) {
        PyObject *v = PyLong_FromLongLong(values[i]);
        if (v == NULL || PyList_SetItem(c->counters, i, v) < 0)
            return -1;
    }
    return 0;
}

static int load_counters(Coco *c)
{
    long long *slots[4] = {&c->next_image, &c->next_annotation, &c->without_concept, &c->without_shape};
    if (!PyList_Check(c->counters) || PyList_GET_SIZE(c->counters) != 4) {
        PyErr_SetString(PyExc_TypeError, "coco_images: counters must be a list of 4 ints");
        return -1;
    }
    for (Py_ssize_t i = 0; i < 4; i++) {
        long long v = PyLong_AsLongLong(PyList_GET_ITEM(c->counters, i));
        if (v == -1 && PyErr_Occurred())
            return -1;
        *slots[i] = v;
    }
    return 0;
}

/* ".ext" for an image_info.format, or None: from the cache, else from ext_for. */
static PyObject *extension(Coco *c, Span format)
{
    PyObject *key = decode(format.p, (size_t)(format.end - format.p));
    if (key == NULL)
        return NULL;
    PyObject *ext = PyDict_GetItemWithError(c->exts, key);
    if (ext != NULL) {
        Py_INCREF(ext);
    } else if (!PyErr_Occurred()) {
        ext = PyObject_CallOneArg(c->ext_for, key);
        if (ext != NULL && ext != Py_None)
            Py_SETREF(ext, PyUnicode_FromFormat(".%U", ext));
        if (ext != NULL && PyDict_GET_SIZE(c->exts) < 1024 && PyDict_SetItem(c->exts, key, ext) < 0)
            Py_CLEAR(ext);
    }
    Py_DECREF(key);
    return ext;
}

/* Appends what the Python path put in ``items`` (dicts) to ``b`` as JSON, and empties it. */
static int take_items(Coco *c, PyObject *items, Buf *b, long long *written)
{
    Py_ssize_t n = PyList_GET_SIZE(items);
    if (n == 0)
        return 0;
    PyObject *text = PyObject_CallOneArg(c->dumps, items);
    if (text == NULL)
        return -1;
    int status = -1;
    if (PyBytes_Check(text) && PyBytes_GET_SIZE(text) >= 2) {
        /* "[a,b]" -> "a,b" */
        status = ((b->len && PUT_LITERAL(b, ",") < 0) ||
                  put(b, PyBytes_AS_STRING(text) + 1, (size_t)PyBytes_GET_SIZE(text) - 2) < 0)
                     ? -1
                     : 0;
    } else {
        PyErr_SetString(PyExc_TypeError, "coco_images: dumps must return a JSON list");
    }
    Py_DECREF(text);
    if (status == 0) {
        *written += n;
        status = PyList_SetSlice(items, 0, n, NULL);
    }
    return status;
}

/* The slot of split ``name`` (a str), made on first sight; NULL on error. */
static Slot *find_slot(Coco *c, PyObject *name)
{
    for (Py_ssize_t i = 0; i < c->nslots; i++) {
        int same = PyUnicode_Compare(c->slots[i].name, name);
        if (same == 0)
            return &c->slots[i];
        if (same == -1 && PyErr_Occurred())
            return NULL;
    }
    if (c->nslots == c->slots_cap) {
        Py_ssize_t cap = c->slots_cap ? 2 * c->slots_cap : 4;
        Slot *slots = PyMem_Realloc(c->slots, (size_t)cap * sizeof(Slot));
        if (slots == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
        c->slots = slots;
        c->slots_cap = cap;
    }
    Slot *slot = &c->slots[c->nslots++];
    memset(slot, 0, sizeof(*slot));
    slot->name = Py_NewRef(name);
    return slot;
}

/* Exchange the converter's output with a slot's (twice: back again). */
static void swap_slot(Coco *c, Slot *slot)
{
    Buf b = c->images;
    c->images = slot->images;
    slot->images = b;
    b = c->annotations;
    c->annotations = slot->annotations;
    slot->annotations = b;
    long long n = c->images_written;
    c->images_written = slot->images_written;
    slot->images_written = n;
    n = c->annotations_written;
    c->annotations_written = slot->annotations_written;
    slot->annotations_written = n;
}

/* An input COCO leaves out without a look from Python: its data (every occurrence of
 * Input.data, as protobuf merges them) has no image, no video and no metadata (a split
 * tag would make the split's file). Its kind, as records.input_type says it: 0 text,
 * 1 audio, 2 unknown; -1 when Python should look (the input, or its wire, is otherwise). */
static int skipped_kind(const Field *input)
{
    const uint8_t *p = input->data, *end = p + input->len;
    int text = 0, audio = 0, r;
    Field f;
    while ((r = next_field(&p, end, &f)) == 1) {
        if (f.number != 2)
            continue;
        if (f.wire != W_LEN)
            return -1;
        const uint8_t *q = f.data, *data_end = f.data + f.len;
        Field g;
        while ((r = next_field(&q, data_end, &g)) == 1) {
            if (g.number == 1 || g.number == 2 || g.number == 5)
                return -1; /* image, video, metadata */
            text |= g.number == 13;
            audio |= g.number == 14;
        }
        if (r < 0)
            return -1;
    }
    if (r < 0)
        return -1;
    return text ? 0 : audio ? 1 : 2;
}

/* The Python path for one input: it appends dicts to ``images`` and ``annotations``, or,
 * for an input tagged with a split, returns ``(split, images, annotations)`` of its own. */
static int convert_in_python(Coco *c, const Field *f, PyObject *images, PyObject *annotations)
{
    if (store_counters(c) < 0)
        return -1;
    PyObject *raw = PyBytes_FromStringAndSize((const char *)f->data, (Py_ssize_t)f->len);
    if (raw == NULL)
        return -1;
    PyObject *done = PyObject_CallOneArg(c->fallback, raw);
    Py_DECREF(raw);
    if (done == NULL)
        return -1;
    int status = 0;
    if (done != Py_None) {
        PyObject *name, *split_images, *split_annotations;
        Slot *slot;
        if (!PyArg_ParseTuple(done, "UO!O!:coco_images fallback", &name, &PyList_Type, &split_images,
                              &PyList_Type, &split_annotations) ||
            (slot = find_slot(c, name)) == NULL ||
            take_items(c, split_images, &slot->images, &slot->images_written) < 0 ||
            take_items(c, split_annotations, &slot->annotations, &slot->annotations_written) < 0)
            status = -1;
    }
    Py_DECREF(done);
    if (status < 0 || load_counters(c) < 0 || take_items(c, images, &c->images, &c->images_written) < 0 ||
        take_items(c, annotations, &c->annotations, &c->annotations_written) < 0)
        return -1;
    return 0;
}

static PyObject *coco_images(PyObject *self, PyObject *args)
{
    (void)self;
    Coco c;
    memset(&c, 0, sizeof(c));
    Py_buffer view;
    PyObject *capsule, *images, *annotations;
    if (!PyArg_ParseTuple(args, "y*OO!OO!OO(O!O!O!n)O!OOOO!O!O!:coco_images", &view, &capsule,
                          &PyDict_Type, &c.concept_entries, &c.concept_entry, &PyDict_Type,
                          &c.category_ids, &c.category_id, &c.stem_for, &PyDict_Type, &c.stems,
                          &PySet_Type, &c.taken, &PyFrozenSet_Type, &c.reserved, &c.stem_budget,
                          &PyDict_Type, &c.exts, &c.ext_for, &c.fallback, &c.dumps, &PyList_Type,
                          &images, &PyList_Type, &annotations, &PyList_Type, &c.counters))
        return NULL;
    PyObject *result = NULL;
    const uint8_t *p = view.buf, *end = p + view.len;
    c.memos = PyCapsule_GetPointer(capsule, "toolkit._speedups.memos");
    if (c.memos == NULL || load_counters(&c) < 0)
        goto done;
    Field f;
    int r;
    while ((r = next_field(&p, end, &f)) == 1) {
        if (f.number != 1)
            continue;
        ImageInput in;
        int status = 0;
        if (image_simple((Span){f.data, f.data + f.len}, &in)) {
            PyObject *ext = extension(&c, in.format);
            if (ext == NULL)
                goto done;
            if (ext != Py_None && in.split.p == NULL) {
                status = put_image(&c, &in, ext);
            } else if (ext != Py_None) {
                PyObject *name = decode(in.split.p, (size_t)(in.split.end - in.split.p));
                Slot *slot = name != NULL ? find_slot(&c, name) : NULL;
                Py_XDECREF(name);
                if (slot == NULL) {
                    status = -1;
                } else {
                    swap_slot(&c, slot);
                    status = put_image(&c, &in, ext);
                    swap_slot(&c, slot);
                }
            }
            Py_DECREF(ext);
            if (status < 0)
                goto done;
        }
        if (status == 0) {
            int kind = skipped_kind(&f);
            if (kind >= 0)
                c.skipped[kind]++;
            else if (convert_in_python(&c, &f, images, annotations) < 0)
                goto done;
        }
    }
    if (r < 0) {
        PyErr_SetString(PyExc_ValueError, "coco_images: malformed batch (not checked by scan_batch?)");
        goto done;
    }
    if (store_counters(&c) < 0)
        goto done;
    PyObject *splits = PyList_New(0);
    for (Py_ssize_t i = 0; splits != NULL && i < c.nslots; i++) {
        Slot *slot = &c.slots[i];
        PyObject *item = Py_BuildValue(
            "(Oy#Ly#L)", slot->name, slot->images.data ? slot->images.data : "",
            (Py_ssize_t)slot->images.len, slot->images_written,
            slot->annotations.data ? slot->annotations.data : "", (Py_ssize_t)slot->annotations.len,
            slot->annotations_written);
        if (item == NULL || PyList_Append(splits, item) < 0)
            Py_CLEAR(splits);
        Py_XDECREF(item);
    }
    if (splits == NULL)
        goto done;
    result = Py_BuildValue("(y#Ly#LN(LLL))", c.images.data ? c.images.data : "",
                           (Py_ssize_t)c.images.len, c.images_written,
                           c.annotations.data ? c.annotations.data : "",
                           (Py_ssize_t)c.annotations.len, c.annotations_written, splits,
                           c.skipped[0], c.skipped[1], c.skipped[2]);
done:
    PyMem_Free(c.images.data);
    PyMem_Free(c.annotations.data);
    for (Py_ssize_t i = 0; i < c.nslots; i++) {
        Py_DECREF(c.slots[i].name);
        PyMem_Free(c.slots[i].images.data);
        PyMem_Free(c.slots[i].annotations.data);
    }
    PyMem_Free(c.slots);
    PyBuffer_Release(&view);
    return result;
}

/* ---- table helpers (table_arrow) --------------------------------------------------- */

typedef struct {
    char *data;
    size_t len, cap;
} Bytes;

static int bytes_put(Bytes *b, const void *src, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n)
            cap *= 2;
        char *grown = PyMem_Realloc(b->data, cap);
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, src, n);
    b->len += n;
    return 0;
}

enum { FLAG_METADATA = 1, FLAG_REGIONS = 2, FLAG_HOSTED = 4 };
#define MIN_SECONDS (-62135596800LL)
#define MAX_SECONDS (253402300799LL)
#define NO_TIME INT64_MIN

/* The media message of an input: its url, hosted copy, and size (width, height). */
static int read_media(Span m, uint32_t url_no, uint32_t hosted_no, uint32_t info_no, Span *url,
                      int *hosted, int32_t *width, int32_t *height)
{
    Field f, g;
    const uint8_t *p = m.p;
    int infos = 0;
    while (next_field(&p, m.end, &f) == 1) {
        if (f.number == url_no) {
            url->p = f.data;
            url->end = f.data + f.len;
        } else if (f.number == hosted_no) {
            if (++*hosted > 1)
                return -1;
        } else if (info_no && f.number == info_no) {
            if (++infos > 1)
                return -1;
            const uint8_t *q = f.data, *qend = f.data + f.len;
            while (next_field(&q, qend, &g) == 1) {
                if (g.number == 1)
                    *width = (int32_t)(uint32_t)g.varint;
                else if (g.number == 2)
                    *height = (int32_t)(uint32_t)g.varint;
            }
        }
    }
    return 0;
}

/* ---- pq: Arrow buffers of the table (table_arrow) and packed ids (batch_vectors_packed) */

/* A string column as Arrow lays it out: int32 offsets (n + 1), the UTF-8 bytes, and a
 * validity bitmap (bit i set: row i is not null); check_message has checked the UTF-8. */
typedef struct {
    Bytes off, data, valid;
    size_t rows;
} Strs;

static int strs_start(Strs *s)
{
    int32_t zero = 0;
    return bytes_put(&s->off, &zero, 4);
}

static int bits_add(Bytes *bits, size_t row, int set)
{
    if (row % 8 == 0) {
        uint8_t zero = 0;
        if (bytes_put(bits, &zero, 1) < 0)
            return -1;
    }
    if (set)
        bits->data[row / 8] |= (char)(1u << (row % 8));
    return 0;
}

/* Adds one row: the bytes s[0:n], or a null when s is NULL and null_ok. */
static int strs_add(Strs *s, const uint8_t *p, size_t n, int null_ok)
{
    int is_null = null_ok && p == NULL;
    if (!is_null && n > 0 && bytes_put(&s->data, p, n) < 0)
        return -1;
    if (s->data.len > INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "table_arrow: a string column past 2 GiB");
        return -1;
    }
    int32_t end = (int32_t)s->data.len;
    if (bytes_put(&s->off, &end, 4) < 0 || bits_add(&s->valid, s->rows, !is_null) < 0)
        return -1;
    s->rows++;
    return 0;
}

static void strs_free(Strs *s)
{
    PyMem_Free(s->off.data);
    PyMem_Free(s->data.data);
    PyMem_Free(s->valid.data);
}

static PyObject *bytes_of(const Bytes *b)
{
    return PyBytes_FromStringAndSize(b->data ? b->data : "", (Py_ssize_t)b->len);
}

/* (offsets, data, validity) as bytes. */
static PyObject *strs_tuple(const Strs *s)
{
    PyObject *o = bytes_of(&s->off), *d = bytes_of(&s->data), *v = bytes_of(&s->valid);
    PyObject *t = (o && d && v) ? PyTuple_Pack(3, o, d, v) : NULL;
    Py_XDECREF(o);
    Py_XDECREF(d);
    Py_XDECREF(v);
    return t;
}

/* Field numbers of Region, RegionInfo and Point. */
enum {
    RINFO_MASK = 4, RINFO_POLYGON = 5, RINFO_POINT = 6, RINFO_SPAN = 7, RINFO_KEYPOINTS = 9,
    POLYGON_POINTS = 1, POINT_ROW = 1, POINT_COL = 2,
};
/* Region kinds in REGION_KINDS order (toolkit/tabular/schema.py). */
static const char *const REGION_KIND_NAMES[] = {"box", "polygon", "point", "mask", "span", "other"};

/* The regions column of one batch, as rows.py's _Regions builds it. */
typedef struct {
    Bytes offsets;  /* int32 per input + 1 */
    Strs ids, kinds;
    Bytes box, box_valid; /* float32 left, top, right, bottom per region; bitmap */
    Bytes poly_off;       /* int32 per region + 1 */
    Bytes points;         /* float32 row, col per point */
    Bytes c_off;          /* int32 per region + 1 */
    Strs c_ids, c_names;
    Bytes c_val;
    int32_t count, n_points, n_concepts;
} RegionCols;

static void region_cols_free(RegionCols *r)
{
    PyMem_Free(r->offsets.data);
    strs_free(&r->ids);
    strs_free(&r->kinds);
    PyMem_Free(r->box.data);
    PyMem_Free(r->box_valid.data);
    PyMem_Free(r->poly_off.data);
    PyMem_Free(r->points.data);
    PyMem_Free(r->c_off.data);
    strs_free(&r->c_ids);
    strs_free(&r->c_names);
    PyMem_Free(r->c_val.data);
}

/* A point's row and col (protobuf keeps the last of a field written twice). */
static void read_point(const uint8_t *p, const uint8_t *end, float *row, float *col)
{
    Field f;
    *row = 0.0f;
    *col = 0.0f;
    while (next_field(&p, end, &f) == 1) {
        if (f.number == POINT_ROW)
            *row = as_float(f.data);
        else if (f.number == POINT_COL)
            *col = as_float(f.data);
    }
}

static int put_point(RegionCols *r, float row, float col)
{
    float rc[2] = {row, col};
    if (bytes_put(&r->points, rc, 8) < 0)
        return -1;
    r->n_points++;
    return 0;
}

/* Adds one region; 0 when it is unusual (a singular message field twice, which protobuf
 * would merge: the Python path then builds the batch's regions), -1 on error. */
static int region_add(RegionCols *r, const uint8_t *p, const uint8_t *end)
{
    Field f, g, h;
    Span id = {NULL, NULL}, info = {NULL, NULL}, data = {NULL, NULL};
    int infos = 0, datas = 0;
    while (next_field(&p, end, &f) == 1) {
        if (f.number == REGION_ID) {
            id.p = f.data;
            id.end = f.data + f.len;
        } else if (f.number == REGION_INFO) {
            info.p = f.data;
            info.end = f.data + f.len;
            infos++;
        } else if (f.number == REGION_DATA) {
            data.p = f.data;
            data.end = f.data + f.len;
            datas++;
        }
    }
    if (infos > 1 || datas > 1)
        return 0;
    int boxes = 0, polygons = 0, points = 0, masks = 0, spans = 0, keypoints = 0;
    Span box = {NULL, NULL}, polygon = {NULL, NULL}, point = {NULL, NULL};
    if (infos) {
        const uint8_t *q = info.p;
        while (next_field(&q, info.end, &g) == 1) {
            switch (g.number) {
            case RINFO_BOX: boxes++; box.p = g.data; box.end = g.data + g.len; break;
            case RINFO_POLYGON: polygons++; polygon.p = g.data; polygon.end = g.data + g.len; break;
            case RINFO_POINT: points++; point.p = g.data; point.end = g.data + g.len; break;
            case RINFO_MASK: masks++; break;
            case RINFO_SPAN: spans++; break;
            case RINFO_KEYPOINTS: keypoints++; break;
            default: break;
            }
        }
    }
    if (boxes > 1 || polygons > 1 || points > 1 || masks > 1 || spans > 1)
        return 0;
    int kind = boxes ? 0 : polygons ? 1 : (points || keypoints) ? 2 : masks ? 3 : spans ? 4 : 5;
    const char *name = REGION_KIND_NAMES[kind];
    if (strs_add(&r->ids, id.p ? id.p : (const uint8_t *)"", (size_t)(id.end - id.p), 0) < 0 ||
        strs_add(&r->kinds, (const uint8_t *)name, strlen(name), 0) < 0)
        return -1;
    float lt_rb[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    if (boxes) {
        const uint8_t *b = box.p;
        while (next_field(&b, box.end, &h) == 1) {
            if (h.number == 1)
                lt_rb[1] = as_float(h.data); /* top_row */
            else if (h.number == 2)
                lt_rb[0] = as_float(h.data); /* left_col */
            else if (h.number == 3)
                lt_rb[3] = as_float(h.data); /* bottom_row */
            else if (h.number == 4)
                lt_rb[2] = as_float(h.data); /* right_col */
        }
    }
    if (bytes_put(&r->box, lt_rb, 16) < 0 || bits_add(&r->box_valid, (size_t)r->count, boxes) < 0)
        return -1;
    float row, col;
    if (polygons) {
        const uint8_t *q = polygon.p;
        while (next_field(&q, polygon.end, &g) == 1)
            if (g.number == POLYGON_POINTS) {
                read_point(g.data, g.data + g.len, &row, &col);
                if (put_point(r, row, col) < 0)
                    return -1;
            }
    } else if (points) {
        read_point(point.p, point.end, &row, &col);
        if (put_point(r, row, col) < 0)
            return -1;
    } else if (keypoints) {
        const uint8_t *q = info.p;
        while (next_field(&q, info.end, &g) == 1)
            if (g.number == RINFO_KEYPOINTS) {
                read_point(g.data, g.data + g.len, &row, &col);
                if (put_point(r, row, col) < 0)
                    return -1;
            }
    }
    if (bytes_put(&r->poly_off, &r->n_points, 4) < 0)
        return -1;
    if (datas) {
        const uint8_t *q = data.p;
        while (next_field(&q, data.end, &g) == 1) {
            if (g.number != DATA_CONCEPTS)
                continue;
            Span cid = {NULL, NULL}, cname = {NULL, NULL};
            float value;
            read_concept(&g, &cid, &cname, &value);
            if (strs_add(&r->c_ids, cid.p ? cid.p : (const uint8_t *)"", (size_t)(cid.end - cid.p), 0) < 0 ||
                strs_add(&r->c_names, cname.p ? cname.p : (const uint8_t *)"", (size_t)(cname.end - cname.p), 0) < 0 ||
                bytes_put(&r->c_val, &value, 4) < 0)
                return -1;
            r->n_concepts++;
        }
    }
    if (bytes_put(&r->c_off, &r->n_concepts, 4) < 0)
        return -1;
    r->count++;
    return 1;
}

/* The regions tuple for Python: offsets, (ids), (kinds), boxes, box validity, polygon
 * offsets, points, concept offsets, (concept ids), (names), values. */
static PyObject *region_cols_tuple(const RegionCols *r)
{
    PyObject *items[11] = {
        bytes_of(&r->offsets), strs_tuple(&r->ids), strs_tuple(&r->kinds), bytes_of(&r->box),
        bytes_of(&r->box_valid), bytes_of(&r->poly_off), bytes_of(&r->points),
        bytes_of(&r->c_off), strs_tuple(&r->c_ids), strs_tuple(&r->c_names), bytes_of(&r->c_val),
    };
    PyObject *t = NULL;
    int ok = 1;
    for (int i = 0; i < 11; i++)
        ok = ok && items[i] != NULL;
    if (ok) {
        t = PyTuple_New(11);
        if (t != NULL)
            for (int i = 0; i < 11; i++) {
                PyTuple_SET_ITEM(t, i, items[i]);
                items[i] = NULL;
            }
    }
    for (int i = 0; i < 11; i++)
        Py_XDECREF(items[i]);
    return t;
}

static const char *const INPUT_KIND_NAMES[] = {"", "image", "video", "text", "audio"};
/* A flag of table_arrow only: the input has an embedding (so batch_vectors_packed is
 * worth calling). */
enum { FLAG_EMBEDDINGS = 8 };

/* table_arrow(entries): the columns of the Parquet table (toolkit/tabular/rows.py) for a
 * sequence of batch entries that check_message accepts, one after the other, every string column as Arrow buffers (offsets, data,
 * validity): ids, input types, urls, sizes, creation times, concepts, positive concept
 * ids, texts, per input flags (metadata, regions, a url only hosted, an embedding) for
 * what the Python side fills in, metadata as sorted JSON when simple, and the regions
 * when all of them are usual (else None there: the flagged inputs go to Python), then the
 * number of inputs read after each entry (uint32 each). None when anything is unusual (a
 * singular message field twice, which protobuf would merge). */
static PyObject *table_arrow(PyObject *self, PyObject *arg)
{
    const State *st = state_of(self);
    if (st->table_count == 0) {
        PyErr_SetString(PyExc_RuntimeError, "table_arrow: load_schema was not called");
        return NULL;
    }
    PyObject *seq = PySequence_Fast(arg, "table_arrow: give a sequence of batch entries");
    if (seq == NULL)
        return NULL;
    Py_buffer view;
    int have_view = 0;
    Bytes entry_counts = {0};
    PyObject *result = NULL, *region_tuple = NULL;
    PyObject *parts[12] = {NULL};
    Buf json = {0};
    Strs ids = {0}, kinds_s = {0}, urls = {0}, c_ids = {0}, c_names = {0}, p_ids = {0},
         texts = {0}, metas = {0};
    Bytes sizes = {0}, created = {0}, c_off = {0}, c_val = {0}, p_off = {0}, flags = {0};
    RegionCols regions = {0};
    int regions_usual = 1;
    size_t n = 0;
    int32_t n_concepts = 0, n_positive = 0, zero = 0;
    if (bytes_put(&c_off, &n_concepts, 4) < 0 || bytes_put(&p_off, &n_positive, 4) < 0 ||
        strs_start(&ids) < 0 || strs_start(&kinds_s) < 0 || strs_start(&urls) < 0 ||
        strs_start(&c_ids) < 0 || strs_start(&c_names) < 0 || strs_start(&p_ids) < 0 ||
        strs_start(&texts) < 0 || strs_start(&metas) < 0 || bytes_put(&regions.offsets, &zero, 4) < 0 ||
        strs_start(&regions.ids) < 0 || strs_start(&regions.kinds) < 0 ||
        bytes_put(&regions.poly_off, &zero, 4) < 0 || bytes_put(&regions.c_off, &zero, 4) < 0 ||
        strs_start(&regions.c_ids) < 0 || strs_start(&regions.c_names) < 0)
        goto done;
    for (Py_ssize_t entry = 0; entry < PySequence_Fast_GET_SIZE(seq); entry++) {
        if (PyObject_GetBuffer(PySequence_Fast_GET_ITEM(seq, entry), &view, PyBUF_SIMPLE) < 0)
            goto done;
        have_view = 1;
        const uint8_t *start = view.buf, *end = start + view.len;
        if (!check_message(st->tables, start, end, 0, 1))
            goto unusual;
        const uint8_t *p = start;
        Field f, g, h;
        while (next_field(&p, end, &f) == 1) {
            if (f.number != 1)
                continue;
            const uint8_t *q = f.data, *qend = f.data + f.len;
            Span id = {NULL, NULL}, data = {NULL, NULL}, stamp = {NULL, NULL};
            int datas = 0, stamps = 0;
            while (next_field(&q, qend, &g) == 1) {
                if (g.number == INPUT_ID) {
                    id.p = g.data;
                    id.end = g.data + g.len;
                } else if (g.number == INPUT_DATA) {
                    data.p = g.data;
                    data.end = g.data + g.len;
                    datas++;
                } else if (g.number == 4) {
                    stamp.p = g.data;
                    stamp.end = g.data + g.len;
                    stamps++;
                }
            }
            if (datas > 1 || stamps > 1)
                goto unusual;
            int64_t micros = NO_TIME;
            if (stamps) {
                int64_t seconds = 0, nanos = 0;
                const uint8_t *r = stamp.p;
                while (next_field(&r, stamp.end, &h) == 1) {
                    if (h.number == 1)
                        seconds = (int64_t)h.varint;
                    else if (h.number == 2)
                        nanos = (int32_t)(uint32_t)h.varint;
                }
                if (seconds >= MIN_SECONDS && seconds <= MAX_SECONDS) {
                    int64_t whole = nanos / 1000;
                    if (nanos % 1000 != 0 && nanos < 0)
                        whole -= 1; /* floor division, as Python's // */
                    micros = seconds * 1000000 + whole;
                }
            }
            Span media[4] = {{NULL, NULL}, {NULL, NULL}, {NULL, NULL}, {NULL, NULL}};
            int counts[4] = {0, 0, 0, 0};
            uint8_t flag = 0;
            Span meta = {NULL, NULL};
            int metas_seen = 0;
            if (data.p != NULL) {
                const uint8_t *r = data.p;
                while (next_field(&r, data.end, &g) == 1) {
                    int slot = -1;
                    switch (g.number) {
                    case 1: slot = 0; break;  /* image */
                    case 2: slot = 1; break;  /* video */
                    case 13: slot = 2; break; /* text */
                    case 14: slot = 3; break; /* audio */
                    case DATA_METADATA:
                        flag |= FLAG_METADATA;
                        meta.p = g.data;
                        meta.end = g.data + g.len;
                        metas_seen++;
                        break;
                    case 9: flag |= FLAG_EMBEDDINGS; break; /* Data.embeddings */
                    case DATA_REGIONS:
                        flag |= FLAG_REGIONS;
                        if (regions_usual) {
                            int added = region_add(&regions, g.data, g.data + g.len);
                            if (added < 0)
                                goto done;
                            regions_usual = added;
                        }
                        break;
                    case DATA_CONCEPTS: {
                        Span cid = {NULL, NULL}, cname = {NULL, NULL};
                        float value;
                        read_concept(&g, &cid, &cname, &value);
                        size_t cid_len = (size_t)(cid.end - cid.p);
                        const uint8_t *cid_p = cid.p ? cid.p : (const uint8_t *)"";
                        if (strs_add(&c_ids, cid_p, cid_len, 0) < 0 ||
                            strs_add(&c_names, cname.p ? cname.p : (const uint8_t *)"",
                                     (size_t)(cname.end - cname.p), 0) < 0 ||
                            bytes_put(&c_val, &value, 4) < 0)
                            goto done;
                        n_concepts++;
                        if (value > 0) {
                            if (strs_add(&p_ids, cid_p, cid_len, 0) < 0)
                                goto done;
                            n_positive++;
                        }
                        break;
                    }
                    default: break;
                    }
                    if (slot >= 0) {
                        media[slot].p = g.data;
                        media[slot].end = g.data + g.len;
                        if (++counts[slot] > 1)
                            goto unusual;
                    }
                }
            }
            if (bytes_put(&regions.offsets, &regions.count, 4) < 0)
                goto done;
            uint8_t kind = 0;
            Span url = {NULL, NULL}, raw = {NULL, NULL};
            int hosted = 0, has_raw = 0;
            int32_t width = 0, height = 0;
            int bad = 0;
            if (counts[0]) {
                kind = 1;
                bad = read_media(media[0], 1, 5, 6, &url, &hosted, &width, &height);
            } else if (counts[1]) {
                kind = 2;
                bad = read_media(media[1], 1, 6, 7, &url, &hosted, &width, &height);
            } else if (counts[2]) {
                kind = 3;
                bad = read_media(media[2], 2, 4, 0, &url, &hosted, &width, &height);
                const uint8_t *r = media[2].p;
                while (next_field(&r, media[2].end, &g) == 1)
                    if (g.number == 1) {
                        raw.p = g.data;
                        raw.end = g.data + g.len;
                    }
                has_raw = 1;
            } else if (counts[3]) {
                kind = 4;
                bad = read_media(media[3], 1, 5, 0, &url, &hosted, &width, &height);
            }
            if (bad < 0)
                goto unusual;
            if (hosted && url.p == url.end)
                flag |= FLAG_HOSTED;
            int32_t wh[2] = {width, height};
            const char *kind_name = INPUT_KIND_NAMES[kind];
            int url_null = url.p == url.end; /* absent or empty: null */
            if (strs_add(&ids, id.p ? id.p : (const uint8_t *)"", (size_t)(id.end - id.p), 0) < 0 ||
                strs_add(&kinds_s, kind ? (const uint8_t *)kind_name : NULL, strlen(kind_name), 1) < 0 ||
                strs_add(&urls, url_null ? NULL : url.p, (size_t)(url.end - url.p), 1) < 0 ||
                strs_add(&texts, has_raw ? (raw.p ? raw.p : (const uint8_t *)"") : NULL,
                         (size_t)(raw.end - raw.p), 1) < 0)
                goto done;
            /* The metadata as sorted JSON, when simple (else the Python side writes it). */
            int meta_done = 0;
            if (metas_seen == 1 && metadata_simple(meta, 1)) {
                json.len = 0;
                int status = put_struct(&json, meta, 1);
                if (status < 0)
                    goto done;
                if (status == 1) {
                    if (strs_add(&metas, (const uint8_t *)(json.data ? json.data : ""), json.len, 0) < 0)
                        goto done;
                    meta_done = 1;
                    flag &= (uint8_t)~FLAG_METADATA;
                }
            }
            if (!meta_done && strs_add(&metas, NULL, 0, 1) < 0)
                goto done;
            if (bytes_put(&sizes, wh, 8) < 0 || bytes_put(&created, &micros, 8) < 0 ||
                bytes_put(&c_off, &n_concepts, 4) < 0 || bytes_put(&p_off, &n_positive, 4) < 0 ||
                bytes_put(&flags, &flag, 1) < 0)
                goto done;
            n++;
        }
        PyBuffer_Release(&view);
        have_view = 0;
        uint32_t rows = (uint32_t)n;
        if (bytes_put(&entry_counts, &rows, 4) < 0)
            goto done;
    } /* each entry */
    if (regions_usual) {
        region_tuple = region_cols_tuple(&regions);
        if (region_tuple == NULL)
            goto done;
    } else {
        region_tuple = Py_None;
        Py_INCREF(region_tuple);
    }
    parts[0] = strs_tuple(&ids);
    parts[1] = strs_tuple(&kinds_s);
    parts[2] = strs_tuple(&urls);
    parts[3] = bytes_of(&sizes);
    parts[4] = bytes_of(&created);
    parts[5] = bytes_of(&c_off);
    parts[6] = strs_tuple(&c_ids);
    parts[7] = strs_tuple(&c_names);
    parts[8] = bytes_of(&c_val);
    parts[9] = bytes_of(&p_off);
    parts[10] = strs_tuple(&p_ids);
    parts[11] = strs_tuple(&texts);
    for (int i = 0; i < 12; i++)
        if (parts[i] == NULL)
            goto done;
    {
        PyObject *flag_bytes = bytes_of(&flags), *meta_tuple = strs_tuple(&metas);
        PyObject *counts = bytes_of(&entry_counts);
        if (flag_bytes && meta_tuple && counts)
            result = Py_BuildValue("(nOOOOOOOOOOOOOOOO)", (Py_ssize_t)n, parts[0], parts[1],
                                   parts[2], parts[3], parts[4], parts[5], parts[6], parts[7],
                                   parts[8], parts[9], parts[10], parts[11], flag_bytes,
                                   meta_tuple, region_tuple, counts);
        Py_XDECREF(flag_bytes);
        Py_XDECREF(meta_tuple);
        Py_XDECREF(counts);
    }
    goto done;
unusual:
    result = Py_None;
    Py_INCREF(result);
done:
    for (int i = 0; i < 12; i++)
        Py_XDECREF(parts[i]);
    Py_XDECREF(region_tuple);
    strs_free(&ids);
    strs_free(&kinds_s);
    strs_free(&urls);
    strs_free(&c_ids);
    strs_free(&c_names);
    strs_free(&p_ids);
    strs_free(&texts);
    strs_free(&metas);
    region_cols_free(&regions);
    PyMem_Free(json.data);
    PyMem_Free(sizes.data);
    PyMem_Free(created.data);
    PyMem_Free(c_off.data);
    PyMem_Free(c_val.data);
    PyMem_Free(p_off.data);
    PyMem_Free(flags.data);
    PyMem_Free(entry_counts.data);
    if (have_view)
        PyBuffer_Release(&view);
    Py_DECREF(seq);
    return result;
}
/* batch_vectors_packed(data, which, out=None): for a batch that check_message accepts,
 * the input ids as Arrow string buffers (offsets, data, validity: a million ids cost two
 * buffers, not a million objects), the size of each input's embedding number `which`
 * (uint32 per input, 0: none or empty) and the packed floats of those that have one,
 * concatenated: as bytes, or written into the writable buffer `out` when they fit (then
 * their number of bytes). None when anything is unusual (an input with its data field
 * twice, a vector not written as one packed field, a length not a multiple of 4): the
 * caller then reads the batch with protobuf. */
static PyObject *batch_vectors_packed(PyObject *self, PyObject *args)
{
    const State *st = state_of(self);
    Py_buffer view, out_view = {0};
    Py_ssize_t which;
    PyObject *out_arg = Py_None;
    if (st->table_count == 0) {
        PyErr_SetString(PyExc_RuntimeError, "batch_vectors_packed: load_schema was not called");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "y*n|O", &view, &which, &out_arg))
        return NULL;
    int have_out = 0;
    if (out_arg != Py_None) {
        if (PyObject_GetBuffer(out_arg, &out_view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0) {
            PyBuffer_Release(&view);
            return NULL;
        }
        have_out = 1;
    }
    const uint8_t *start = view.buf, *end = start + view.len;
    PyObject *ids = NULL, *dims = NULL, *floats = NULL, *result = NULL;
    Strs id_strs = {0};
    Bytes dim_buf = {0};
    size_t total = 0;
    if (which < 0 || !check_message(st->tables, start, end, 0, 1))
        goto unusual;
    if (strs_start(&id_strs) < 0)
        goto done;
    /* First pass: ids, sizes and the total number of float bytes. */
    const uint8_t *p = start;
    Field f, g, h, k;
    while (next_field(&p, end, &f) == 1) {
        if (f.number != 1)
            continue;
        const uint8_t *q = f.data, *qend = f.data + f.len, *id = (const uint8_t *)"";
        size_t id_len = 0;
        Span data = {NULL, NULL};
        int data_fields = 0;
        while (next_field(&q, qend, &g) == 1) {
            if (g.number == INPUT_ID) {
                id = g.data;
                id_len = g.len;
            } else if (g.number == INPUT_DATA) {
                data.p = g.data;
                data.end = g.data + g.len;
                data_fields++;
            }
        }
        if (data_fields > 1)
            goto unusual;
        uint32_t dim = 0;
        if (data.p != NULL) {
            Py_ssize_t seen = 0;
            const uint8_t *r = data.p;
            while (next_field(&r, data.end, &h) == 1) {
                if (h.number != 9 || seen++ != which)
                    continue;
                const uint8_t *e = h.data, *eend = h.data + h.len;
                int vectors = 0;
                while (next_field(&e, eend, &k) == 1) {
                    if (k.number != 1)
                        continue;
                    if (k.wire != W_LEN || k.len % 4 != 0 || ++vectors > 1)
                        goto unusual;
                    dim = (uint32_t)(k.len / 4);
                }
            }
        }
        if (strs_add(&id_strs, id, id_len, 0) < 0 || bytes_put(&dim_buf, &dim, 4) < 0)
            goto done;
        total += (size_t)dim * 4;
    }
    uint8_t *out;
    if (have_out && total <= (size_t)out_view.len) {
        floats = PyLong_FromSize_t(total);
        if (floats == NULL)
            goto done;
        out = (uint8_t *)out_view.buf;
    } else {
        floats = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)total);
        if (floats == NULL)
            goto done;
        out = (uint8_t *)PyBytes_AS_STRING(floats);
    }
    /* Second pass: copy the floats (the walk is the same, so no check fails here). */
    const uint32_t *sizes = (const uint32_t *)dim_buf.data;
    size_t row = 0;
    p = start;
    while (next_field(&p, end, &f) == 1) {
        if (f.number != 1)
            continue;
        uint32_t dim = sizes[row++];
        if (dim == 0)
            continue;
        const uint8_t *q = f.data, *qend = f.data + f.len;
        while (next_field(&q, qend, &g) == 1) {
            if (g.number != INPUT_DATA)
                continue;
            Py_ssize_t seen = 0;
            const uint8_t *r = g.data, *rend = g.data + g.len;
            while (next_field(&r, rend, &h) == 1) {
                if (h.number != 9 || seen++ != which)
                    continue;
                const uint8_t *e = h.data, *eend = h.data + h.len;
                while (next_field(&e, eend, &k) == 1)
                    if (k.number == 1) {
                        memcpy(out, k.data, k.len);
                        out += k.len;
                    }
            }
        }
    }
    ids = strs_tuple(&id_strs);
    dims = bytes_of(&dim_buf);
    if (ids == NULL || dims == NULL)
        goto done;
    result = PyTuple_Pack(3, ids, dims, floats);
    goto done;
unusual:
    result = Py_None;
    Py_INCREF(result);
done:
    Py_XDECREF(ids);
    Py_XDECREF(dims);
    Py_XDECREF(floats);
    strs_free(&id_strs);
    PyMem_Free(dim_buf.data);
    PyBuffer_Release(&view);
    if (have_out)
        PyBuffer_Release(&out_view);
    return result;
}
/* ---- pq: end ---- */

/* ---- info: metrics counter ---- */

/* batch_metrics(data): what `info` counts of one batch (toolkit/metrics.py,
 * MetricsCounter.add), read from the wire bytes of a batch that check_message accepts,
 * with no protobuf object made. It reads each input as protobuf's parse would make it:
 * a singular message that appears twice is merged (its repeated fields joined in wire
 * order, its scalars last-wins), and concepts are met in the order MetricsCounter meets
 * them (the input's concepts, then its regions', then its frames'), so each concept
 * keeps the first name that is not empty. None when check_message has doubts or a
 * batch holds more than M_MAX_DIMS embedding sizes: the Python path counts it then. */

enum {
    M_DATA_EMBEDDINGS = 9, M_DATA_FRAMES = 12, M_DATA_TEXT = 13, M_DATA_AUDIO = 14,
    M_EMBEDDING_VECTOR = 1, M_EMBEDDING_DIMS = 2, M_FRAME_DATA = 2,
    M_RINFO_MASK = 4, M_RINFO_POLYGON = 5, M_RINFO_POINT = 6,
};

/* The counts, in the order of toolkit.metrics.PROTO_FIELDS. */
enum {
    M_INPUTS, M_UNLABELED, M_METADATA, M_REGIONS, M_BOXES, M_POLYGONS, M_POINTS, M_MASKS,
    M_FRAMES, M_EMBEDDINGS, M_POSITIVE_INPUT, M_POSITIVE_REGION, M_COUNTS,
};

#define M_MAX_DIMS 16

typedef struct {
    Span id, name; /* name: the first one not empty (empty until then) */
    uint64_t hash;
    long long inputs, regions, negatives;
    int used;
} MConcept;

typedef struct {
    long long counts[M_COUNTS];
    long long types[5]; /* image, video, text, audio, unknown */
    uint64_t dim_keys[M_MAX_DIMS];
    long long dim_counts[M_MAX_DIMS];
    int dim_used;
    MConcept *concepts; /* open addressing, cap a power of 2, at most half full */
    size_t cap, used;
    int have_size;
    int32_t wmin, wmax, hmin, hmax;
    PyObject *inspect; /* image bytes whose size is not in image_info */
} MCount;

/* The concept with this id (added, with no counts, when new); NULL when out of memory. */
static MConcept *m_concept(MCount *m, Span id)
{
    size_t n = (size_t)(id.end - id.p);
    uint64_t hash = hash_bytes(id.p, n);
    if (2 * (m->used + 1) > m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 64;
        MConcept *grown = PyMem_Calloc(cap, sizeof(MConcept));
        if (grown == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->concepts[i].used)
                continue;
            size_t j = (size_t)m->concepts[i].hash & (cap - 1);
            while (grown[j].used)
                j = (j + 1) & (cap - 1);
            grown[j] = m->concepts[i];
        }
        PyMem_Free(m->concepts);
        m->concepts = grown;
        m->cap = cap;
    }
    size_t j = (size_t)hash & (m->cap - 1);
    while (m->concepts[j].used) {
        MConcept *c = &m->concepts[j];
        if (c->hash == hash && (size_t)(c->id.end - c->id.p) == n &&
            (n == 0 || memcmp(c->id.p, id.p, n) == 0))
            return c;
        j = (j + 1) & (m->cap - 1);
    }
    MConcept *c = &m->concepts[j];
    c->used = 1;
    c->id = id;
    c->name = (Span){id.p, id.p};
    c->hash = hash;
    m->used++;
    return c;
}

/* Count the concepts of one Data message (of an input or frame, or of a region). */
static int m_data_concepts(MCount *m, const uint8_t *p, const uint8_t *end, int region,
                           int *labelled)
{
    Field f;
    while (next_field(&p, end, &f) == 1) {
        if (f.number != DATA_CONCEPTS)
            continue;
        *labelled = 1;
        Span id, name;
        float value;
        read_concept(&f, &id, &name, &value);
        MConcept *c = m_concept(m, id);
        if (c == NULL)
            return -1;
        if (c->name.p == c->name.end && name.p != name.end)
            c->name = name;
        if (value > 0.0f) {
            if (region) {
                c->regions++;
                m->counts[M_POSITIVE_REGION]++;
            } else {
                c->inputs++;
                m->counts[M_POSITIVE_INPUT]++;
            }
        } else {
            c->negatives++;
        }
    }
    return 0;
}

/* Count the regions of one Data message (of an input or a frame). */
static int m_data_regions(MCount *m, const uint8_t *p, const uint8_t *end, int *labelled)
{
    Field f, g, h;
    int unused = 0;
    while (next_field(&p, end, &f) == 1) {
        if (f.number != DATA_REGIONS)
            continue;
        *labelled = 1;
        m->counts[M_REGIONS]++;
        int box = 0, polygon = 0, point = 0, mask = 0;
        const uint8_t *q = f.data, *qend = f.data + f.len;
        while (next_field(&q, qend, &g) == 1) {
            if (g.number == REGION_INFO) {
                const uint8_t *r = g.data, *rend = g.data + g.len;
                while (next_field(&r, rend, &h) == 1) {
                    box |= h.number == RINFO_BOX;
                    polygon |= h.number == M_RINFO_POLYGON;
                    point |= h.number == M_RINFO_POINT;
                    mask |= h.number == M_RINFO_MASK;
                }
            } else if (g.number == REGION_DATA &&
                       m_data_concepts(m, g.data, g.data + g.len, 1, &unused) < 0) {
                return -1;
            }
        }
        m->counts[M_BOXES] += box;
        m->counts[M_POLYGONS] += polygon;
        m->counts[M_POINTS] += point;
        m->counts[M_MASKS] += mask;
    }
    return 0;
}

/* Count one embedding's size: 0 when it is done, 1 when the batch has too many sizes. */
static int m_embedding(MCount *m, const Field *f)
{
    uint64_t floats = 0, dims = 0;
    Field g;
    const uint8_t *q = f->data, *qend = f->data + f->len;
    while (next_field(&q, qend, &g) == 1) {
        if (g.number == M_EMBEDDING_VECTOR)
            floats += g.wire == W_LEN ? g.len / 4 : 1; /* packed, or one float */
        else if (g.number == M_EMBEDDING_DIMS)
            dims = (uint32_t)g.varint;
    }
    uint64_t key = floats ? floats : dims;
    m->counts[M_EMBEDDINGS]++;
    for (int i = 0; i < m->dim_used; i++)
        if (m->dim_keys[i] == key) {
            m->dim_counts[i]++;
            return 0;
        }
    if (m->dim_used == M_MAX_DIMS)
        return 1;
    m->dim_keys[m->dim_used] = key;
    m->dim_counts[m->dim_used++] = 1;
    return 0;
}

/* Count one input: -1 on an error, 1 when the batch goes to the Python path. */
static int m_input(MCount *m, const uint8_t *start, const uint8_t *end)
{
    enum { IMAGE = 1, VIDEO = 2, TEXT = 4, AUDIO = 8 };
    int present = 0, labelled = 0, metadata = 0;
    int32_t width = 0, height = 0;
    Span image = {NULL, NULL};
    Field f, g, h, k;
    const uint8_t *p;
    m->counts[M_INPUTS]++;
    /* The data's own fields (its concepts first, as ListFields gives them). */
    for (p = start; next_field(&p, end, &f) == 1;) {
        if (f.number != INPUT_DATA)
            continue;
        const uint8_t *q = f.data, *qend = f.data + f.len;
        while (next_field(&q, qend, &g) == 1) {
            switch (g.number) {
            case DATA_IMAGE: {
                present |= IMAGE;
                const uint8_t *r = g.data, *rend = g.data + g.len;
                while (next_field(&r, rend, &h) == 1) {
                    if (h.number == IMAGE_BASE64) {
                        image = (Span){h.data, h.data + h.len};
                    } else if (h.number == IMAGE_INFO) {
                        const uint8_t *s = h.data, *send = h.data + h.len;
                        while (next_field(&s, send, &k) == 1) {
                            if (k.number == INFO_WIDTH)
                                width = (int32_t)(uint32_t)k.varint;
                            else if (k.number == INFO_HEIGHT)
                                height = (int32_t)(uint32_t)k.varint;
                        }
                    }
                }
                break;
            }
            case DATA_VIDEO:
                present |= VIDEO;
                break;
            case M_DATA_TEXT:
                present |= TEXT;
                break;
            case M_DATA_AUDIO:
                present |= AUDIO;
                break;
            case DATA_METADATA: {
                const uint8_t *r = g.data, *rend = g.data + g.len;
                while (!metadata && next_field(&r, rend, &h) == 1)
                    metadata = h.number == STRUCT_FIELDS;
                break;
            }
            case M_DATA_EMBEDDINGS:
                if (m_embedding(m, &g))
                    return 1;
                break;
            case M_DATA_FRAMES:
                m->counts[M_FRAMES]++;
                break;
            default:
                break;
            }
        }
        if (m_data_concepts(m, f.data, qend, 0, &labelled) < 0)
            return -1;
    }
    /* Then its regions, then its frames (each frame's concepts, then its regions). */
    for (p = start; next_field(&p, end, &f) == 1;)
        if (f.number == INPUT_DATA && m_data_regions(m, f.data, f.data + f.len, &labelled) < 0)
            return -1;
    for (p = start; next_field(&p, end, &f) == 1;) {
        if (f.number != INPUT_DATA)
            continue;
        const uint8_t *q = f.data, *qend = f.data + f.len;
        while (next_field(&q, qend, &g) == 1) {
            if (g.number != M_DATA_FRAMES)
                continue;
            const uint8_t *r, *rend = g.data + g.len;
            for (r = g.data; next_field(&r, rend, &h) == 1;)
                if (h.number == M_FRAME_DATA &&
                    m_data_concepts(m, h.data, h.data + h.len, 0, &labelled) < 0)
                    return -1;
            for (r = g.data; next_field(&r, rend, &h) == 1;)
                if (h.number == M_FRAME_DATA &&
                    m_data_regions(m, h.data, h.data + h.len, &labelled) < 0)
                    return -1;
        }
    }
    m->types[present & IMAGE ? 0 : present & VIDEO ? 1 : present & TEXT ? 2 : present & AUDIO ? 3 : 4]++;
    m->counts[M_UNLABELED] += !labelled;
    m->counts[M_METADATA] += metadata;
    if (!(present & IMAGE))
        return 0;
    if (width > 0 && height > 0) {
        if (!m->have_size) {
            m->wmin = m->wmax = width;
            m->hmin = m->hmax = height;
            m->have_size = 1;
        }
        m->wmin = width < m->wmin ? width : m->wmin;
        m->wmax = width > m->wmax ? width : m->wmax;
        m->hmin = height < m->hmin ? height : m->hmin;
        m->hmax = height > m->hmax ? height : m->hmax;
    } else if (image.p != image.end) {
        /* The size is read from the image's header, in Python. */
        PyObject *bytes = PyBytes_FromStringAndSize((const char *)image.p, image.end - image.p);
        if (bytes == NULL || PyList_Append(m->inspect, bytes) < 0) {
            Py_XDECREF(bytes);
            return -1;
        }
        Py_DECREF(bytes);
    }
    return 0;
}

/* The Python side of the counts (see _speedups.pyi); NULL on an error. */
static PyObject *m_result(MCount *m)
{
    PyObject *counts = NULL, *types = NULL, *dims = NULL, *concepts = NULL, *size = NULL;
    PyObject *result = NULL;
    counts = PyTuple_New(M_COUNTS);
    types = PyTuple_New(5);
    dims = PyDict_New();
    concepts = PyDict_New();
    if (counts == NULL || types == NULL || dims == NULL || concepts == NULL)
        goto done;
    for (int i = 0; i < M_COUNTS; i++) {
        PyObject *v = PyLong_FromLongLong(m->counts[i]);
        if (v == NULL)
            goto done;
        PyTuple_SET_ITEM(counts, i, v);
    }
    for (int i = 0; i < 5; i++) {
        PyObject *v = PyLong_FromLongLong(m->types[i]);
        if (v == NULL)
            goto done;
        PyTuple_SET_ITEM(types, i, v);
    }
    for (int i = 0; i < m->dim_used; i++) {
        PyObject *key = PyLong_FromUnsignedLongLong(m->dim_keys[i]);
        PyObject *v = key ? PyLong_FromLongLong(m->dim_counts[i]) : NULL;
        int bad = v == NULL || PyDict_SetItem(dims, key, v) < 0;
        Py_XDECREF(key);
        Py_XDECREF(v);
        if (bad)
            goto done;
    }
    for (size_t i = 0; i < m->cap; i++) {
        const MConcept *c = &m->concepts[i];
        if (!c->used)
            continue;
        PyObject *id = decode(c->id.p, (size_t)(c->id.end - c->id.p));
        PyObject *entry = id ? Py_BuildValue("(NLLL)", decode(c->name.p, (size_t)(c->name.end - c->name.p)),
                                             c->inputs, c->regions, c->negatives)
                             : NULL;
        int bad = entry == NULL || PyDict_SetItem(concepts, id, entry) < 0;
        Py_XDECREF(id);
        Py_XDECREF(entry);
        if (bad)
            goto done;
    }
    if (m->have_size)
        size = Py_BuildValue("(iiii)", m->wmin, m->wmax, m->hmin, m->hmax);
    else
        size = Py_NewRef(Py_None);
    if (size == NULL)
        goto done;
    result = PyTuple_Pack(6, counts, types, dims, concepts, size, m->inspect);
done:
    Py_XDECREF(counts);
    Py_XDECREF(types);
    Py_XDECREF(dims);
    Py_XDECREF(concepts);
    Py_XDECREF(size);
    return result;
}

static PyObject *batch_metrics(PyObject *self, PyObject *arg)
{
    const State *st = state_of(self);
    if (st->table_count == 0) {
        PyErr_SetString(PyExc_RuntimeError, "batch_metrics: load_schema was not called");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    const uint8_t *start = view.buf, *end = start + view.len;
    PyObject *result = NULL;
    MCount m;
    memset(&m, 0, sizeof(m));
    if (!check_message(st->tables, start, end, 0, 1)) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    m.inspect = PyList_New(0);
    if (m.inspect == NULL)
        goto done;
    const uint8_t *p = start;
    Field f;
    while (next_field(&p, end, &f) == 1) {
        if (f.number != 1)
            continue;
        int r = m_input(&m, f.data, f.data + f.len);
        if (r < 0)
            goto done;
        if (r > 0) {
            result = Py_NewRef(Py_None);
            goto done;
        }
    }
    result = m_result(&m);
done:
    Py_XDECREF(m.inspect);
    PyMem_Free(m.concepts);
    PyBuffer_Release(&view);
    return result;
}

/* ---- prefault: map a fresh buffer's pages ahead of its writer ----------------------- */

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

/* Map the whole pages of a writable buffer, without the GIL and without changing a byte,
 * so that a thread can take the page faults of a freshly allocated matrix while another
 * fills it: madvise(MADV_POPULATE_WRITE) where the kernel has it, else an atomic add of
 * zero per page (a write fault that keeps whatever a concurrent writer put there).
 * With small_pages, the range is first asked not to use transparent huge pages, whose
 * faults can stall on memory compaction. */
static PyObject *prefault(PyObject *self, PyObject *args)
{
    Py_buffer view;
    int small_pages = 0;
    if (!PyArg_ParseTuple(args, "w*|p:prefault", &view, &small_pages))
        return NULL;
#ifdef _WIN32
    long page = 4096;
#else
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0)
        page = 4096;
#endif
    uintptr_t start = ((uintptr_t)view.buf + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
    uintptr_t end = ((uintptr_t)view.buf + (uintptr_t)view.len) & ~((uintptr_t)page - 1);
    Py_BEGIN_ALLOW_THREADS
    if (end > start) {
        int done = 0;
#ifdef __linux__
#ifdef MADV_NOHUGEPAGE
        if (small_pages)
            (void)madvise((void *)start, end - start, MADV_NOHUGEPAGE);
#endif
        done = madvise((void *)start, end - start, MADV_POPULATE_WRITE) == 0;
#endif
        if (!done)
            for (uintptr_t p = start; p < end; p += (uintptr_t)page)
                __atomic_fetch_add((unsigned char *)p, 0, __ATOMIC_RELAXED);
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    Py_RETURN_NONE;
}

/* The "name(...)\n--\n\n" heads give inspect.signature (and mypy's stubtest) the
 * parameters, as Argument Clinic writes them; toolkit/_speedups.pyi has their types. */
static PyMethodDef methods[] = {
    {"load_schema", load_schema, METH_O,
     "load_schema($module, tables, /)\n--\n\n"
     "Load the message tables (table 0: InputBatch)."},
    {"scan_batch", scan_batch, METH_O,
     "scan_batch($module, data, /)\n--\n\n"
     "Input ids of a checked InputBatch entry, or None when protobuf should parse it."},
    {"new_memos", new_memos, METH_NOARGS,
     "new_memos($module, /)\n--\n\n"
     "The memos of one conversion, for coco_images."},
    {"coco_images", coco_images, METH_VARARGS,
     "coco_images($module, data, memos, concept_entries, concept_entry, category_ids,\n"
     "            category_id, stem_for, plain_tables, exts, ext_for, fallback, dumps,\n"
     "            images, annotations, counters, /)\n--\n\n"
     "COCO images and annotations (JSON) of a batch that scan_batch accepted."},
    {"table_arrow", table_arrow, METH_O,
     "table_arrow($module, entries, /)\n--\n\n"
     "The table columns of checked batch entries as Arrow buffers (toolkit/tabular/rows.py), or None."},
    {"batch_vectors_packed", batch_vectors_packed, METH_VARARGS,
     "batch_vectors_packed($module, data, which, out=None, /)\n--\n\n"
     "Input ids (Arrow string buffers), embedding sizes (uint32 each) and packed floats."},
    {"batch_metrics", batch_metrics, METH_O,
     "batch_metrics($module, data, /)\n--\n\n"
     "What info counts of a checked batch (toolkit/metrics.py), or None."},
    {"prefault", prefault, METH_VARARGS,
     "prefault($module, buffer, small_pages=False, /)\n--\n\n"
     "Map the pages of a writable buffer without changing it (releases the GIL)."},
    {NULL, NULL, 0, NULL},
};

static void module_free(void *module)
{
    State *st = state_of((PyObject *)module);
    if (st == NULL) /* the state was never allocated */
        return;
    PyMem_Free(st->tables);
    st->tables = NULL;
    st->table_count = 0;
}

static int module_exec(PyObject *module)
{
    State *st = state_of(module);
    st->tables = NULL; /* m_size bytes come zeroed; said here for the reader */
    st->table_count = 0;
    return 0;
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, module_exec},
#if PY_VERSION_HEX >= 0x030C0000
    /* No static Python objects and no global state: each interpreter has its own. */
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "toolkit._speedups",
    .m_doc = "Wire-format reader for convert --to coco.",
    .m_size = sizeof(State),
    .m_methods = methods,
    .m_slots = slots,
    .m_free = module_free,
};

PyMODINIT_FUNC PyInit__speedups(void)
{
    return PyModuleDef_Init(&module_def);
}
