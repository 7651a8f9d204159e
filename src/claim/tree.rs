//! The spanned value tree both text readers build (YAML through saphyr's events,
//! JSON through [`super::json`]): values with the byte range they were read from,
//! before any claim field is looked at. Numbers stay as written, so `02` can be
//! told from `2` and a 400-digit number never overflows.

/// Deepest nesting a claim input may have. A claim needs 4 (the claim, its
/// documentation, the activity list, an activity); anything much deeper is not a
/// claim, and stopping early keeps `[[[[…` from exhausting the stack.
pub(crate) const MAX_DEPTH: usize = 32;

///
///
/// The tree lives in an arena (a `bumpalo::Bump` the caller owns and may reuse
/// from claim to claim): lists, objects and decoded text are allocated there, and
/// text without escapes is borrowed from the input itself. Nothing in a tree
/// needs dropping, so a batch reuses one arena's memory for every claim instead
/// of allocating and freeing each list and object.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Value<'t> {
    Null,
    Bool(bool),
    /// A number as written (`02`, `120.50`, `1e400`).
    Number(&'t str),
    String(&'t str),
    List(&'t [Node<'t>]),
    Object(&'t [Entry<'t>]),
}

/// A value and the byte range of its text.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Node<'t> {
    pub value: Value<'t>,
    pub start: usize,
    pub end: usize,
}

/// One `key: value` of an object, with where the key stands.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Entry<'t> {
    pub key: &'t str,
    pub key_start: usize,
    pub key_end: usize,
    pub node: Node<'t>,
}

/// Text that is not well-formed YAML or JSON (or nests too deep).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub message: String,
    /// JSON pointer of the value being read when it went wrong.
    pub path: String,
    pub start: usize,
    pub end: usize,
}

/// The message for input nested deeper than [`MAX_DEPTH`].
pub(crate) fn too_deep() -> String {
    format!("the input nests lists and objects more than {MAX_DEPTH} levels deep; a claim needs at most 4")
}

/// Appends one reference token to a JSON pointer (RFC 6901 escaping).
pub(crate) fn push_key(path: &mut String, key: &str) {
    path.push('/');
    if !key.contains(['~', '/']) {
        path.push_str(key);
        return;
    }
    for c in key.chars() {
        match c {
            '~' => path.push_str("~0"),
            '/' => path.push_str("~1"),
            _ => path.push(c),
        }
    }
}

/// `path` with one more key.
pub(crate) fn child(path: &str, key: &str) -> String {
    let mut out = String::with_capacity(path.len() + key.len() + 1);
    out.push_str(path);
    push_key(&mut out, key);
    out
}

/// `path` with one more list index.
pub(crate) fn item(path: &str, index: usize) -> String {
    let mut out = String::with_capacity(path.len() + 4);
    out.push_str(path);
    push_index(&mut out, index);
    out
}

/// Appends `/index` to a JSON pointer, without the formatting machinery (hot
/// when reading batches).
pub(crate) fn push_index(path: &mut String, index: usize) {
    path.push('/');
    crate::decimal::Decimal::new(index as u64).push_to(path);
}
