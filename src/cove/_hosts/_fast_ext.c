/* The wasm fast path's per-event steps in C: values, host-call trampoline, calls.
 *
 * Optional: when it is not built (no compiler), ``_fast_call`` uses its ctypes
 * twin, which has the same semantics. This file does only what ctypes made
 * slow: converting ``wasmtime_component_val_t`` trees to and from Python
 * values, entering Python from a host call, and calling wasmtime with the GIL
 * released. Everything else (errors, limits, the capability gate) stays in
 * Python.
 *
 * No wasmtime header is used: the struct layouts below are those of the pinned
 * wasmtime C API, which ``_fast_call`` checks against wasmtime-py's ctypes
 * declarations before this module is ever used, and the wasmtime functions are
 * handed over as addresses by ``bind`` (no link-time dependency).
 *
 * Ownership (who frees what), as on the ctypes path:
 * - Values we write (call arguments, host-call results) live in an ``arena``
 *   owned by the object that wrote them; wasmtime only borrows them:
 *   ``func_call`` copies arguments, ``val_clone`` deep-copies a host result
 *   into the Rust-owned result slot (Rust drops it after the callback).
 * - Host-call arguments are Rust's; we only read them during the callback.
 * - A call's result slot is ours (inside ``Func``); Rust fills it with
 *   Rust-owned values, which ``val_delete`` drops after we read them.
 * - Errors returned by wasmtime are handed to Python's ``raise_error``, whose
 *   WasmtimeError frees them; an error we create for a trapping host call is
 *   owned by Rust from the moment we return it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum {
    K_BOOL, K_S8, K_U8, K_S16, K_U16, K_S32, K_U32, K_S64, K_U64, K_F32, K_F64, K_CHAR,
    K_STRING, K_LIST, K_RECORD, K_TUPLE, K_VARIANT, K_ENUM, K_OPTION, K_RESULT,
};

typedef struct val val_t;
typedef struct entry entry_t;
typedef struct { size_t size; char *data; } name_t;

struct val {
    uint8_t kind;
    union {
        bool b;
        uint8_t u8;
        uint16_t u16;
        uint32_t u32;
        uint64_t u64;
        int64_t s64;
        double f64;
        name_t str;
        struct { size_t size; val_t *data; } list;
        struct { size_t size; entry_t *data; } record;
        struct { name_t name; val_t *val; } variant;
        val_t *option;
        struct { bool is_ok; val_t *val; } result;
    } of;
};

struct entry { name_t name; val_t val; };

_Static_assert(sizeof(val_t) == 32, "wasmtime_component_val_t is 32 bytes");
_Static_assert(sizeof(entry_t) == 48, "wasmtime_component_valrecord_entry is 48 bytes");

typedef void *error_p;
typedef error_p (*func_call_t)(const void *, void *, const val_t *, size_t, val_t *, size_t);
typedef void (*val_clone_t)(const val_t *, val_t *);
typedef void (*val_delete_t)(val_t *);
typedef error_p (*error_new_t)(const char *);
typedef error_p (*set_fuel_t)(void *, uint64_t);
typedef error_p (*get_fuel_t)(void *, uint64_t *);
typedef void (*set_deadline_t)(void *, uint64_t);

static struct {
    func_call_t func_call;
    val_clone_t val_clone;
    val_delete_t val_delete;
    error_new_t error_new;
    set_fuel_t set_fuel;
    get_fuel_t get_fuel;
    set_deadline_t set_deadline;
    PyObject *raise_error; /* (address) -> raises WasmtimeError, which owns the error */
} api;

static int
bound(void)
{
    if (api.func_call == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "cove._hosts._fast_ext: bind() was not called");
        return 0;
    }
    return 1;
}

static PyObject *
raise_wasmtime(error_p error)
{
    PyObject *result = PyObject_CallFunction(api.raise_error, "K", (unsigned long long)(uintptr_t)error);
    Py_XDECREF(result);
    if (!PyErr_Occurred())
        PyErr_SetString(PyExc_RuntimeError, "raise_error returned instead of raising");
    return NULL;
}

/* arena -------------------------------------------------------------------
 * Blocks that never move (pointers into them stay valid while a value is
 * built); ``reset`` keeps only the first, so a huge value's memory goes back.
 */
typedef struct block {
    struct block *next;
    size_t capacity, used;
    char data[]; /* at offset 24: 8-aligned */
} block_t;

typedef struct { block_t *first, *current; bool busy; } arena_t;

#define BLOCK_SIZE 16384

static void *
take(arena_t *arena, size_t size)
{
    size = (size + 7) & ~(size_t)7;
    block_t *block = arena->current;
    if (block == NULL || block->capacity - block->used < size) {
        size_t capacity = size > BLOCK_SIZE ? size : BLOCK_SIZE;
        block_t *fresh = PyMem_RawMalloc(sizeof(block_t) + capacity);
        if (fresh == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
        fresh->next = NULL;
        fresh->capacity = capacity;
        fresh->used = 0;
        if (block == NULL)
            arena->first = fresh;
        else
            block->next = fresh;
        arena->current = block = fresh;
    }
    void *at = block->data + block->used;
    block->used += size;
    return at;
}

static void
reset(arena_t *arena)
{
    block_t *first = arena->first;
    if (first == NULL)
        return;
    block_t *next = first->next;
    while (next != NULL) {
        block_t *after = next->next;
        PyMem_RawFree(next);
        next = after;
    }
    first->next = NULL;
    first->used = 0;
    arena->current = first;
}

/* A value is being written (and, for a call, used): Python code run meanwhile
 * (a value's __bool__, a host call, another thread while the GIL is released)
 * that re-enters the owner must not reset the blocks in use. */
static int
begin(arena_t *arena)
{
    if (arena->busy) {
        PyErr_SetString(PyExc_RuntimeError, "re-entered while writing or calling with a value");
        return -1;
    }
    reset(arena);
    arena->busy = true;
    return 0;
}

static void
end(arena_t *arena)
{
    reset(arena);
    arena->busy = false;
}

static void
release(arena_t *arena)
{
    reset(arena);
    PyMem_RawFree(arena->first);
    arena->first = arena->current = NULL;
}

/* shapes ------------------------------------------------------------------
 * A WIT type compiled once from its Python form (see _fast_values.Type):
 * ("string",) ("string", limit) ("bytes",) ("list", T) ("tuple", [T..]) ("record", [(name, T)..])
 * ("variant", [(name, T | None)..]) ("enum", [names]) ("option", T)
 * ("result", T | None, T | None) and the scalars bool u8 u16 u32 u64 s64 f64.
 */
typedef enum {
    S_STRING, S_BYTES, S_LIST, S_TUPLE, S_RECORD, S_VARIANT, S_ENUM, S_OPTION, S_RESULT,
    S_BOOL, S_U8, S_U16, S_U32, S_U64, S_S64, S_F64,
} tag_t;

typedef struct shape {
    tag_t tag;
    Py_ssize_t count;       /* children (tuple, record, variant, enum names, result: 2) */
    struct shape **children; /* may hold NULL: a case or result side without payload */
    name_t *names;           /* record fields, variant cases, enum values (owned copies) */
    PyObject *index;         /* variant/enum: name -> position */
    PyObject **pynames;      /* variant/enum: the names as str, for reading */
    Py_ssize_t limit;        /* string: read cut to this many code points (-1: whole) */
} shape_t;

static void
shape_free(shape_t *shape)
{
    if (shape == NULL)
        return;
    for (Py_ssize_t i = 0; i < shape->count; i++) {
        if (shape->children != NULL)
            shape_free(shape->children[i]);
        if (shape->names != NULL)
            PyMem_Free(shape->names[i].data);
        if (shape->pynames != NULL)
            Py_XDECREF(shape->pynames[i]);
    }
    PyMem_Free(shape->children);
    PyMem_Free(shape->names);
    PyMem_Free(shape->pynames);
    Py_XDECREF(shape->index);
    PyMem_Free(shape);
}

static const struct { const char *name; tag_t tag; } TAGS[] = {
    {"string", S_STRING}, {"bytes", S_BYTES}, {"list", S_LIST}, {"tuple", S_TUPLE},
    {"record", S_RECORD}, {"variant", S_VARIANT}, {"enum", S_ENUM}, {"option", S_OPTION},
    {"result", S_RESULT}, {"bool", S_BOOL}, {"u8", S_U8}, {"u16", S_U16}, {"u32", S_U32},
    {"u64", S_U64}, {"s64", S_S64}, {"f64", S_F64},
};

static shape_t *compile(PyObject *type, int depth);

static int
set_name(shape_t *shape, Py_ssize_t i, PyObject *name)
{
    Py_ssize_t size;
    const char *text = PyUnicode_AsUTF8AndSize(name, &size);
    if (text == NULL)
        return -1;
    shape->names[i].data = PyMem_Malloc(size ? size : 1);
    if (shape->names[i].data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memcpy(shape->names[i].data, text, size);
    shape->names[i].size = size;
    if (shape->pynames != NULL) {
        Py_INCREF(name);
        shape->pynames[i] = name;
        PyObject *at = PyLong_FromSsize_t(i);
        if (at == NULL || PyDict_SetItem(shape->index, name, at) < 0) {
            Py_XDECREF(at);
            return -1;
        }
        Py_DECREF(at);
    }
    return 0;
}

/* Children of list/option/tuple/record/variant/result: (name?, type?) per item. */
static int
compile_children(shape_t *shape, PyObject *items, bool named, bool optional, int depth)
{
    PyObject *seq = PySequence_Tuple(items); /* immutable while its items are compiled */
    if (seq == NULL)
        return -1;
    Py_ssize_t count = PyTuple_GET_SIZE(seq);
    shape->count = count;
    shape->children = PyMem_Calloc(count ? count : 1, sizeof(shape_t *));
    if (named)
        shape->names = PyMem_Calloc(count ? count : 1, sizeof(name_t));
    if (shape->children == NULL || (named && shape->names == NULL)) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *item = PyTuple_GET_ITEM(seq, i);
        PyObject *type = item;
        if (named) {
            if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
                Py_DECREF(seq);
                PyErr_SetString(PyExc_TypeError, "shape: expected (name, type) pairs");
                return -1;
            }
            if (set_name(shape, i, PyTuple_GET_ITEM(item, 0)) < 0) {
                Py_DECREF(seq);
                return -1;
            }
            type = PyTuple_GET_ITEM(item, 1);
        }
        if (optional && type == Py_None)
            continue;
        shape->children[i] = compile(type, depth + 1);
        if (shape->children[i] == NULL) {
            Py_DECREF(seq);
            return -1;
        }
    }
    Py_DECREF(seq);
    return 0;
}

/* Deeper than any WIT type cove uses; it bounds every recursion over a shape
 * (compiling, freeing, writing, reading), whatever Python's recursion limit is:
 * a type nested in itself is a TypeError, never a C stack overflow. */
#define MAX_DEPTH 32

static shape_t *compile_type(PyObject *type, int depth);

static shape_t *
compile(PyObject *type, int depth)
{
    if (depth > MAX_DEPTH) {
        PyErr_Format(PyExc_TypeError, "shape: a type nested more than %d deep", MAX_DEPTH);
        return NULL;
    }
    return compile_type(type, depth);
}

static shape_t *
compile_type(PyObject *type, int depth)
{
    if (!PyTuple_Check(type) || PyTuple_GET_SIZE(type) < 1 || !PyUnicode_Check(PyTuple_GET_ITEM(type, 0))) {
        PyErr_Format(PyExc_TypeError, "shape: expected a type tuple, got %R", type);
        return NULL;
    }
    const char *name = PyUnicode_AsUTF8(PyTuple_GET_ITEM(type, 0));
    if (name == NULL)
        return NULL;
    shape_t *shape = PyMem_Calloc(1, sizeof(shape_t));
    if (shape == NULL)
        return (shape_t *)PyErr_NoMemory();
    size_t known = sizeof(TAGS) / sizeof(TAGS[0]), i;
    for (i = 0; i < known && strcmp(TAGS[i].name, name) != 0; i++)
        ;
    if (i == known) {
        PyMem_Free(shape);
        PyErr_Format(PyExc_TypeError, "shape: unknown type %s", name);
        return NULL;
    }
    shape->tag = TAGS[i].tag;
    shape->limit = -1;
    Py_ssize_t arity = PyTuple_GET_SIZE(type);
    int failed = 0;
    switch (shape->tag) {
    case S_STRING:
        if (arity > 2) goto bad_arity;
        if (arity == 2) {
            shape->limit = PyLong_AsSsize_t(PyTuple_GET_ITEM(type, 1));
            if (shape->limit < 0) {
                if (!PyErr_Occurred())
                    PyErr_Format(PyExc_ValueError, "shape: a string's limit is negative");
                failed = 1;
            }
        }
        break;
    case S_LIST:
    case S_OPTION:
        if (arity != 2) goto bad_arity;
        {
            PyObject *one = PyTuple_Pack(1, PyTuple_GET_ITEM(type, 1));
            failed = one == NULL || compile_children(shape, one, false, false, depth) < 0;
            Py_XDECREF(one);
        }
        break;
    case S_TUPLE:
        if (arity != 2) goto bad_arity;
        failed = compile_children(shape, PyTuple_GET_ITEM(type, 1), false, false, depth) < 0;
        break;
    case S_RECORD:
        if (arity != 2) goto bad_arity;
        failed = compile_children(shape, PyTuple_GET_ITEM(type, 1), true, false, depth) < 0;
        break;
    case S_VARIANT:
    case S_ENUM: {
        if (arity != 2) goto bad_arity;
        /* walked once: ``pynames`` is as long as the names and children compiled from it */
        PyObject *items = PySequence_Tuple(PyTuple_GET_ITEM(type, 1));
        Py_ssize_t count = items == NULL ? 0 : PyTuple_GET_SIZE(items);
        shape->index = items == NULL ? NULL : PyDict_New();
        shape->pynames = shape->index == NULL ? NULL : PyMem_Calloc(count ? count : 1, sizeof(PyObject *));
        if (shape->tag == S_ENUM && shape->pynames != NULL)
            shape->names = PyMem_Calloc(count ? count : 1, sizeof(name_t));
        if (shape->pynames == NULL || (shape->tag == S_ENUM && shape->names == NULL)) {
            if (!PyErr_Occurred())
                PyErr_NoMemory();
            failed = 1;
        } else if (shape->tag == S_VARIANT) {
            failed = compile_children(shape, items, true, true, depth) < 0;
        } else {
            shape->count = count;
            for (Py_ssize_t k = 0; !failed && k < count; k++)
                failed = set_name(shape, k, PyTuple_GET_ITEM(items, k)) < 0;
        }
        Py_XDECREF(items);
        break;
    }
    case S_RESULT:
        if (arity != 3) goto bad_arity;
        {
            PyObject *two = PyTuple_GetSlice(type, 1, 3);
            failed = two == NULL || compile_children(shape, two, false, true, depth) < 0;
            Py_XDECREF(two);
        }
        break;
    default:
        break;
    }
    if (failed) {
        shape_free(shape);
        return NULL;
    }
    return shape;
bad_arity:
    shape_free(shape);
    PyErr_Format(PyExc_TypeError, "shape: malformed %s type %R", name, type);
    return NULL;
}

/* writing: Python value -> val in an arena -------------------------------- */
static int write_val(arena_t *arena, shape_t *shape, PyObject *value, val_t *out);

static int
write_sized(arena_t *arena, const char *data, Py_ssize_t size, name_t *out)
{
    out->size = (size_t)size;
    out->data = NULL;
    if (size) {
        out->data = take(arena, (size_t)size);
        if (out->data == NULL)
            return -1;
        memcpy(out->data, data, (size_t)size);
    }
    return 0;
}

static int
write_string(arena_t *arena, PyObject *value, val_t *out)
{
    if (!PyUnicode_Check(value)) {
        PyErr_Format(PyExc_TypeError, "expected str, got %.80s", Py_TYPE(value)->tp_name);
        return -1;
    }
    Py_ssize_t size;
    const char *text = PyUnicode_AsUTF8AndSize(value, &size); /* strict: Rust needs valid UTF-8 */
    if (text == NULL)
        return -1;
    out->kind = K_STRING;
    return write_sized(arena, text, size, &out->of.str);
}

static int
write_bytes(arena_t *arena, PyObject *value, val_t *out)
{
    Py_buffer view;
    if (PyObject_GetBuffer(value, &view, PyBUF_SIMPLE) < 0)
        return -1;
    out->kind = K_LIST;
    out->of.list.size = (size_t)view.len;
    out->of.list.data = NULL;
    if (view.len) {
        val_t *items = take(arena, (size_t)view.len * sizeof(val_t));
        if (items == NULL) {
            PyBuffer_Release(&view);
            return -1;
        }
        const uint8_t *bytes = view.buf;
        for (Py_ssize_t i = 0; i < view.len; i++) {
            items[i].kind = K_U8;
            items[i].of.u64 = 0;
            items[i].of.u8 = bytes[i];
        }
        out->of.list.data = items;
    }
    PyBuffer_Release(&view);
    return 0;
}

/* Item ``i`` of ``seq`` (a list or tuple of ``size``), held while written: a
 * value's __bool__, __index__ or __iter__ runs Python code that may shrink the list. */
static int
write_item(arena_t *arena, shape_t *shape, PyObject *seq, Py_ssize_t size, Py_ssize_t i, val_t *out)
{
    if (PySequence_Fast_GET_SIZE(seq) != size) {
        PyErr_SetString(PyExc_RuntimeError, "a list changed size while it was written");
        return -1;
    }
    PyObject *item = Py_NewRef(PySequence_Fast_GET_ITEM(seq, i));
    int status = write_val(arena, shape, item, out);
    Py_DECREF(item);
    return status;
}

/* list, tuple and record: a sequence of values written into fresh slots */
static int
write_items(arena_t *arena, shape_t *shape, PyObject *value, val_t *out)
{
    PyObject *seq = PySequence_Fast(value, "expected a sequence");
    if (seq == NULL)
        return -1;
    Py_ssize_t size = PySequence_Fast_GET_SIZE(seq);
    if (shape->tag != S_LIST && size != shape->count) {
        PyErr_Format(PyExc_TypeError, "expected a %s of %zd fields, got %zd",
                     shape->tag == S_RECORD ? "record" : "tuple", shape->count, size);
        Py_DECREF(seq);
        return -1;
    }
    int failed = 0;
    if (shape->tag == S_RECORD) {
        entry_t *entries = size ? take(arena, (size_t)size * sizeof(entry_t)) : NULL;
        failed = size && entries == NULL;
        for (Py_ssize_t i = 0; !failed && i < size; i++) {
            entries[i].name = shape->names[i]; /* static: the shape outlives the call */
            failed = write_item(arena, shape->children[i], seq, size, i, &entries[i].val) < 0;
        }
        out->kind = K_RECORD;
        out->of.record.size = (size_t)size;
        out->of.record.data = entries;
    } else {
        val_t *vals = size ? take(arena, (size_t)size * sizeof(val_t)) : NULL;
        failed = size && vals == NULL;
        for (Py_ssize_t i = 0; !failed && i < size; i++) {
            shape_t *element = shape->tag == S_LIST ? shape->children[0] : shape->children[i];
            failed = write_item(arena, element, seq, size, i, &vals[i]) < 0;
        }
        out->kind = shape->tag == S_LIST ? K_LIST : K_TUPLE;
        out->of.list.size = (size_t)size;
        out->of.list.data = vals;
    }
    Py_DECREF(seq);
    return failed ? -1 : 0;
}

static Py_ssize_t
position(shape_t *shape, PyObject *name)
{
    PyObject *at = PyDict_GetItemWithError(shape->index, name);
    if (at == NULL) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_KeyError, "%R is not one of the type's cases", name);
        return -1;
    }
    return PyLong_AsSsize_t(at);
}

/* ``payload`` into a fresh val behind ``*slot`` (NULL when the side has no type) */
static int
write_boxed(arena_t *arena, shape_t *shape, PyObject *payload, val_t **slot)
{
    *slot = NULL;
    if (shape == NULL)
        return 0;
    val_t *box = take(arena, sizeof(val_t));
    if (box == NULL)
        return -1;
    *slot = box;
    return write_val(arena, shape, payload, box);
}

static int
unpack_pair(PyObject *value, const char *what, PyObject **first, PyObject **second)
{
    if (!PyTuple_Check(value) || PyTuple_GET_SIZE(value) != 2) {
        PyErr_Format(PyExc_TypeError, "expected a %s pair, got %.80s", what, Py_TYPE(value)->tp_name);
        return -1;
    }
    *first = PyTuple_GET_ITEM(value, 0);
    *second = PyTuple_GET_ITEM(value, 1);
    return 0;
}

static int
write_unsigned(PyObject *value, uint64_t max, uint64_t *out)
{
    unsigned long long number = PyLong_AsUnsignedLongLong(value);
    if (number == (unsigned long long)-1 && PyErr_Occurred())
        return -1;
    if (number > max) {
        PyErr_Format(PyExc_OverflowError, "%llu is out of range", number);
        return -1;
    }
    *out = number;
    return 0;
}

static int
write_val(arena_t *arena, shape_t *shape, PyObject *value, val_t *out)
{
    PyObject *first, *second;
    uint64_t number;
    Py_ssize_t at;
    out->of.u64 = 0;
    switch (shape->tag) {
    case S_STRING:
        return write_string(arena, value, out);
    case S_BYTES:
        return write_bytes(arena, value, out);
    case S_LIST:
    case S_TUPLE:
    case S_RECORD:
        return write_items(arena, shape, value, out);
    case S_VARIANT:
        if (unpack_pair(value, "(case, payload)", &first, &second) < 0 || (at = position(shape, first)) < 0)
            return -1;
        out->kind = K_VARIANT;
        out->of.variant.name = shape->names[at];
        return write_boxed(arena, shape->children[at], second, &out->of.variant.val);
    case S_ENUM:
        if ((at = position(shape, value)) < 0)
            return -1;
        out->kind = K_ENUM;
        out->of.str = shape->names[at];
        return 0;
    case S_OPTION:
        out->kind = K_OPTION;
        if (value == Py_None) {
            out->of.option = NULL;
            return 0;
        }
        return write_boxed(arena, shape->children[0], value, &out->of.option);
    case S_RESULT: {
        if (unpack_pair(value, "(is_ok, payload)", &first, &second) < 0)
            return -1;
        int is_ok = PyObject_IsTrue(first);
        if (is_ok < 0)
            return -1;
        out->kind = K_RESULT;
        out->of.result.is_ok = is_ok;
        return write_boxed(arena, shape->children[is_ok ? 0 : 1], second, &out->of.result.val);
    }
    case S_BOOL: {
        int truth = PyObject_IsTrue(value);
        if (truth < 0)
            return -1;
        out->kind = K_BOOL;
        out->of.b = truth;
        return 0;
    }
    case S_U8:
    case S_U16:
    case S_U32:
    case S_U64: {
        static const uint64_t MAX[] = {UINT8_MAX, UINT16_MAX, UINT32_MAX, UINT64_MAX};
        static const uint8_t KIND[] = {K_U8, K_U16, K_U32, K_U64};
        int width = shape->tag - S_U8;
        if (write_unsigned(value, MAX[width], &number) < 0)
            return -1;
        out->kind = KIND[width];
        out->of.u64 = number; /* little-endian: the narrow fields share its low bytes */
        return 0;
    }
    case S_S64: {
        long long number = PyLong_AsLongLong(value);
        if (number == -1 && PyErr_Occurred())
            return -1;
        out->kind = K_S64;
        out->of.s64 = number;
        return 0;
    }
    case S_F64: {
        double number = PyFloat_AsDouble(value);
        if (number == -1.0 && PyErr_Occurred())
            return -1;
        out->kind = K_F64;
        out->of.f64 = number;
        return 0;
    }
    }
    PyErr_SetString(PyExc_TypeError, "shape: no writer");
    return -1;
}

/* reading: Rust-owned val -> Python value ---------------------------------
 * An import is typed by the component, not by us: a hostile guest can hand a
 * u32 where a string is expected, so every kind is checked before a pointer
 * is followed (a TypeError, never a read through a bogus pointer).
 */
static PyObject *read_val(shape_t *shape, const val_t *val);

static int
expect(const val_t *val, uint8_t kind)
{
    if (val->kind == kind)
        return 1;
    PyErr_Format(PyExc_TypeError, "host call argument has kind %d, expected %d", val->kind, kind);
    return 0;
}

static PyObject *
read_string(const name_t *name)
{
    return PyUnicode_DecodeUTF8(name->size ? name->data : "", (Py_ssize_t)name->size, "strict");
}

/* Code points in UTF-8 ``data``: the bytes that start one (Rust's strings are valid UTF-8) */
static size_t
count_chars(const unsigned char *data, size_t size)
{
    size_t count = 0;
    for (size_t i = 0; i < size; i++)
        count += (data[i] & 0xC0) != 0x80;
    return count;
}

/* A guest's string (an error text, a host call's log line or key) cut to ``limit``
 * code points as ``_bounds.clip`` cuts it, decoding only the kept prefix: a 5 MB
 * text costs a count without the GIL, not a 5 MB str made and dropped under it. */
static PyObject *
read_clipped(const name_t *name, Py_ssize_t limit)
{
    const unsigned char *data = (const unsigned char *)(name->size ? name->data : "");
    size_t size = name->size, at = 0, kept = 0;
    if (limit < 0 || size <= (size_t)limit)
        return read_string(name);
    for (; at < size; at++) /* ``at``: where code point ``limit`` + 1 starts, if any */
        if ((data[at] & 0xC0) != 0x80 && kept++ == (size_t)limit)
            break;
    if (at == size)
        return read_string(name);
    size_t rest;
    Py_BEGIN_ALLOW_THREADS
    rest = count_chars(data + at, size - at);
    Py_END_ALLOW_THREADS
    PyObject *head = PyUnicode_DecodeUTF8((const char *)data, (Py_ssize_t)at, "strict");
    if (head == NULL)
        return NULL;
    char marker[64];
    snprintf(marker, sizeof marker, "\xe2\x80\xa6 [%zu more characters cut]", rest);
    PyObject *tail = PyUnicode_DecodeUTF8(marker, (Py_ssize_t)strlen(marker), "strict");
    PyObject *out = tail == NULL ? NULL : PyUnicode_Concat(head, tail);
    Py_DECREF(head);
    Py_XDECREF(tail);
    return out;
}

static PyObject *
read_named(shape_t *shape, const name_t *name)
{
    for (Py_ssize_t i = 0; i < shape->count; i++) {
        if (shape->names[i].size == name->size && memcmp(shape->names[i].data, name->data, name->size) == 0) {
            Py_INCREF(shape->pynames[i]);
            return shape->pynames[i];
        }
    }
    PyObject *text = read_string(name);
    if (text != NULL) {
        PyErr_Format(PyExc_TypeError, "host call argument: unknown case %R", text);
        Py_DECREF(text);
    }
    return NULL;
}

static PyObject *
read_val(shape_t *shape, const val_t *val)
{
    switch (shape->tag) {
    case S_STRING:
        return expect(val, K_STRING) ? read_clipped(&val->of.str, shape->limit) : NULL;
    case S_BYTES: {
        if (!expect(val, K_LIST))
            return NULL;
        size_t size = val->of.list.size;
        PyObject *bytes = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)size);
        if (bytes == NULL)
            return NULL;
        char *data = PyBytes_AS_STRING(bytes);
        for (size_t i = 0; i < size; i++) {
            const val_t *item = &val->of.list.data[i];
            if (item->kind != K_U8) {
                Py_DECREF(bytes);
                PyErr_SetString(PyExc_TypeError, "host call argument is not a list<u8>");
                return NULL;
            }
            data[i] = (char)item->of.u8;
        }
        return bytes;
    }
    case S_LIST:
    case S_TUPLE: {
        if (!expect(val, shape->tag == S_LIST ? K_LIST : K_TUPLE))
            return NULL;
        size_t size = val->of.list.size;
        if (shape->tag == S_TUPLE && size != (size_t)shape->count) {
            PyErr_Format(PyExc_TypeError, "host call argument is not a %zd-tuple", shape->count);
            return NULL;
        }
        PyObject *out = shape->tag == S_LIST ? PyList_New((Py_ssize_t)size) : PyTuple_New((Py_ssize_t)size);
        for (size_t i = 0; out != NULL && i < size; i++) {
            PyObject *item = read_val(shape->tag == S_LIST ? shape->children[0] : shape->children[i],
                                      &val->of.list.data[i]);
            if (item == NULL)
                Py_CLEAR(out);
            else if (shape->tag == S_LIST)
                PyList_SET_ITEM(out, (Py_ssize_t)i, item);
            else
                PyTuple_SET_ITEM(out, (Py_ssize_t)i, item);
        }
        return out;
    }
    case S_RECORD: {
        if (!expect(val, K_RECORD))
            return NULL;
        if (val->of.record.size != (size_t)shape->count) {
            PyErr_Format(PyExc_TypeError, "host call argument is not a record of %zd fields", shape->count);
            return NULL;
        }
        PyObject *out = PyTuple_New(shape->count);
        for (Py_ssize_t i = 0; out != NULL && i < shape->count; i++) {
            PyObject *item = read_val(shape->children[i], &val->of.record.data[i].val);
            if (item == NULL)
                Py_CLEAR(out);
            else
                PyTuple_SET_ITEM(out, i, item);
        }
        return out;
    }
    case S_ENUM:
        return expect(val, K_ENUM) ? read_named(shape, &val->of.str) : NULL;
    case S_U64:
        return expect(val, K_U64) ? PyLong_FromUnsignedLongLong(val->of.u64) : NULL;
    case S_RESULT: {
        if (!expect(val, K_RESULT))
            return NULL;
        bool is_ok = val->of.result.is_ok;
        shape_t *side = shape->children[is_ok ? 0 : 1];
        PyObject *payload;
        if (side == NULL || val->of.result.val == NULL) {
            if (side != NULL) {
                PyErr_SetString(PyExc_TypeError, "result without its payload");
                return NULL;
            }
            payload = Py_NewRef(Py_None);
        } else {
            payload = read_val(side, val->of.result.val);
            if (payload == NULL)
                return NULL;
        }
        PyObject *pair = Py_BuildValue("(ON)", is_ok ? Py_True : Py_False, payload);
        return pair;
    }
    default:
        PyErr_SetString(PyExc_TypeError, "shape: no reader for this type");
        return NULL;
    }
}

/* Whether ``read_val`` reads every part of ``shape``: a host function is
 * refused when made, as by the ctypes twin, not trapped on every call. */
static bool
readable(const shape_t *shape)
{
    switch (shape->tag) {
    case S_STRING:
    case S_BYTES:
    case S_ENUM:
    case S_U64:
        return true;
    case S_LIST:
    case S_TUPLE:
    case S_RECORD:
    case S_RESULT:
        for (Py_ssize_t i = 0; i < shape->count; i++) {
            if (shape->children[i] != NULL && !readable(shape->children[i]))
                return false;
        }
        return true;
    default:
        return false;
    }
}

/* Shape: a compiled type, also the test surface (clone into / read from Rust) */
typedef struct {
    PyObject_HEAD
    shape_t *shape;
    arena_t arena;
} ShapeObject;

static PyTypeObject ShapeType;

static PyObject *
Shape_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *spec;
    if (!PyArg_ParseTuple(args, "O:Shape", &spec))
        return NULL;
    shape_t *shape = compile(spec, 0);
    if (shape == NULL)
        return NULL;
    ShapeObject *self = (ShapeObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        shape_free(shape);
        return NULL;
    }
    self->shape = shape;
    return (PyObject *)self;
}

static void
Shape_dealloc(ShapeObject *self)
{
    shape_free(self->shape);
    release(&self->arena);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
Shape_clone_into(ShapeObject *self, PyObject *args)
{
    PyObject *value;
    unsigned long long dst;
    if (!PyArg_ParseTuple(args, "OK:clone_into", &value, &dst) || !bound() || begin(&self->arena) < 0)
        return NULL;
    val_t root;
    int status = write_val(&self->arena, self->shape, value, &root);
    if (status == 0)
        api.val_clone(&root, (val_t *)(uintptr_t)dst);
    end(&self->arena);
    if (status < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
Shape_read(ShapeObject *self, PyObject *arg)
{
    unsigned long long src = PyLong_AsUnsignedLongLong(arg);
    if (src == (unsigned long long)-1 && PyErr_Occurred())
        return NULL;
    return read_val(self->shape, (const val_t *)(uintptr_t)src);
}

static PyMethodDef Shape_methods[] = {
    {"clone_into", (PyCFunction)Shape_clone_into, METH_VARARGS,
     "clone_into(value, address): write value as a Rust-owned val at address (freed by val_delete)"},
    {"read", (PyCFunction)Shape_read, METH_O, "read(address): the Python value of the val there"},
    {NULL},
};

static PyTypeObject ShapeType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "cove._hosts._fast_ext.Shape",
    .tp_doc = "A WIT type compiled for writing and reading vals.",
    .tp_basicsize = sizeof(ShapeObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = Shape_new,
    .tp_dealloc = (destructor)Shape_dealloc,
    .tp_methods = Shape_methods,
};

static shape_t **
shapes_of(PyObject *list, Py_ssize_t *count)
{
    PyObject *seq = PySequence_Fast(list, "expected a list of Shape");
    if (seq == NULL)
        return NULL;
    *count = PySequence_Fast_GET_SIZE(seq);
    shape_t **shapes = PyMem_Calloc(*count ? *count : 1, sizeof(shape_t *));
    for (Py_ssize_t i = 0; shapes != NULL && i < *count; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyObject_TypeCheck(item, &ShapeType)) {
            PyErr_SetString(PyExc_TypeError, "expected a list of Shape");
            PyMem_Free(shapes);
            shapes = NULL;
        } else {
            shapes[i] = ((ShapeObject *)item)->shape;
        }
    }
    if (shapes == NULL && !PyErr_Occurred())
        PyErr_NoMemory();
    Py_DECREF(seq);
    return shapes;
}

/* Store: fuel and epoch deadline of a wasmtime context -------------------- */
typedef struct {
    PyObject_HEAD
    PyObject *owner; /* the wasmtime.Store the context pointer belongs to */
    void *context;
} StoreObject;

static PyObject *
Store_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *owner;
    unsigned long long context;
    if (!PyArg_ParseTuple(args, "OK:Store", &owner, &context))
        return NULL;
    StoreObject *self = (StoreObject *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->owner = Py_NewRef(owner);
    self->context = (void *)(uintptr_t)context;
    return (PyObject *)self;
}

static void
Store_dealloc(StoreObject *self)
{
    Py_XDECREF(self->owner);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
Store_set_fuel(StoreObject *self, PyObject *arg)
{
    unsigned long long fuel = PyLong_AsUnsignedLongLong(arg);
    if ((fuel == (unsigned long long)-1 && PyErr_Occurred()) || !bound())
        return NULL;
    error_p error = api.set_fuel(self->context, fuel);
    if (error != NULL)
        return raise_wasmtime(error);
    Py_RETURN_NONE;
}

static PyObject *
Store_get_fuel(StoreObject *self, PyObject *unused)
{
    uint64_t fuel = 0;
    if (!bound())
        return NULL;
    error_p error = api.get_fuel(self->context, &fuel);
    if (error != NULL)
        return raise_wasmtime(error);
    return PyLong_FromUnsignedLongLong(fuel);
}

static PyObject *
Store_set_epoch_deadline(StoreObject *self, PyObject *arg)
{
    unsigned long long ticks = PyLong_AsUnsignedLongLong(arg);
    if ((ticks == (unsigned long long)-1 && PyErr_Occurred()) || !bound())
        return NULL;
    api.set_deadline(self->context, ticks);
    Py_RETURN_NONE;
}

static PyObject *
Store_get_store(StoreObject *self, void *closure)
{
    return Py_NewRef(self->owner);
}

static PyMethodDef Store_methods[] = {
    {"set_fuel", (PyCFunction)Store_set_fuel, METH_O, NULL},
    {"get_fuel", (PyCFunction)Store_get_fuel, METH_NOARGS, NULL},
    {"set_epoch_deadline", (PyCFunction)Store_set_epoch_deadline, METH_O, NULL},
    {NULL},
};

static PyGetSetDef Store_getset[] = {
    {"store", (getter)Store_get_store, NULL, "the wasmtime.Store", NULL},
    {NULL},
};

static PyTypeObject StoreType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "cove._hosts._fast_ext.Store",
    .tp_doc = "Store(store, context_address): per-call limits through the C API.",
    .tp_basicsize = sizeof(StoreObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = Store_new,
    .tp_dealloc = (destructor)Store_dealloc,
    .tp_methods = Store_methods,
    .tp_getset = Store_getset,
};

/* Func: an export taking our values and returning result<_, string> ------- */
typedef struct {
    PyObject_HEAD
    PyObject *owner;  /* keeps the store and the wasmtime func alive */
    PyObject *params; /* the Shape objects, kept alive */
    shape_t **shapes;
    Py_ssize_t nparams;
    Py_ssize_t error_limit; /* code points of an error text kept; -1: all */
    const void *func;
    void *context;
    arena_t arena;
    val_t result; /* ours; Rust fills it, we read and val_delete it */
    vectorcallfunc vectorcall;
} FuncObject;

static PyObject *Func_call(FuncObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames);

static PyObject *
Func_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *owner, *params;
    unsigned long long func, context;
    Py_ssize_t error_limit = -1;
    if (!PyArg_ParseTuple(args, "OKKO|n:Func", &owner, &func, &context, &params, &error_limit))
        return NULL;
    Py_ssize_t count = 0;
    params = PySequence_Tuple(params); /* ours, walked once: the Shapes read with are the ones kept */
    shape_t **shapes = params == NULL ? NULL : shapes_of(params, &count);
    FuncObject *self = shapes == NULL ? NULL : (FuncObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        PyMem_Free(shapes);
        Py_XDECREF(params);
        return NULL;
    }
    self->owner = Py_NewRef(owner);
    self->params = params;
    self->shapes = shapes;
    self->nparams = count;
    self->error_limit = error_limit;
    self->func = (const void *)(uintptr_t)func;
    self->context = (void *)(uintptr_t)context;
    self->result.kind = K_BOOL; /* a valid value that owns nothing */
    self->vectorcall = (vectorcallfunc)Func_call;
    return (PyObject *)self;
}

static void
Func_dealloc(FuncObject *self)
{
    if (self->result.kind != K_BOOL && api.val_delete != NULL)
        api.val_delete(&self->result);
    Py_XDECREF(self->owner);
    Py_XDECREF(self->params);
    PyMem_Free(self->shapes);
    release(&self->arena);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* result<_, string> -> None or the guest's error text (cut); then the slot is emptied */
static PyObject *
take_result(FuncObject *self)
{
    val_t *result = &self->result;
    PyObject *out;
    if (result->kind != K_RESULT)
        out = PyErr_Format(PyExc_TypeError, "export returned kind %d, not a result", result->kind);
    else if (result->of.result.is_ok)
        out = Py_NewRef(Py_None);
    else if (result->of.result.val == NULL)
        out = PyUnicode_FromString("");
    else if (result->of.result.val->kind != K_STRING)
        out = PyErr_Format(PyExc_TypeError, "export's error has kind %d, not a string",
                           result->of.result.val->kind);
    else
        out = read_clipped(&result->of.result.val->of.str, self->error_limit);
    if (result->kind != K_RESULT || result->of.result.val != NULL) {
        /* a huge error text is freed without the GIL: the arena keeps the slot ours */
        Py_BEGIN_ALLOW_THREADS
        api.val_delete(result);
        Py_END_ALLOW_THREADS
        result->kind = K_BOOL;
    }
    return out;
}

static PyObject *
Func_call(FuncObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (!bound())
        return NULL;
    if (kwnames != NULL && PyTuple_GET_SIZE(kwnames)) {
        PyErr_SetString(PyExc_TypeError, "Func takes no keyword arguments");
        return NULL;
    }
    if (nargs != self->nparams) {
        PyErr_Format(PyExc_TypeError, "export takes %zd arguments, got %zd", self->nparams, nargs);
        return NULL;
    }
    if (begin(&self->arena) < 0) /* busy until the result is read: the slot is the arena's twin */
        return NULL;
    val_t *vals = nargs ? take(&self->arena, (size_t)nargs * sizeof(val_t)) : NULL;
    bool failed = nargs && vals == NULL;
    for (Py_ssize_t i = 0; !failed && i < nargs; i++)
        failed = write_val(&self->arena, self->shapes[i], args[i], &vals[i]) < 0;
    if (failed) {
        end(&self->arena);
        return NULL;
    }
    error_p error;
    /* The GIL is released while the guest runs: the epoch ticker is a Python
     * thread, and host calls take it back in ``trampoline``. */
    Py_BEGIN_ALLOW_THREADS
    error = api.func_call(self->func, self->context, vals, (size_t)nargs, &self->result, 1);
    Py_END_ALLOW_THREADS
    PyObject *out = error == NULL ? take_result(self) : NULL;
    end(&self->arena);
    return error == NULL ? out : raise_wasmtime(error);
}

static PyTypeObject FuncType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "cove._hosts._fast_ext.Func",
    .tp_doc = "Func(owner, func_address, context_address, params): call an export.",
    .tp_basicsize = sizeof(FuncObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_vectorcall_offset = offsetof(FuncObject, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_new = Func_new,
    .tp_dealloc = (destructor)Func_dealloc,
};

#define MAX_PARAMS 8

/* Callback: one host function; wasmtime calls ``trampoline`` with it as data */
typedef struct {
    PyObject_HEAD
    PyObject *params; /* Shape objects */
    PyObject *result_shape; /* Shape or None */
    shape_t **shapes;
    Py_ssize_t nparams;
    shape_t *result;
    PyObject *invoke; /* (*values) -> the value to return */
    PyObject *fail;   /* (exception) -> bytes: parks it, gives the trap message */
    arena_t arena;
} CallbackObject;

static PyObject *
Callback_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *params, *result, *invoke, *fail;
    if (!PyArg_ParseTuple(args, "OOOO:Callback", &params, &result, &invoke, &fail))
        return NULL;
    if (result != Py_None && !PyObject_TypeCheck(result, &ShapeType)) {
        PyErr_SetString(PyExc_TypeError, "result must be a Shape or None");
        return NULL;
    }
    Py_ssize_t count = 0;
    params = PySequence_Tuple(params); /* ours, walked once: the Shapes read with are the ones kept */
    shape_t **shapes = params == NULL ? NULL : shapes_of(params, &count);
    for (Py_ssize_t i = 0; shapes != NULL && i < count; i++) {
        if (!readable(shapes[i])) {
            PyMem_Free(shapes);
            shapes = NULL;
            PyErr_Format(PyExc_TypeError, "no reader for host function param %zd", i);
        }
    }
    if (shapes != NULL && count > MAX_PARAMS) {
        PyMem_Free(shapes);
        shapes = NULL;
        PyErr_Format(PyExc_TypeError, "a host function takes at most %d params", MAX_PARAMS);
    }
    CallbackObject *self = shapes == NULL ? NULL : (CallbackObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        PyMem_Free(shapes);
        Py_XDECREF(params);
        return NULL;
    }
    self->params = params;
    self->result_shape = Py_NewRef(result);
    self->shapes = shapes;
    self->nparams = count;
    self->result = result == Py_None ? NULL : ((ShapeObject *)result)->shape;
    self->invoke = Py_NewRef(invoke);
    self->fail = Py_NewRef(fail);
    return (PyObject *)self;
}

/* GC: ``invoke`` and ``fail`` are bound methods of the HostFunc holding this
 * Callback, so every host function is a cycle. No tp_clear: the HostFunc's
 * dict breaks the cycle, and a cleared Callback would crash a late host call. */
static int
Callback_traverse(CallbackObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->params);
    Py_VISIT(self->result_shape);
    Py_VISIT(self->invoke);
    Py_VISIT(self->fail);
    return 0;
}

static void
Callback_dealloc(CallbackObject *self)
{
    PyObject_GC_UnTrack(self);
    Py_XDECREF(self->params);
    Py_XDECREF(self->result_shape);
    Py_XDECREF(self->invoke);
    Py_XDECREF(self->fail);
    PyMem_Free(self->shapes);
    release(&self->arena);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject CallbackType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "cove._hosts._fast_ext.Callback",
    .tp_doc = "Callback(params, result, invoke, fail): one host function for ``trampoline``.",
    .tp_basicsize = sizeof(CallbackObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = Callback_new,
    .tp_dealloc = (destructor)Callback_dealloc,
    .tp_traverse = (traverseproc)Callback_traverse,
    .tp_free = PyObject_GC_Del,
};

/* The exception raised in this callback, handed to ``fail``; the trap to return */
static error_p
trap(CallbackObject *self)
{
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    PyErr_NormalizeException(&type, &value, &traceback);
    if (traceback != NULL && value != NULL)
        PyException_SetTraceback(value, traceback);
    PyObject *message = value == NULL ? NULL : PyObject_CallOneArg(self->fail, value);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(traceback);
    error_p error;
    if (message != NULL && PyBytes_Check(message)) {
        error = api.error_new(PyBytes_AS_STRING(message));
    } else {
        if (PyErr_Occurred())
            PyErr_WriteUnraisable(self->fail);
        error = api.error_new("cove host call failed");
    }
    Py_XDECREF(message);
    return error;
}

static error_p
trampoline(void *data, void *context, const void *type, val_t *args, size_t nargs, val_t *results,
           size_t nresults)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    CallbackObject *self = (CallbackObject *)data;
    Py_INCREF(self); /* the body may drop the host that holds it */
    error_p error = NULL;
    PyObject *values[MAX_PARAMS];
    Py_ssize_t made = 0;
    PyObject *value = NULL;
    if (nargs != (size_t)self->nparams || nresults != (self->result != NULL ? 1u : 0u)) {
        PyErr_Format(PyExc_TypeError, "import has %zu params/%zu results, not the WIT's", nargs, nresults);
        goto failed;
    }
    for (; made < self->nparams; made++) {
        values[made] = read_val(self->shapes[made], &args[made]);
        if (values[made] == NULL)
            goto failed;
    }
    value = PyObject_Vectorcall(self->invoke, values, (size_t)made, NULL);
    if (value == NULL)
        goto failed;
    if (self->result != NULL) {
        val_t root;
        if (begin(&self->arena) < 0)
            goto failed;
        int status = write_val(&self->arena, self->result, value, &root);
        if (status == 0)
            api.val_clone(&root, results); /* deep copy into Rust memory; Rust drops it */
        end(&self->arena);
        if (status < 0)
            goto failed;
    }
    goto done;
failed:
    error = trap(self);
done:
    for (Py_ssize_t i = 0; i < made; i++)
        Py_DECREF(values[i]);
    Py_XDECREF(value);
    Py_DECREF(self);
    PyGILState_Release(gil);
    return error;
}

/* module ------------------------------------------------------------------ */
static PyObject *
bind(PyObject *module, PyObject *args)
{
    unsigned long long a[7];
    PyObject *raise_error;
    if (!PyArg_ParseTuple(args, "KKKKKKKO:bind", &a[0], &a[1], &a[2], &a[3], &a[4], &a[5], &a[6],
                          &raise_error))
        return NULL;
    for (int i = 0; i < 7; i++) {
        if (a[i] == 0) {
            PyErr_SetString(PyExc_ValueError, "bind: a null function address");
            return NULL;
        }
    }
    api.func_call = (func_call_t)(uintptr_t)a[0];
    api.val_clone = (val_clone_t)(uintptr_t)a[1];
    api.val_delete = (val_delete_t)(uintptr_t)a[2];
    api.error_new = (error_new_t)(uintptr_t)a[3];
    api.set_fuel = (set_fuel_t)(uintptr_t)a[4];
    api.get_fuel = (get_fuel_t)(uintptr_t)a[5];
    api.set_deadline = (set_deadline_t)(uintptr_t)a[6];
    Py_XSETREF(api.raise_error, Py_NewRef(raise_error));
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"bind", bind, METH_VARARGS,
     "bind(func_call, val_clone, val_delete, error_new, set_fuel, get_fuel, set_epoch_deadline, "
     "raise_error): the wasmtime functions by address, and how to raise their errors"},
    {NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "cove._hosts._fast_ext",
    "The wasm fast path's per-event steps in C (see _fast_call).", -1, module_methods,
};

PyMODINIT_FUNC
PyInit__fast_ext(void)
{
    PyTypeObject *types[] = {&ShapeType, &StoreType, &FuncType, &CallbackType};
    const char *names[] = {"Shape", "Store", "Func", "Callback"};
    PyObject *module = PyModule_Create(&module_def);
    if (module == NULL)
        return NULL;
    for (int i = 0; i < 4; i++) {
        if (PyType_Ready(types[i]) < 0 || PyModule_AddObjectRef(module, names[i], (PyObject *)types[i]) < 0) {
            Py_DECREF(module);
            return NULL;
        }
    }
    if (PyModule_AddObject(module, "TRAMPOLINE", PyLong_FromVoidPtr((void *)trampoline)) < 0 ||
        PyModule_AddIntConstant(module, "MAX_PARAMS", MAX_PARAMS) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
