//! Finds where JSON pointers sit in the scenario text, so that a problem found on the
//! parsed value (or on the resolved scenario) can be shown as `FILE:LINE:COL`; finds the
//! duplicate keys that serde_json silently collapses; and explains a syntax error at the
//! character that causes it, with the pointer of the object or array it is in.
//!
//! serde_json's `Value` keeps no positions, so this is a small scanner of its own. Its
//! memory is proportional to the nesting depth and to the pointers asked for, never to
//! the number of values in the file: it keeps the current path and a tree of the wanted
//! pointers, and records a position only where the two meet.

use std::collections::{BTreeMap, BTreeSet};

use super::pointer;

/// Where one value sits in the text (byte offsets).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// The opening quote of the key, for object members.
    pub key: Option<usize>,
    /// The first byte of the value.
    pub value: usize,
}

/// A syntax error: where, in which container, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// Byte offset of the offending character (or the end of the text).
    pub offset: usize,
    /// Pointer of the object or array that holds it (`""`: the top level).
    pub path: String,
    pub message: String,
}

/// Nesting beyond this is an error (serde_json refuses beyond 128 too).
const MAX_DEPTH: usize = 128;

/// Each key that repeats an earlier key of the same object, in text order, as
/// `(pointer, byte offset of the key)`; the first `MAX_PROBLEMS` of them.
pub fn duplicates(text: &str) -> Vec<(String, usize)> {
    let mut s = Scanner::new(text, Wanted::default());
    let _ = s.document();
    s.duplicates
}

/// For each pointer, the span of its value, or of its nearest ancestor that the text has;
/// the flag says whether it was the value itself. One scan for all of them.
pub fn find_all(text: &str, ptrs: &[&str]) -> Vec<Option<(Span, bool)>> {
    let mut wanted = Wanted::default();
    let mut routes = Vec::with_capacity(ptrs.len());
    for p in ptrs {
        let tokens = pointer::parse(p).unwrap_or_default();
        let mut node = 0;
        let mut route = vec![0];
        for t in tokens {
            node = wanted.child(node, t);
            route.push(node);
        }
        routes.push(route);
    }
    let mut s = Scanner::new(text, wanted);
    let _ = s.document();
    routes
        .iter()
        .map(|route| {
            let found = route.iter().rposition(|n| s.wanted.nodes[*n].span.is_some())?;
            let span = s.wanted.nodes[route[found]].span?;
            Some((span, found + 1 == route.len()))
        })
        .collect()
}

/// The first syntax error of the text, if any.
pub fn syntax_error(text: &str) -> Option<SyntaxError> {
    let mut s = Scanner::new(text, Wanted::default());
    s.document().err()
}

/// 1-based line and column (in characters) of a byte offset, clamped to the text.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    line_cols(text, &[offset])[0]
}

/// [`line_col`] of many offsets in one sweep of the text.
pub fn line_cols(text: &str, offsets: &[usize]) -> Vec<(usize, usize)> {
    let mut order: Vec<usize> = (0..offsets.len()).collect();
    order.sort_by_key(|&i| offsets[i]);
    let mut out = vec![(1, 1); offsets.len()];
    let (mut line, mut line_start, mut pos) = (1usize, 0usize, 0usize);
    let bytes = text.as_bytes();
    for i in order {
        let mut off = offsets[i].min(text.len());
        while !text.is_char_boundary(off) {
            off -= 1;
        }
        while pos < off {
            if bytes[pos] == b'\n' {
                line += 1;
                line_start = pos + 1;
            }
            pos += 1;
        }
        out[i] = (line, text[line_start..off].chars().count() + 1);
    }
    out
}

/// The tree of wanted pointers: node 0 is the whole document.
#[derive(Debug)]
struct Wanted {
    nodes: Vec<Node>,
}

#[derive(Debug, Default)]
struct Node {
    children: BTreeMap<String, usize>,
    span: Option<Span>,
}

impl Default for Wanted {
    fn default() -> Self {
        Wanted { nodes: vec![Node::default()] }
    }
}

impl Wanted {
    fn child(&mut self, node: usize, token: String) -> usize {
        if let Some(&c) = self.nodes[node].children.get(&token) {
            return c;
        }
        let c = self.nodes.len();
        self.nodes.push(Node::default());
        self.nodes[node].children.insert(token, c);
        c
    }
}

struct Scanner<'t> {
    text: &'t str,
    b: &'t [u8],
    pos: usize,
    wanted: Wanted,
    /// The reference tokens of the current value.
    path: Vec<String>,
    duplicates: Vec<(String, usize)>,
}

type Res<T> = Result<T, SyntaxError>;

impl<'t> Scanner<'t> {
    fn new(text: &'t str, wanted: Wanted) -> Self {
        Scanner { text, b: text.as_bytes(), pos: 0, wanted, path: Vec::new(), duplicates: Vec::new() }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// The pointer of the first `depth` tokens of the current path.
    fn here(&self, depth: usize) -> String {
        pointer::join(&self.path[..depth.min(self.path.len())])
    }

    fn fail<T>(&self, offset: usize, depth: usize, message: String) -> Res<T> {
        Err(SyntaxError { offset, path: self.here(depth), message })
    }

    /// How a container is named in messages.
    fn name(&self, depth: usize, what: &str) -> String {
        if depth == 0 { format!("the top-level {what}") } else { format!("{what} {}", self.here(depth)) }
    }

    /// What is at `pos`, for messages.
    fn found(&self, at: usize) -> String {
        match self.text.get(at..).and_then(|r| r.chars().next()) {
            None => "the end of the file".to_string(),
            Some('\'') => "`'` (JSON strings take double quotes)".to_string(),
            Some('/') => "`/` (JSON has no comments)".to_string(),
            Some(c) if c.is_alphabetic() => {
                let word: String =
                    self.text[at..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                format!("`{word}`")
            }
            Some(c) => format!("`{c}`"),
        }
    }

    fn document(&mut self) -> Res<()> {
        self.ws();
        if self.peek().is_none() {
            return self.fail(
                self.pos,
                0,
                "the file is empty: expected a scenario object `{...}`".to_string(),
            );
        }
        self.value(Some(0), None)?;
        self.ws();
        if self.pos < self.b.len() {
            return self.fail(
                self.pos,
                0,
                format!("unexpected {} after the end of the top-level value", self.found(self.pos)),
            );
        }
        Ok(())
    }

    /// Scans the value at the current position (whose path is `self.path`); `node` is its
    /// node in the wanted tree, if it is on the way to a wanted pointer.
    fn value(&mut self, node: Option<usize>, key: Option<usize>) -> Res<()> {
        let depth = self.path.len();
        if let Some(n) = node {
            self.wanted.nodes[n].span = Some(Span { key, value: self.pos });
        }
        match self.peek() {
            None => {
                let parent = depth.saturating_sub(1);
                let what = if depth == 0 {
                    "a value".to_string()
                } else {
                    format!("the value of {}", self.here(depth))
                };
                self.fail(self.pos, parent, format!("the file ends where {what} should be: it is cut short"))
            }
            Some(b'{') => self.object(node),
            Some(b'[') => self.array(node),
            Some(b'"') => self.string(depth.saturating_sub(1)).map(|_| ()),
            Some(b'-' | b'0'..=b'9') => self.number(depth),
            Some(b't') => self.literal("true", depth),
            Some(b'f') => self.literal("false", depth),
            Some(b'n') => self.literal("null", depth),
            Some(_) => {
                let at = if depth == 0 { "".to_string() } else { format!(" for {}", self.here(depth)) };
                self.fail(
                    self.pos,
                    depth.saturating_sub(1),
                    format!(
                        "expected a value{at} (a string, number, object, array, true, false or null), found {}",
                        self.found(self.pos)
                    ),
                )
            }
        }
    }

    fn child(&self, node: Option<usize>, token: &str) -> Option<usize> {
        node.and_then(|n| self.wanted.nodes[n].children.get(token).copied())
    }

    fn object(&mut self, node: Option<usize>) -> Res<()> {
        let depth = self.path.len();
        if depth >= MAX_DEPTH {
            return self.fail(self.pos, depth, format!("nested more than {MAX_DEPTH} levels deep"));
        }
        let open = self.pos;
        self.pos += 1;
        self.ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        let mut keys: BTreeSet<String> = BTreeSet::new();
        loop {
            self.ws();
            let key_at = self.pos;
            match self.peek() {
                Some(b'"') => {}
                None => return self.cut(open, depth, "object", '}'),
                Some(_) => {
                    return self.fail(
                        key_at,
                        depth,
                        format!(
                            "expected a key in double quotes in {}, found {}",
                            self.name(depth, "object"),
                            self.found(key_at)
                        ),
                    );
                }
            }
            let k = self.string(depth)?;
            self.ws();
            if self.peek() != Some(b':') {
                if self.peek().is_none() {
                    return self.cut(open, depth, "object", '}');
                }
                return self.fail(
                    self.pos,
                    depth,
                    format!(
                        "expected `:` after the key \"{k}\" in {}, found {}",
                        self.name(depth, "object"),
                        self.found(self.pos)
                    ),
                );
            }
            self.pos += 1;
            self.ws();
            if !keys.insert(k.clone()) && self.duplicates.len() < super::resolve::MAX_PROBLEMS {
                let mut p = self.path.clone();
                p.push(k.clone());
                self.duplicates.push((pointer::join(&p), key_at));
            }
            let child = self.child(node, &k);
            self.path.push(k);
            self.value(child, Some(key_at))?;
            let k = self.path.pop().unwrap_or_default();
            self.ws();
            let what = format!("the member \"{k}\"");
            if self.separator(open, depth, b'}', "object", "member", &what)? {
                return Ok(());
            }
        }
    }

    fn array(&mut self, node: Option<usize>) -> Res<()> {
        let depth = self.path.len();
        if depth >= MAX_DEPTH {
            return self.fail(self.pos, depth, format!("nested more than {MAX_DEPTH} levels deep"));
        }
        let open = self.pos;
        self.pos += 1;
        self.ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        let mut i = 0usize;
        loop {
            self.ws();
            if self.peek().is_none() {
                return self.cut(open, depth, "array", ']');
            }
            let t = i.to_string();
            let child = self.child(node, &t);
            self.path.push(t);
            self.value(child, None)?;
            self.path.pop();
            self.ws();
            if self.separator(open, depth, b']', "array", "item", &format!("item {i}"))? {
                return Ok(());
            }
            i += 1;
        }
    }

    /// After a member or item of the container opened at `open`: a `,` (and then
    /// not the closing bracket: JSON allows no trailing comma) or the closing bracket,
    /// which it consumes and reports as `true`.
    fn separator(
        &mut self,
        open: usize,
        depth: usize,
        close: u8,
        kind: &str,
        part: &str,
        what: &str,
    ) -> Res<bool> {
        match self.peek() {
            Some(b',') => {
                let comma = self.pos;
                self.pos += 1;
                self.ws();
                if self.peek() == Some(close) {
                    return self.fail(
                        comma,
                        depth,
                        format!(
                            "trailing comma after the last {part} of {} (JSON allows none): remove it",
                            self.name(depth, kind)
                        ),
                    );
                }
                Ok(false)
            }
            Some(b) if b == close => {
                self.pos += 1;
                Ok(true)
            }
            None => self.cut(open, depth, kind, close as char),
            Some(_) => self.fail(
                self.pos,
                depth,
                format!(
                    "expected `,` or `{}` after {what} of {}, found {}: is a comma missing?",
                    close as char,
                    self.name(depth, kind),
                    self.found(self.pos)
                ),
            ),
        }
    }

    /// The text ends inside a container opened at `open`.
    fn cut<T>(&self, open: usize, depth: usize, what: &str, close: char) -> Res<T> {
        let (l, c) = line_col(self.text, open);
        self.fail(
            self.b.len(),
            depth,
            format!(
                "the file ends inside {} (opened at line {l} column {c}): a `{close}` is missing, or the file is cut short",
                self.name(depth, what)
            ),
        )
    }

    fn literal(&mut self, word: &str, depth: usize) -> Res<()> {
        if self.b[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            return Ok(());
        }
        let at = if depth == 0 { String::new() } else { format!(" for {}", self.here(depth)) };
        self.fail(
            self.pos,
            depth.saturating_sub(1),
            format!(
                "expected a value{at} (a string, number, object, array, true, false or null), found {}",
                self.found(self.pos)
            ),
        )
    }

    fn number(&mut self, depth: usize) -> Res<()> {
        let start = self.pos;
        let digits = |s: &mut Self| {
            let from = s.pos;
            while matches!(s.peek(), Some(b'0'..=b'9')) {
                s.pos += 1;
            }
            s.pos - from
        };
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let int_at = self.pos;
        let n = digits(self);
        let mut ok = n > 0 && !(n > 1 && self.b[int_at] == b'0');
        if ok && self.peek() == Some(b'.') {
            self.pos += 1;
            ok = digits(self) > 0;
        }
        if ok && matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            ok = digits(self) > 0;
        }
        // A number must end where a value ends.
        if ok && !matches!(self.peek(), None | Some(b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r')) {
            ok = false;
        }
        let at = if depth == 0 { String::new() } else { format!(" for {}", self.here(depth)) };
        if ok {
            if self.text[start..self.pos].parse::<f64>().is_ok_and(f64::is_finite) {
                return Ok(());
            }
            return self.fail(
                start,
                depth.saturating_sub(1),
                format!(
                    "number `{}`{at} is out of range: JSON numbers here are at most about 1.8e308",
                    &self.text[start..self.pos]
                ),
            );
        }
        let end = self.text[start..]
            .find(|c: char| matches!(c, ',' | ']' | '}') || c.is_whitespace())
            .map_or(self.text.len(), |e| start + e);
        self.fail(
            start,
            depth.saturating_sub(1),
            format!(
                "invalid number `{}`{at}: JSON numbers are written like 12, -0.5 or 1e-3 (durations are strings such as \"250ms\")",
                &self.text[start..end]
            ),
        )
    }

    /// Reads a JSON string at the current position and returns it decoded.
    fn string(&mut self, depth: usize) -> Res<String> {
        let start = self.pos;
        self.pos += 1;
        let mut out: Vec<u8> = Vec::new();
        let mut pending_high: Option<u32> = None;
        let unterminated = |s: &Self, why: &str| -> Res<String> {
            s.fail(
                start,
                depth,
                format!("unterminated string: it starts here and {why} before its closing `\"`"),
            )
        };
        loop {
            let Some(c) = self.peek() else { return unterminated(self, "the file ends") };
            match c {
                b'"' => {
                    self.pos += 1;
                    break;
                }
                b'\n' | b'\r' => return unterminated(self, "the line ends"),
                0..=0x1f => {
                    return self.fail(
                        self.pos,
                        depth,
                        "a control character (such as a tab) inside a string: write it escaped, e.g. \\t"
                            .to_string(),
                    );
                }
                b'\\' => {
                    let esc_at = self.pos;
                    self.pos += 1;
                    let e = self.peek();
                    self.pos += 1;
                    let simple = match e {
                        Some(b'"') => Some(b'"'),
                        Some(b'\\') => Some(b'\\'),
                        Some(b'/') => Some(b'/'),
                        Some(b'b') => Some(8),
                        Some(b'f') => Some(12),
                        Some(b'n') => Some(b'\n'),
                        Some(b'r') => Some(b'\r'),
                        Some(b't') => Some(b'\t'),
                        Some(b'u') => None,
                        None => return unterminated(self, "the file ends"),
                        Some(_) => {
                            return self.fail(
                                esc_at,
                                depth,
                                format!(
                                    "invalid escape {} in a string: JSON knows \\\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t and \\uXXXX",
                                    self.text.get(esc_at..).map(|r| r.chars().take(2).collect::<String>()).unwrap_or_default()
                                ),
                            );
                        }
                    };
                    if let Some(ch) = simple {
                        out.push(ch);
                        continue;
                    }
                    let code = self
                        .b
                        .get(self.pos..self.pos + 4)
                        .and_then(|h| std::str::from_utf8(h).ok())
                        .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                        .and_then(|h| u32::from_str_radix(h, 16).ok());
                    let Some(code) = code else {
                        return self.fail(
                            esc_at,
                            depth,
                            "invalid \\u escape: it takes four hex digits, e.g. \\u00e9".to_string(),
                        );
                    };
                    self.pos += 4;
                    let ch = if (0xD800..0xDC00).contains(&code) {
                        pending_high = Some(code);
                        continue;
                    } else if (0xDC00..0xE000).contains(&code) {
                        pending_high
                            .take()
                            .and_then(|h| char::from_u32(0x10000 + ((h - 0xD800) << 10) + (code - 0xDC00)))
                    } else {
                        char::from_u32(code)
                    };
                    let ch = ch.unwrap_or('\u{fffd}');
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                _ => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(text: &str, ptr: &str) -> (usize, usize, bool) {
        let (sp, exact) = find_all(text, &[ptr])[0].expect("some ancestor exists");
        let (l, c) = line_col(text, sp.value);
        (l, c, exact)
    }

    #[test]
    fn finds_nested_keys_and_array_items() {
        let text = "{\n  \"services\": {\n    \"pay/ment\": {\"replicas\": 3,\n      \"x~y\": [10, {\"a\": \"é\"}, \n  [true]]}\n  }\n}";
        assert_eq!(loc(text, ""), (1, 1, true));
        assert_eq!(loc(text, "/services"), (2, 15, true));
        assert_eq!(loc(text, "/services/pay~1ment/replicas"), (3, 30, true));
        assert_eq!(loc(text, "/services/pay~1ment/x~0y/0"), (4, 15, true));
        assert_eq!(loc(text, "/services/pay~1ment/x~0y/1/a"), (4, 25, true));
        assert_eq!(loc(text, "/services/pay~1ment/x~0y/2/0"), (5, 4, true));
        // A path an override created: the nearest ancestor.
        assert_eq!(loc(text, "/services/pay~1ment/queue/capacity"), (3, 17, false));
        let (sp, _) = find_all(text, &["/services/pay~1ment/replicas"])[0].unwrap();
        assert_eq!(line_col(text, sp.key.unwrap()), (3, 18));
        // Many at once, in any order.
        let all = find_all(text, &["/services/pay~1ment/x~0y/0", "/services", "/nope"]);
        let lc: Vec<(usize, usize)> = all.iter().map(|f| line_col(text, f.unwrap().0.value)).collect();
        assert_eq!(lc, [(4, 15), (2, 15), (1, 1)]);
        assert!(!all[2].unwrap().1);
    }

    #[test]
    fn decodes_escaped_keys_and_finds_duplicates() {
        let text = r#"{"a\u0062": 1, "\ud83d\ude00": 2, "q\"": {"k": 1, "k": 2}}"#;
        let f = find_all(text, &["/ab", "/\u{1f600}", "/q\"/k"]);
        assert!(f.iter().all(|x| x.unwrap().1));
        let d = duplicates(text);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].0, "/q\"/k");
        // The later value is the one serde keeps, and the one located.
        let (sp, _) = find_all(text, &["/q\"/k"])[0].unwrap();
        assert_eq!(&text[sp.value..sp.value + 1], "2");
    }

    #[test]
    fn line_col_clamps_and_counts_chars() {
        assert_eq!(line_col("ab\nµx", 100), (2, 3));
        assert_eq!(line_col("ab\nµx", 4), (2, 1));
        assert_eq!(line_col("", 0), (1, 1));
        assert_eq!(line_cols("a\nb\nc", &[4, 0, 2]), [(3, 1), (1, 1), (2, 1)]);
    }

    #[test]
    fn syntax_errors_at_their_character_with_their_container() {
        let cases: &[(&str, (usize, usize), &str, &str)] = &[
            ("{\"a\": {\"b\": 1,\n}}", (1, 14), "/a", "trailing comma after the last member of object /a"),
            ("{\"a\": [1, 2,]}", (1, 12), "/a", "trailing comma after the last item of array /a"),
            ("{\"a\": 1,}", (1, 8), "", "the top-level object"),
            (
                "{\"a\": {\"b\": 1\n \"c\": 2}}",
                (2, 2),
                "/a",
                "after the member \"b\" of object /a, found `\"`: is a comma missing?",
            ),
            ("{\"a\": [1 2]}", (1, 10), "/a", "after item 0 of array /a"),
            ("{\"a\": \"abc}\n", (1, 7), "", "unterminated string"),
            ("{\"a\": \"abc", (1, 7), "", "the file ends before"),
            ("{\"a\": {\"b\": [1,", (1, 16), "/a/b", "the file ends inside array /a/b"),
            (
                "{\"a\": {\"b\": 1",
                (1, 14),
                "/a",
                "the file ends inside object /a (opened at line 1 column 7)",
            ),
            ("{\"a\": {\"b\": ", (1, 13), "/a", "the file ends where the value of /a/b should be"),
            ("{'a': 1}", (1, 2), "", "double quotes"),
            ("{\"a\": 'x'}", (1, 7), "", "expected a value for /a"),
            ("{\"a\": 1} x", (1, 10), "", "after the end"),
            ("{\"a\": 01}", (1, 7), "", "invalid number `01` for /a"),
            ("{\"a\": NaN}", (1, 7), "", "found `NaN`"),
            ("{\"a\" 1}", (1, 6), "", "expected `:` after the key \"a\""),
            ("{\"a\": 1 // no\n}", (1, 9), "", "JSON has no comments"),
            ("  ", (1, 3), "", "empty"),
            ("{\"a\": \"\\q\"}", (1, 8), "", "invalid escape \\q"),
            ("{\"a\": {\"b\": -1e400}}", (1, 13), "/a", "number `-1e400` for /a/b is out of range"),
        ];
        for (text, (l, c), path, msg) in cases {
            assert!(serde_json::from_str::<serde_json::Value>(text).is_err(), "bad test: {text}");
            let e = syntax_error(text).unwrap_or_else(|| panic!("{text}: no error"));
            assert_eq!((line_col(text, e.offset), e.path.as_str()), ((*l, *c), *path), "{text}: {e:?}");
            assert!(e.message.contains(msg), "{text}: {}", e.message);
        }
        assert_eq!(syntax_error("{\"a\": [1, {\"b\": null}], \"c\": -1.5e3}"), None);
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(syntax_error(&deep).unwrap().message.contains("nested"));
    }
}
