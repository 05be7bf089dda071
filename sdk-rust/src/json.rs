//! A small JSON value, reader and writer: objects cross the ABI as JSON text, and an operator
//! reads a few fields and writes small requests. Written here instead of depending on
//! serde_json so the crate needs no registry (docs/sdk-rust.md says why).
//!
//! - Objects keep their keys in order (a `Vec` of pairs: Kubernetes objects are small and
//!   looked up by a handful of keys); a repeated key is kept, `get` finds the first.
//! - Numbers are `Int(i64)` when written without fraction or exponent and in range, otherwise
//!   `Float(f64)`; a non-finite float is written as `null`.
//! - `parse` refuses anything but one complete JSON text, nesting deeper than
//!   [`MAX_DEPTH`], and invalid UTF-8 (the input is `&str`).
//!
//! Build values with [`obj!`](crate::obj) and `Value::from`.

use std::fmt::{self, Write};

/// Deepest nesting `parse` accepts; Kubernetes objects stay far below it.
pub const MAX_DEPTH: usize = 128;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

/// Why a text is not JSON, and at which byte.
#[derive(Clone, Debug, PartialEq)]
pub struct ParseError {
    pub offset: usize,
    pub reason: &'static str,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid JSON at byte {}: {}", self.offset, self.reason)
    }
}

impl Value {
    pub fn parse(text: &str) -> Result<Value, ParseError> {
        let mut parser = Parser { bytes: text.as_bytes(), pos: 0 };
        let value = parser.value(0)?;
        parser.skip_space();
        if parser.pos != parser.bytes.len() {
            return Err(parser.error("text after the value"));
        }
        Ok(value)
    }

    /// An empty object.
    pub fn object() -> Value {
        Value::Object(Vec::new())
    }

    /// The member `key` of an object; None for a missing key or a value that is not an object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        match self {
            Value::Object(members) => members.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value at a path of object keys: `obj.at(&["spec", "nonce"])`.
    pub fn at(&self, path: &[&str]) -> Option<&Value> {
        path.iter().try_fold(self, |value, key| value.get(key))
    }

    /// Sets `key` of an object (replacing an existing member); a non-object becomes one.
    pub fn set(&mut self, key: &str, value: impl Into<Value>) {
        if !matches!(self, Value::Object(_)) {
            *self = Value::object();
        }
        if let Value::Object(members) = self {
            match members.iter_mut().find(|(k, _)| k == key) {
                Some((_, v)) => *v = value.into(),
                None => members.push((key.to_string(), value.into())),
            }
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// An integer, or a float that holds an integer exactly.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Int(i) => Some(i),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(f as i64),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Int(i) => Some(i as f64),
            Value::Float(f) => Some(f),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

/// Builds a `Value::Object`: `obj! {"kind": "Pod", "metadata": obj! {"name": name}}`. Each
/// value is anything with `Into<Value>`.
#[macro_export]
macro_rules! obj {
    ($($key:literal : $value:expr),* $(,)?) => {
        $crate::json::Value::Object(vec![$(($key.to_string(), $crate::json::Value::from($value))),*])
    };
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Value { Value::Int(v as i64) }
        }
    )*};
}
from_int!(i8, i16, i32, i64, u8, u16, u32);

impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Float(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::String(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::String(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Value {
        Value::String(v.clone())
    }
}
impl From<&Value> for Value {
    fn from(v: &Value) -> Value {
        v.clone()
    }
}
impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(v: Vec<T>) -> Value {
        Value::Array(v.into_iter().map(Into::into).collect())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

// ------------------------------------------------------------------------------- writer

impl fmt::Display for Value {
    /// Compact JSON text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) if x.is_finite() => write!(f, "{x:?}"),
            Value::Float(_) => f.write_str("null"),
            Value::String(s) => write_string(f, s),
            Value::Array(items) => {
                f.write_char('[')?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    item.fmt(f)?;
                }
                f.write_char(']')
            }
            Value::Object(members) => {
                f.write_char('{')?;
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    write_string(f, key)?;
                    f.write_char(':')?;
                    value.fmt(f)?;
                }
                f.write_char('}')
            }
        }
    }
}

fn write_string(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

// ------------------------------------------------------------------------------- reader

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn error(&self, reason: &'static str) -> ParseError {
        ParseError { offset: self.pos, reason }
    }

    fn skip_space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn expect_word(&mut self, word: &str, value: Value) -> Result<Value, ParseError> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error("unknown word"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        self.skip_space();
        match self.bytes.get(self.pos) {
            None => Err(self.error("unexpected end")),
            Some(b'n') => self.expect_word("null", Value::Null),
            Some(b't') => self.expect_word("true", Value::Bool(true)),
            Some(b'f') => self.expect_word("false", Value::Bool(false)),
            Some(b'"') => self.string().map(Value::String),
            Some(b'[') => self.array(depth),
            Some(b'{') => self.object(depth),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("unexpected character")),
        }
    }

    /// Consumes `close` or a comma; true when the container ended.
    fn end_or_comma(&mut self, close: u8) -> Result<bool, ParseError> {
        self.skip_space();
        match self.bytes.get(self.pos) {
            Some(&b) if b == close => {
                self.pos += 1;
                Ok(true)
            }
            Some(b',') => {
                self.pos += 1;
                Ok(false)
            }
            _ => Err(self.error("expected ',' or the end of the container")),
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, ParseError> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_space();
        if self.bytes.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            if self.end_or_comma(b']')? {
                return Ok(Value::Array(items));
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, ParseError> {
        self.pos += 1;
        let mut members = Vec::new();
        self.skip_space();
        if self.bytes.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(Value::Object(members));
        }
        loop {
            self.skip_space();
            if self.bytes.get(self.pos) != Some(&b'"') {
                return Err(self.error("expected a key"));
            }
            let key = self.string()?;
            self.skip_space();
            if self.bytes.get(self.pos) != Some(&b':') {
                return Err(self.error("expected ':'"));
            }
            self.pos += 1;
            members.push((key, self.value(depth + 1)?));
            if self.end_or_comma(b'}')? {
                return Ok(Value::Object(members));
            }
        }
    }

    fn number(&mut self) -> Result<Value, ParseError> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let from = p.pos;
            while let Some(b'0'..=b'9') = p.bytes.get(p.pos) {
                p.pos += 1;
            }
            p.pos > from
        };
        if self.bytes[self.pos] == b'-' {
            self.pos += 1;
        }
        if self.bytes.get(self.pos) == Some(&b'0') {
            self.pos += 1;
            if let Some(b'0'..=b'9') = self.bytes.get(self.pos) {
                return Err(self.error("leading zero"));
            }
        } else if !digits(self) {
            return Err(self.error("malformed number"));
        }
        let mut integral = true;
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            integral = false;
            if !digits(self) {
                return Err(self.error("malformed fraction"));
            }
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.pos) {
            self.pos += 1;
            integral = false;
            if let Some(b'+' | b'-') = self.bytes.get(self.pos) {
                self.pos += 1;
            }
            if !digits(self) {
                return Err(self.error("malformed exponent"));
            }
        }
        // The slice is ASCII digits and signs, so always valid UTF-8.
        let text = std::str::from_utf8(&self.bytes[start..self.pos]).unwrap_or("");
        if integral {
            if let Ok(i) = text.parse::<i64>() {
                return Ok(Value::Int(i));
            }
        }
        text.parse::<f64>().map(Value::Float).map_err(|_| self.error("malformed number"))
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let hex = self.bytes.get(self.pos..self.pos + 4).ok_or_else(|| self.error("short \\u escape"))?;
        let text = std::str::from_utf8(hex).map_err(|_| self.error("bad \\u escape"))?;
        let code = u32::from_str_radix(text, 16).map_err(|_| self.error("bad \\u escape"))?;
        self.pos += 4;
        Ok(code)
    }

    fn string(&mut self) -> Result<String, ParseError> {
        self.pos += 1; // the opening quote
        let mut out = String::new();
        loop {
            // Copy the run up to the next quote, backslash or control character at once. The
            // input is a &str and the run ends before an ASCII byte, so it is valid UTF-8.
            let run = self.pos;
            while let Some(&b) = self.bytes.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(std::str::from_utf8(&self.bytes[run..self.pos]).unwrap_or(""));
            match self.bytes.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let escape = *self.bytes.get(self.pos).ok_or_else(|| self.error("unexpected end"))?;
                    self.pos += 1;
                    match escape {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => out.push(self.unicode_escape()?),
                        _ => return Err(self.error("unknown escape")),
                    }
                }
                Some(_) => return Err(self.error("control character in a string")),
                None => return Err(self.error("unterminated string")),
            }
        }
    }

    /// After `\u`: one code point, joining a surrogate pair; a lone surrogate becomes U+FFFD.
    fn unicode_escape(&mut self) -> Result<char, ParseError> {
        let first = self.hex4()?;
        if (0xD800..0xDC00).contains(&first) && self.bytes[self.pos..].starts_with(b"\\u") {
            let save = self.pos;
            self.pos += 2;
            let second = self.hex4()?;
            if (0xDC00..0xE000).contains(&second) {
                let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                return Ok(char::from_u32(code).unwrap_or('\u{FFFD}'));
            }
            self.pos = save;
        }
        Ok(char::from_u32(first).unwrap_or('\u{FFFD}'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_it_writes() {
        let text = r#"{"a":[1,-2,3.5,true,false,null],"b":{"c":"x\"y\\z\n\u0001é"},"d":-0.25}"#;
        let value = Value::parse(text).unwrap();
        assert_eq!(value.to_string(), text.replace("\\u0001", "\\u0001"));
        assert_eq!(Value::parse(&value.to_string()).unwrap(), value);
    }

    #[test]
    fn finds_fields_by_path() {
        let value = Value::parse(r#"{"spec": {"nonce": 42}, "metadata": {"name": "n"}}"#).unwrap();
        assert_eq!(value.at(&["spec", "nonce"]).and_then(Value::as_i64), Some(42));
        assert_eq!(value.at(&["metadata", "name"]).and_then(Value::as_str), Some("n"));
        assert_eq!(value.at(&["spec", "missing"]), None);
        assert_eq!(value.at(&["metadata", "name", "deeper"]), None);
    }

    #[test]
    fn keeps_large_and_fractional_numbers_apart() {
        assert_eq!(Value::parse("9223372036854775807").unwrap(), Value::Int(i64::MAX));
        assert_eq!(Value::parse("9223372036854775808").unwrap(), Value::Float(9223372036854775808.0));
        assert_eq!(Value::parse("1e3").unwrap().as_i64(), Some(1000));
        assert_eq!(Value::Float(0.5).to_string(), "0.5");
        assert_eq!(Value::Float(f64::NAN).to_string(), "null");
    }

    #[test]
    fn joins_surrogate_pairs_and_replaces_lone_ones() {
        assert_eq!(Value::parse(r#""\ud83d\ude00""#).unwrap(), Value::from("😀"));
        assert_eq!(Value::parse(r#""\ud83d""#).unwrap(), Value::from("\u{FFFD}"));
    }

    #[test]
    fn refuses_what_is_not_json() {
        for text in ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "\"\u{1}\"", "nul", "1 2", "\"\\x\""] {
            assert!(Value::parse(text).is_err(), "accepted {text:?}");
        }
        let deep = "[".repeat(MAX_DEPTH + 2) + &"]".repeat(MAX_DEPTH + 2);
        assert_eq!(Value::parse(&deep).unwrap_err().reason, "nested too deeply");
    }

    /// A fuzzer's job without a fuzzer (cargo-fuzz needs nightly): many seeded mutations of a
    /// Kubernetes-like object; none may panic, and whatever parses must write text that reads
    /// back as the same value.
    #[test]
    fn survives_mutated_input_and_round_trips_what_it_accepts() {
        let seed = concat!(
            r#"{"apiVersion":"v1","metadata":{"name":"a","labels":{"x":"y"}},"#,
            r#""spec":{"nonce":-12,"f":1.5e3,"l":[true,false,null,"\u00e9\n"]}}"#
        );
        let alphabet: Vec<char> = "{}[]\":,.+-0123456789eEtrufalsn \\/u\u{e9}\u{1F600}\n".chars().collect();
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move |bound: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % bound as u64) as usize
        };
        let mut accepted = 0;
        for _ in 0..20_000 {
            let mut text: Vec<char> = seed.chars().collect();
            for _ in 0..1 + next(4) {
                let at = next(text.len() + 1);
                match next(3) {
                    0 if at < text.len() => {
                        text.remove(at);
                    }
                    1 if at < text.len() => text[at] = alphabet[next(alphabet.len())],
                    _ => text.insert(at, alphabet[next(alphabet.len())]),
                }
            }
            let text: String = text.into_iter().collect();
            if let Ok(value) = Value::parse(&text) {
                accepted += 1;
                assert_eq!(Value::parse(&value.to_string()).as_ref(), Ok(&value), "{text}");
            }
        }
        assert!(accepted > 100, "only {accepted} mutations parsed: the test explores too little");
    }

    #[test]
    fn builds_objects_with_the_macro() {
        let mut value = crate::obj! {"kind": "Pod", "n": 3, "tags": vec!["a"], "none": Option::<i64>::None};
        value.set("n", 4);
        value.set("extra", crate::obj! {});
        assert_eq!(value.to_string(), r#"{"kind":"Pod","n":4,"tags":["a"],"none":null,"extra":{}}"#);
    }
}
