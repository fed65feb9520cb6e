//! A parser for the Python constructor calls of the reference file: literals, identifiers,
//! lists, tuples and dicts as keyword arguments.
use std::collections::BTreeMap;

/// A Python value.
#[derive(Debug, Clone, PartialEq)]
pub enum Py {
    None,
    Bool(bool),
    Num(f64),
    Str(String),
    Ident(String),
    List(Vec<Py>),
    Dict(BTreeMap<String, Py>),
}

impl Py {
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Py::Num(v) => Some(*v),
            Py::Bool(b) => Some(*b as u8 as f64),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Py::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Py::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_list_f64(&self) -> Option<Vec<f64>> {
        match self {
            Py::List(v) => v.iter().map(Py::as_f64).collect(),
            Py::Num(v) => Some(vec![*v]),
            _ => None,
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }
    fn eat(&mut self, c: u8) -> Result<(), String> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!("expected '{}' at {}", c as char, self.i))
        }
    }
    fn word(&mut self) -> String {
        self.ws();
        let start = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_alphanumeric() || b"_.".contains(&self.s[self.i]))
        {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }
    fn value(&mut self) -> Result<Py, String> {
        match self.peek().ok_or("unexpected end")? {
            b'[' | b'(' => {
                let close = if self.s[self.i] == b'[' { b']' } else { b')' };
                self.i += 1;
                let mut v = Vec::new();
                while self.peek() != Some(close) {
                    v.push(self.value()?);
                    if self.peek() == Some(b',') {
                        self.i += 1;
                    }
                }
                self.i += 1;
                Ok(Py::List(v))
            }
            b'{' => {
                self.i += 1;
                let mut d = BTreeMap::new();
                while self.peek() != Some(b'}') {
                    let key = match self.value()? {
                        Py::Str(s) | Py::Ident(s) => s,
                        other => format!("{other:?}"),
                    };
                    self.eat(b':')?;
                    d.insert(key, self.value()?);
                    if self.peek() == Some(b',') {
                        self.i += 1;
                    }
                }
                self.i += 1;
                Ok(Py::Dict(d))
            }
            q @ (b'\'' | b'"') => {
                self.i += 1;
                let start = self.i;
                while self.s[self.i] != q {
                    self.i += 1;
                }
                self.i += 1;
                Ok(Py::Str(
                    String::from_utf8_lossy(&self.s[start..self.i - 1]).into_owned(),
                ))
            }
            c if c == b'-' || c == b'+' || c.is_ascii_digit() || c == b'.' => {
                let start = self.i;
                self.i += 1;
                while self.i < self.s.len()
                    && (self.s[self.i].is_ascii_alphanumeric() || b".+-".contains(&self.s[self.i]))
                {
                    // a sign only after an exponent marker
                    if b"+-".contains(&self.s[self.i]) && !b"eE".contains(&self.s[self.i - 1]) {
                        break;
                    }
                    self.i += 1;
                }
                let text = String::from_utf8_lossy(&self.s[start..self.i]);
                text.parse::<f64>()
                    .map(Py::Num)
                    .map_err(|e| format!("number '{text}': {e}"))
            }
            _ => {
                let w = self.word();
                if w.is_empty() {
                    return Err(format!("unexpected character at {}", self.i));
                }
                if self.peek() == Some(b'(') {
                    // a nested call, e.g. torch.tensor([..]): keep its single argument
                    self.i += 1;
                    let inner = if self.peek() == Some(b')') {
                        Py::None
                    } else {
                        self.value()?
                    };
                    while self.peek() != Some(b')') {
                        self.i += 1;
                    }
                    self.i += 1;
                    return Ok(inner);
                }
                Ok(match w.as_str() {
                    "None" => Py::None,
                    "True" => Py::Bool(true),
                    "False" => Py::Bool(false),
                    _ => Py::Ident(w),
                })
            }
        }
    }
}

/// Parses `pkg.mod.Class(k=v, ...)` into the qualified name and the keyword arguments.
pub fn parse_call(call: &str) -> Result<(String, BTreeMap<String, Py>), String> {
    let mut p = Parser {
        s: call.as_bytes(),
        i: 0,
    };
    let name = p.word();
    p.eat(b'(')?;
    let mut kw = BTreeMap::new();
    while p.peek() != Some(b')') {
        let key = p.word();
        p.eat(b'=')
            .map_err(|e| format!("positional arguments are not supported ({e})"))?;
        kw.insert(key, p.value()?);
        if p.peek() == Some(b',') {
            p.i += 1;
        }
    }
    Ok((name, kw))
}
