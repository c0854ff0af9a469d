"""GitHub's markdown parser (cmark-gfm, as bundled by cmarkgfm), parsed as GitHub parses a comment.

GitHub renders comments with its fork of cmark, and cmarkgfm bundles that very library. cmarkgfm's
Python API only renders to HTML (and never frees what it allocates), so this binds the few node
functions of its compiled library that a walk over the syntax tree needs, with cffi's ABI mode.
Every parse frees its tree and its parser; cmark is linear in its input by design (its spec tests
include the pathological cases), and cffi releases the GIL while C runs.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

import cffi
from cmarkgfm import _cmark

# The extensions GitHub attaches for comments (autolinks, tables, ~~strikethrough~~, the tag filter,
# task lists), and footnotes, which GitHub renders in comments too.
EXTENSIONS = (b"autolink", b"table", b"strikethrough", b"tagfilter", b"tasklist")
OPTIONS = _cmark.lib.CMARK_OPT_FOOTNOTES

_ffi = cffi.FFI()
_ffi.cdef("""
typedef struct cmark_node cmark_node;
typedef struct cmark_parser cmark_parser;
typedef struct cmark_iter cmark_iter;
typedef struct cmark_syntax_extension cmark_syntax_extension;
void cmark_gfm_core_extensions_ensure_registered(void);
cmark_syntax_extension *cmark_find_syntax_extension(const char *name);
cmark_parser *cmark_parser_new(int options);
int cmark_parser_attach_syntax_extension(cmark_parser *parser, cmark_syntax_extension *extension);
void cmark_parser_feed(cmark_parser *parser, const char *buffer, size_t len);
cmark_node *cmark_parser_finish(cmark_parser *parser);
void cmark_parser_free(cmark_parser *parser);
void cmark_node_free(cmark_node *node);
cmark_node *cmark_node_first_child(cmark_node *node);
cmark_node *cmark_node_next(cmark_node *node);
int cmark_node_get_type(cmark_node *node);
const char *cmark_node_get_type_string(cmark_node *node);
const char *cmark_node_get_literal(cmark_node *node);
cmark_iter *cmark_iter_new(cmark_node *root);
void cmark_iter_free(cmark_iter *iter);
int cmark_iter_next(cmark_iter *iter);
cmark_node *cmark_iter_get_node(cmark_iter *iter);
""")
_lib = _ffi.dlopen(_cmark.__file__)  # the library cmarkgfm already loaded: the same code, one copy
_ENTER, _EXIT = 2, 3  # cmark_event_type
_ready = threading.Lock()
_extensions: list = []
# The core node types (cmark-gfm.h numbers them; cmark_node_get_type_string does not know footnotes).
# The extensions' types (table, table_row/table_header, strikethrough, tasklist…) are numbered at run time.
_BLOCK, _INLINE = 0x8000, 0xC000
_CORE = {_BLOCK | number: name for number, name in enumerate(
    ["document", "block_quote", "list", "item", "code_block", "html_block", "custom_block", "paragraph", "heading",
     "thematic_break", "footnote_definition"], start=1)}
_CORE.update({_INLINE | number: name for number, name in enumerate(
    ["text", "softbreak", "linebreak", "code", "html_inline", "custom_inline", "emph", "strong", "link", "image",
     "footnote_reference"], start=1)})


def _gfm_extensions() -> list:
    with _ready:  # registering the extensions is not thread-safe; it happens once
        if not _extensions:
            _lib.cmark_gfm_core_extensions_ensure_registered()
            _extensions.extend(_lib.cmark_find_syntax_extension(name) for name in EXTENSIONS)
        return _extensions


@contextmanager
def parsed(markdown: str) -> Iterator[object]:
    """The document's root node, valid inside the `with` block only (the tree is freed after it)."""
    parser = _lib.cmark_parser_new(OPTIONS)
    root = _ffi.NULL
    try:
        for extension in _gfm_extensions():
            _lib.cmark_parser_attach_syntax_extension(parser, extension)
        data = markdown.encode("utf-8", "replace")  # a lone surrogate (JSON allows one) becomes "?"
        _lib.cmark_parser_feed(parser, data, len(data))
        root = _lib.cmark_parser_finish(parser)
        yield root
    finally:
        if root != _ffi.NULL:
            _lib.cmark_node_free(root)
        _lib.cmark_parser_free(parser)


def kind(node) -> str:
    """The node's type by name: document, paragraph, block_quote, text, softbreak, code, html_inline, …"""
    name = _CORE.get(_lib.cmark_node_get_type(node))
    return name or _ffi.string(_lib.cmark_node_get_type_string(node)).decode()


def children(node) -> Iterator[object]:
    """The node's direct children, in order."""
    child = _lib.cmark_node_first_child(node)
    while child != _ffi.NULL:
        yield child
        child = _lib.cmark_node_next(child)


def literal(node) -> str:
    """A leaf's text (a text node's characters, a code span's content, raw HTML), or ""."""
    value = _lib.cmark_node_get_literal(node)
    return "" if value == _ffi.NULL else _ffi.string(value).decode("utf-8", "replace")


def walk(node) -> Iterator[tuple[bool, object]]:
    """(entering, node) for the node and its descendants in document order; leaves are entered only."""
    iterator = _lib.cmark_iter_new(node)
    try:
        while (event := _lib.cmark_iter_next(iterator)) in (_ENTER, _EXIT):
            yield event == _ENTER, _lib.cmark_iter_get_node(iterator)
    finally:
        _lib.cmark_iter_free(iterator)
