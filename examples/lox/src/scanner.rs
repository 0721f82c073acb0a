//! The scanner: turns source bytes into tokens on demand, as the compiler asks for them.
//!
//! It works on bytes, like the reference: only ASCII letters, digits and `_` make identifiers,
//! and every other byte outside a string literal is an "Unexpected character.".

/// The kinds of token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenKind {
    LeftParen,
    RightParen,
    LeftBrace,
    RightBrace,
    Comma,
    Dot,
    Minus,
    Plus,
    Semicolon,
    Slash,
    Star,
    Bang,
    BangEqual,
    Equal,
    EqualEqual,
    Greater,
    GreaterEqual,
    Less,
    LessEqual,
    Identifier,
    String,
    Number,
    And,
    Class,
    Else,
    False,
    For,
    Fun,
    If,
    Nil,
    Or,
    Print,
    Return,
    Super,
    This,
    True,
    Var,
    While,
    /// A scanner error; the lexeme is the message.
    Error,
    Eof,
}

/// A token: its kind, its text (or, for `Error`, the message) and its line.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Token<'src> {
    pub(crate) kind: TokenKind,
    pub(crate) lexeme: &'src [u8],
    pub(crate) line: u32,
}

pub(crate) struct Scanner<'src> {
    source: &'src [u8],
    start: usize,
    current: usize,
    line: u32,
}

impl<'src> Scanner<'src> {
    pub(crate) fn new(source: &'src [u8]) -> Self {
        // The reference reads the source as a C string: a NUL byte ends it.
        let end = source.iter().position(|&b| b == 0).unwrap_or(source.len());
        Scanner { source: &source[..end], start: 0, current: 0, line: 1 }
    }

    pub(crate) fn scan_token(&mut self) -> Token<'src> {
        self.skip_whitespace();
        self.start = self.current;
        let Some(c) = self.advance() else {
            return self.make(TokenKind::Eof);
        };
        use TokenKind as K;
        match c {
            b'(' => self.make(K::LeftParen),
            b')' => self.make(K::RightParen),
            b'{' => self.make(K::LeftBrace),
            b'}' => self.make(K::RightBrace),
            b';' => self.make(K::Semicolon),
            b',' => self.make(K::Comma),
            b'.' => self.make(K::Dot),
            b'-' => self.make(K::Minus),
            b'+' => self.make(K::Plus),
            b'/' => self.make(K::Slash),
            b'*' => self.make(K::Star),
            b'!' => self.make_if_equal(K::BangEqual, K::Bang),
            b'=' => self.make_if_equal(K::EqualEqual, K::Equal),
            b'<' => self.make_if_equal(K::LessEqual, K::Less),
            b'>' => self.make_if_equal(K::GreaterEqual, K::Greater),
            b'"' => self.string(),
            c if c.is_ascii_digit() => self.number(),
            c if is_alpha(c) => self.identifier(),
            _ => self.error("Unexpected character."),
        }
    }

    fn advance(&mut self) -> Option<u8> {
        let c = self.source.get(self.current).copied()?;
        self.current += 1;
        Some(c)
    }

    fn peek(&self) -> u8 {
        self.source.get(self.current).copied().unwrap_or(0)
    }

    fn peek_next(&self) -> u8 {
        self.source.get(self.current + 1).copied().unwrap_or(0)
    }

    fn at_end(&self) -> bool {
        self.current >= self.source.len()
    }

    fn make(&self, kind: TokenKind) -> Token<'src> {
        Token { kind, lexeme: &self.source[self.start..self.current], line: self.line }
    }

    fn make_if_equal(&mut self, yes: TokenKind, no: TokenKind) -> Token<'src> {
        if self.peek() == b'=' && !self.at_end() {
            self.current += 1;
            self.make(yes)
        } else {
            self.make(no)
        }
    }

    fn error(&self, message: &'static str) -> Token<'src> {
        Token { kind: TokenKind::Error, lexeme: message.as_bytes(), line: self.line }
    }

    fn skip_whitespace(&mut self) {
        loop {
            match self.peek() {
                b' ' | b'\r' | b'\t' if !self.at_end() => self.current += 1,
                b'\n' if !self.at_end() => {
                    self.line += 1;
                    self.current += 1;
                }
                b'/' if self.peek_next() == b'/' => {
                    while self.peek() != b'\n' && !self.at_end() {
                        self.current += 1;
                    }
                }
                _ => return,
            }
        }
    }

    fn string(&mut self) -> Token<'src> {
        while self.peek() != b'"' && !self.at_end() {
            if self.peek() == b'\n' {
                self.line += 1;
            }
            self.current += 1;
        }
        if self.at_end() {
            return self.error("Unterminated string.");
        }
        self.current += 1; // the closing quote
        self.make(TokenKind::String)
    }

    fn number(&mut self) -> Token<'src> {
        while self.peek().is_ascii_digit() {
            self.current += 1;
        }
        if self.peek() == b'.' && self.peek_next().is_ascii_digit() {
            self.current += 1;
            while self.peek().is_ascii_digit() {
                self.current += 1;
            }
        }
        self.make(TokenKind::Number)
    }

    fn identifier(&mut self) -> Token<'src> {
        while is_alpha(self.peek()) || self.peek().is_ascii_digit() {
            self.current += 1;
        }
        self.make(keyword(&self.source[self.start..self.current]))
    }
}

fn is_alpha(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn keyword(text: &[u8]) -> TokenKind {
    use TokenKind as K;
    match text {
        b"and" => K::And,
        b"class" => K::Class,
        b"else" => K::Else,
        b"false" => K::False,
        b"for" => K::For,
        b"fun" => K::Fun,
        b"if" => K::If,
        b"nil" => K::Nil,
        b"or" => K::Or,
        b"print" => K::Print,
        b"return" => K::Return,
        b"super" => K::Super,
        b"this" => K::This,
        b"true" => K::True,
        b"var" => K::Var,
        b"while" => K::While,
        _ => K::Identifier,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<TokenKind> {
        let mut s = Scanner::new(src.as_bytes());
        let mut out = vec![];
        loop {
            let t = s.scan_token();
            out.push(t.kind);
            if t.kind == TokenKind::Eof {
                return out;
            }
        }
    }

    #[test]
    fn tokens() {
        use TokenKind as K;
        assert_eq!(
            kinds("var x = 1.5 >= \"s\"; // c\n!= andy and"),
            [
                K::Var,
                K::Identifier,
                K::Equal,
                K::Number,
                K::GreaterEqual,
                K::String,
                K::Semicolon,
                K::BangEqual,
                K::Identifier,
                K::And,
                K::Eof
            ]
        );
        assert_eq!(kinds("1."), [K::Number, K::Dot, K::Eof]);
        assert_eq!(kinds("\"abc"), [K::Error, K::Eof]);
        assert_eq!(kinds("a\0b"), [K::Identifier, K::Eof]);
    }
}
