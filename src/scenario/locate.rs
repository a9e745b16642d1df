//! Finds where a JSON pointer's value sits in the scenario text, so that a problem found
//! on the parsed value (or on the resolved scenario) can be shown as `FILE:LINE:COL`.
//!
//! serde_json's `Value` keeps no positions, so this is a small scanner of its own. It runs
//! only on text that serde_json has already accepted, which keeps it simple: it never
//! needs to report a syntax error, and it gives up quietly (returning nothing) on anything
//! it does not understand. It also notices duplicate keys, which serde_json silently
//! collapses to the last one.

use std::collections::BTreeMap;

/// Where one value sits in the text (byte offsets).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// The opening quote of the key, for object members.
    pub key: Option<usize>,
    /// The first byte of the value.
    pub value: usize,
}

/// Every value of a document by JSON pointer, plus the duplicate keys found.
#[derive(Debug, Default)]
pub struct Index {
    spans: BTreeMap<String, Span>,
    /// `(pointer, byte offset of the key)` of each key that repeats an earlier key of the
    /// same object, in text order.
    pub duplicates: Vec<(String, usize)>,
}

/// Nesting beyond this is not indexed (serde_json refuses beyond 128 anyway).
const MAX_DEPTH: usize = 256;

impl Index {
    pub fn build(text: &str) -> Index {
        let mut idx = Index::default();
        let mut s = Scanner { b: text.as_bytes(), pos: 0 };
        s.ws();
        let _ = s.value(&mut idx, &mut String::new(), None, 0);
        idx
    }

    /// The span of the value at `ptr`, or of its nearest ancestor that exists in the
    /// text; the flag says whether it was the value itself.
    pub fn find(&self, ptr: &str) -> Option<(Span, bool)> {
        let mut p = ptr;
        let mut exact = true;
        loop {
            if let Some(sp) = self.spans.get(p) {
                return Some((*sp, exact));
            }
            exact = false;
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return None,
            }
        }
    }
}

/// 1-based line and column (in characters) of a byte offset, clamped to the text.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut off = offset.min(text.len());
    while !text.is_char_boundary(off) {
        off -= 1;
    }
    let before = &text[..off];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

struct Scanner<'t> {
    b: &'t [u8],
    pos: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Some(())
        } else {
            None
        }
    }

    /// Indexes the value at the current position under `path`.
    fn value(&mut self, idx: &mut Index, path: &mut String, key: Option<usize>, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        let span = Span { key, value: self.pos };
        if key.is_some() && idx.spans.contains_key(path.as_str()) {
            idx.duplicates.push((path.clone(), key.unwrap_or(self.pos)));
        }
        idx.spans.insert(path.clone(), span);
        match self.peek()? {
            b'{' => {
                self.pos += 1;
                self.ws();
                if self.eat(b'}').is_some() {
                    return Some(());
                }
                loop {
                    self.ws();
                    let key_at = self.pos;
                    let k = self.string()?;
                    self.ws();
                    self.eat(b':')?;
                    self.ws();
                    let len = path.len();
                    path.push('/');
                    path.push_str(&super::pointer::escape(&k));
                    let r = self.value(idx, path, Some(key_at), depth + 1);
                    path.truncate(len);
                    r?;
                    self.ws();
                    match self.peek()? {
                        b',' => self.pos += 1,
                        b'}' => {
                            self.pos += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.pos += 1;
                self.ws();
                if self.eat(b']').is_some() {
                    return Some(());
                }
                let mut i = 0usize;
                loop {
                    self.ws();
                    let len = path.len();
                    path.push('/');
                    path.push_str(&i.to_string());
                    let r = self.value(idx, path, None, depth + 1);
                    path.truncate(len);
                    r?;
                    i += 1;
                    self.ws();
                    match self.peek()? {
                        b',' => self.pos += 1,
                        b']' => {
                            self.pos += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b'"' => self.string().map(|_| ()),
            _ => {
                while let Some(c) = self.peek() {
                    if matches!(c, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r') {
                        break;
                    }
                    self.pos += 1;
                }
                Some(())
            }
        }
    }

    /// Reads a JSON string at the current position and returns it decoded.
    fn string(&mut self) -> Option<String> {
        self.eat(b'"')?;
        let mut out: Vec<u8> = Vec::new();
        let mut pending_high: Option<u32> = None;
        loop {
            let c = self.peek()?;
            self.pos += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let e = self.peek()?;
                    self.pos += 1;
                    let simple = match e {
                        b'"' => Some(b'"'),
                        b'\\' => Some(b'\\'),
                        b'/' => Some(b'/'),
                        b'b' => Some(8),
                        b'f' => Some(12),
                        b'n' => Some(b'\n'),
                        b'r' => Some(b'\r'),
                        b't' => Some(b'\t'),
                        b'u' => None,
                        _ => return None,
                    };
                    if let Some(ch) = simple {
                        out.push(ch);
                        continue;
                    }
                    let hex = self.b.get(self.pos..self.pos + 4)?;
                    self.pos += 4;
                    let code = u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
                    let ch = if (0xD800..0xDC00).contains(&code) {
                        pending_high = Some(code);
                        continue;
                    } else if (0xDC00..0xE000).contains(&code) {
                        match pending_high.take() {
                            Some(h) => char::from_u32(0x10000 + ((h - 0xD800) << 10) + (code - 0xDC00)),
                            None => None,
                        }
                    } else {
                        char::from_u32(code)
                    };
                    let ch = ch.unwrap_or('\u{fffd}');
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                _ => out.push(c),
            }
        }
        Some(String::from_utf8_lossy(&out).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(text: &str, ptr: &str) -> (usize, usize, bool) {
        let idx = Index::build(text);
        let (sp, exact) = idx.find(ptr).expect("some ancestor exists");
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
        let idx = Index::build(text);
        let (sp, _) = idx.find("/services/pay~1ment/replicas").unwrap();
        assert_eq!(line_col(text, sp.key.unwrap()), (3, 18));
    }

    #[test]
    fn decodes_escaped_keys_and_finds_duplicates() {
        let text = r#"{"a\u0062": 1, "\ud83d\ude00": 2, "q\"": {"k": 1, "k": 2}}"#;
        let idx = Index::build(text);
        assert!(idx.find("/ab").unwrap().1);
        assert!(idx.find("/\u{1f600}").unwrap().1);
        assert!(idx.find("/q\"/k").unwrap().1);
        assert_eq!(idx.duplicates.len(), 1);
        assert_eq!(idx.duplicates[0].0, "/q\"/k");
    }

    #[test]
    fn line_col_clamps_and_counts_chars() {
        assert_eq!(line_col("ab\nµx", 100), (2, 3));
        assert_eq!(line_col("ab\nµx", 4), (2, 1));
        assert_eq!(line_col("", 0), (1, 1));
    }
}
