//! The single-pass compiler: a Pratt parser that emits bytecode as it parses, like the
//! reference, with the same error messages, limits and panic-mode recovery.
//!
//! It runs inside one `mutate` call (no collection can happen meanwhile), allocating the
//! interned strings and the functions it makes in the heap as it goes.

use std::io::Write;

use gc_core::{Gc, Mutation};

use crate::chunk::{ChunkBuilder, Op};
use crate::intern::Interner;
use crate::object::{Function, LoxString};
use crate::scanner::{Scanner, Token, TokenKind};
use crate::value::Value;

/// The reference's `UINT8_COUNT`: locals and upvalues per function.
const MAX_SLOTS: usize = 256;

/// How deeply statements and expressions may nest. The compiler recurses, like the
/// reference's, which has no limit and overflows its C stack somewhere past tens of thousands
/// of levels; this one reports "Too much nesting." instead of crashing. No program written by
/// hand comes near.
const MAX_NESTING: u32 = 1000;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    None,
    Assignment,
    Or,
    And,
    Equality,
    Comparison,
    Term,
    Factor,
    Unary,
    Call,
    Primary,
}

impl Prec {
    fn next(self) -> Prec {
        match self {
            Prec::None => Prec::Assignment,
            Prec::Assignment => Prec::Or,
            Prec::Or => Prec::And,
            Prec::And => Prec::Equality,
            Prec::Equality => Prec::Comparison,
            Prec::Comparison => Prec::Term,
            Prec::Term => Prec::Factor,
            Prec::Factor => Prec::Unary,
            Prec::Unary => Prec::Call,
            Prec::Call | Prec::Primary => Prec::Primary,
        }
    }
}

fn infix_precedence(kind: TokenKind) -> Prec {
    use TokenKind as K;
    match kind {
        K::LeftParen | K::Dot => Prec::Call,
        K::Minus | K::Plus => Prec::Term,
        K::Slash | K::Star => Prec::Factor,
        K::BangEqual | K::EqualEqual => Prec::Equality,
        K::Greater | K::GreaterEqual | K::Less | K::LessEqual => Prec::Comparison,
        K::And => Prec::And,
        K::Or => Prec::Or,
        _ => Prec::None,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FunctionKind {
    Function,
    Initializer,
    Method,
    Script,
}

struct Local<'src> {
    name: &'src [u8],
    /// `None` while the variable is declared but its initializer is being compiled.
    depth: Option<u32>,
    captured: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct UpvalueRef {
    index: u8,
    is_local: bool,
}

/// The state of one function being compiled; the enclosing ones are below it on a stack.
struct FnState<'src, 'gc> {
    chunk: ChunkBuilder<'gc>,
    kind: FunctionKind,
    name: Option<Gc<'gc, LoxString<'gc>>>,
    arity: u32,
    locals: Vec<Local<'src>>,
    upvalues: Vec<UpvalueRef>,
    scope_depth: u32,
}

struct ClassState {
    has_superclass: bool,
}

struct Compiler<'src, 'gc, 'a> {
    mc: &'gc Mutation<'gc>,
    strings: &'a mut Interner<'gc>,
    err: &'a mut dyn Write,
    scanner: Scanner<'src>,
    current: Token<'src>,
    previous: Token<'src>,
    had_error: bool,
    panic_mode: bool,
    fns: Vec<FnState<'src, 'gc>>,
    classes: Vec<ClassState>,
    nesting: u32,
}

/// Compiles a script. Errors go to `err` in the reference's format; `None` if there were any.
pub(crate) fn compile<'gc>(
    mc: &'gc Mutation<'gc>,
    strings: &mut Interner<'gc>,
    source: &[u8],
    err: &mut dyn Write,
) -> Option<Gc<'gc, Function<'gc>>> {
    let eof = Token { kind: TokenKind::Eof, lexeme: &[], line: 1 };
    let mut c = Compiler {
        mc,
        strings,
        err,
        scanner: Scanner::new(source),
        current: eof,
        previous: eof,
        had_error: false,
        panic_mode: false,
        fns: Vec::new(),
        classes: Vec::new(),
        nesting: 0,
    };
    c.begin_function(FunctionKind::Script);
    c.advance();
    while !c.matches(TokenKind::Eof) {
        c.declaration();
    }
    let (function, _) = c.end_function();
    (!c.had_error).then_some(function)
}

impl<'src, 'gc> Compiler<'src, 'gc, '_> {
    // --- Tokens and errors -------------------------------------------------------------

    fn advance(&mut self) {
        self.previous = self.current;
        loop {
            self.current = self.scanner.scan_token();
            if self.current.kind != TokenKind::Error {
                break;
            }
            let token = self.current;
            self.error_at(token, token.lexeme);
        }
    }

    fn consume(&mut self, kind: TokenKind, message: &str) {
        if self.current.kind == kind {
            self.advance();
        } else {
            self.error_at_current(message);
        }
    }

    fn check(&self, kind: TokenKind) -> bool {
        self.current.kind == kind
    }

    fn matches(&mut self, kind: TokenKind) -> bool {
        if !self.check(kind) {
            return false;
        }
        self.advance();
        true
    }

    fn error(&mut self, message: &str) {
        self.error_at(self.previous, message.as_bytes());
    }

    fn error_at_current(&mut self, message: &str) {
        self.error_at(self.current, message.as_bytes());
    }

    fn error_at(&mut self, token: Token<'src>, message: &[u8]) {
        if self.panic_mode {
            return;
        }
        self.panic_mode = true;
        self.had_error = true;
        let mut line = format!("[line {}] Error", token.line).into_bytes();
        match token.kind {
            TokenKind::Eof => line.extend_from_slice(b" at end"),
            TokenKind::Error => {}
            _ => {
                line.extend_from_slice(b" at '");
                line.extend_from_slice(token.lexeme);
                line.push(b'\'');
            }
        }
        line.extend_from_slice(b": ");
        line.extend_from_slice(message);
        line.push(b'\n');
        let _ = self.err.write_all(&line);
    }

    fn synchronize(&mut self) {
        self.panic_mode = false;
        use TokenKind as K;
        while self.current.kind != K::Eof {
            if self.previous.kind == K::Semicolon {
                return;
            }
            match self.current.kind {
                K::Class | K::Fun | K::Var | K::For | K::If | K::While | K::Print | K::Return => {
                    return
                }
                _ => self.advance(),
            }
        }
    }

    // --- Emitting ----------------------------------------------------------------------

    fn f(&mut self) -> &mut FnState<'src, 'gc> {
        self.fns.last_mut().expect("a function is being compiled")
    }

    fn emit(&mut self, byte: u8) {
        let line = self.previous.line;
        self.f().chunk.write(byte, line);
    }

    fn emit_op(&mut self, op: Op) {
        self.emit(op as u8);
    }

    fn emit_op_arg(&mut self, op: Op, arg: u8) {
        self.emit(op as u8);
        self.emit(arg);
    }

    fn code_len(&mut self) -> usize {
        self.f().chunk.code.len()
    }

    fn emit_jump(&mut self, op: Op) -> usize {
        self.emit_op(op);
        self.emit(0xff);
        self.emit(0xff);
        self.code_len() - 2
    }

    fn patch_jump(&mut self, at: usize) {
        let jump = self.code_len() - at - 2;
        if jump > u16::MAX as usize {
            self.error("Too much code to jump over.");
        }
        let code = &mut self.f().chunk.code;
        code[at] = (jump >> 8) as u8;
        code[at + 1] = jump as u8;
    }

    fn emit_loop(&mut self, loop_start: usize) {
        self.emit_op(Op::Loop);
        let offset = self.code_len() - loop_start + 2;
        if offset > u16::MAX as usize {
            self.error("Loop body too large.");
        }
        self.emit((offset >> 8) as u8);
        self.emit(offset as u8);
    }

    fn emit_return(&mut self) {
        if self.f().kind == FunctionKind::Initializer {
            self.emit_op_arg(Op::GetLocal, 0);
        } else {
            self.emit_op(Op::Nil);
        }
        self.emit_op(Op::Return);
    }

    fn make_constant(&mut self, value: Value<'gc>) -> u8 {
        let index = self.f().chunk.add_constant(value);
        if index > u8::MAX as usize {
            self.error("Too many constants in one chunk.");
            return 0;
        }
        index as u8
    }

    fn emit_constant(&mut self, value: Value<'gc>) {
        let index = self.make_constant(value);
        self.emit_op_arg(Op::Constant, index);
    }

    fn intern(&mut self, bytes: &[u8]) -> Gc<'gc, LoxString<'gc>> {
        let text = String::from_utf8_lossy(bytes);
        self.strings.intern(self.mc, &text)
    }

    fn identifier_constant(&mut self, name: &[u8]) -> u8 {
        let s = self.intern(name);
        self.make_constant(Value::String(s))
    }

    // --- Functions and scopes ----------------------------------------------------------

    fn begin_function(&mut self, kind: FunctionKind) {
        let name = match kind {
            FunctionKind::Script => None,
            _ => Some(self.intern(self.previous.lexeme)),
        };
        // Slot zero holds the callee: the receiver in methods (named `this`), unnamed
        // otherwise.
        let slot_zero: &'static [u8] = if kind == FunctionKind::Function { b"" } else { b"this" };
        self.fns.push(FnState {
            chunk: ChunkBuilder::new(),
            kind,
            name,
            arity: 0,
            locals: vec![Local { name: slot_zero, depth: Some(0), captured: false }],
            upvalues: Vec::new(),
            scope_depth: 0,
        });
    }

    fn end_function(&mut self) -> (Gc<'gc, Function<'gc>>, Vec<UpvalueRef>) {
        self.emit_return();
        let state = self.fns.pop().expect("a function is being compiled");
        let upvalue_count = state.upvalues.len() as u32;
        let function = state.chunk.finish(self.mc, state.name, state.arity, upvalue_count);
        (function, state.upvalues)
    }

    fn begin_scope(&mut self) {
        self.f().scope_depth += 1;
    }

    fn end_scope(&mut self) {
        let f = self.f();
        f.scope_depth -= 1;
        let depth = f.scope_depth;
        while let Some(local) = self.f().locals.last() {
            // A local still being initialised (no depth) ends the walk, as in the reference.
            if local.depth.is_none_or(|d| d <= depth) {
                break;
            }
            let op = if local.captured { Op::CloseUpvalue } else { Op::Pop };
            self.emit_op(op);
            self.f().locals.pop();
        }
    }

    fn resolve_local(&mut self, level: usize, name: &[u8]) -> Option<u8> {
        let found = self.fns[level]
            .locals
            .iter()
            .rposition(|local| local.name == name)
            .map(|i| (i, self.fns[level].locals[i].depth.is_none()));
        let (i, uninitialized) = found?;
        if uninitialized {
            self.error("Can't read local variable in its own initializer.");
        }
        Some(i as u8)
    }

    fn resolve_upvalue(&mut self, level: usize, name: &[u8]) -> Option<u8> {
        if level == 0 {
            return None;
        }
        if let Some(local) = self.resolve_local(level - 1, name) {
            self.fns[level - 1].locals[local as usize].captured = true;
            return Some(self.add_upvalue(level, local, true));
        }
        let upvalue = self.resolve_upvalue(level - 1, name)?;
        Some(self.add_upvalue(level, upvalue, false))
    }

    fn add_upvalue(&mut self, level: usize, index: u8, is_local: bool) -> u8 {
        let wanted = UpvalueRef { index, is_local };
        if let Some(i) = self.fns[level].upvalues.iter().position(|&u| u == wanted) {
            return i as u8;
        }
        if self.fns[level].upvalues.len() == MAX_SLOTS {
            self.error("Too many closure variables in function.");
            return 0;
        }
        self.fns[level].upvalues.push(wanted);
        (self.fns[level].upvalues.len() - 1) as u8
    }

    fn add_local(&mut self, name: &'src [u8]) {
        if self.f().locals.len() == MAX_SLOTS {
            self.error("Too many local variables in function.");
            return;
        }
        self.f().locals.push(Local { name, depth: None, captured: false });
    }

    fn declare_variable(&mut self) {
        if self.f().scope_depth == 0 {
            return;
        }
        let name = self.previous.lexeme;
        let f = self.fns.last().expect("a function is being compiled");
        let duplicate = f
            .locals
            .iter()
            .rev()
            .take_while(|local| local.depth.is_none_or(|d| d >= f.scope_depth))
            .any(|local| local.name == name);
        if duplicate {
            self.error("Already a variable with this name in this scope.");
        }
        self.add_local(name);
    }

    fn parse_variable(&mut self, message: &str) -> u8 {
        self.consume(TokenKind::Identifier, message);
        self.declare_variable();
        if self.f().scope_depth > 0 {
            return 0;
        }
        self.identifier_constant(self.previous.lexeme)
    }

    fn mark_initialized(&mut self) {
        let f = self.f();
        if f.scope_depth == 0 {
            return;
        }
        let depth = f.scope_depth;
        if let Some(local) = f.locals.last_mut() {
            local.depth = Some(depth);
        }
    }

    fn define_variable(&mut self, global: u8) {
        if self.f().scope_depth > 0 {
            self.mark_initialized();
            return;
        }
        self.emit_op_arg(Op::DefineGlobal, global);
    }

    // --- Declarations and statements ---------------------------------------------------

    fn declaration(&mut self) {
        if self.matches(TokenKind::Class) {
            self.class_declaration();
        } else if self.matches(TokenKind::Fun) {
            self.fun_declaration();
        } else if self.matches(TokenKind::Var) {
            self.var_declaration();
        } else {
            self.statement();
        }
        if self.panic_mode {
            self.synchronize();
        }
    }

    fn class_declaration(&mut self) {
        self.consume(TokenKind::Identifier, "Expect class name.");
        let class_name = self.previous;
        let name_constant = self.identifier_constant(class_name.lexeme);
        self.declare_variable();
        self.emit_op_arg(Op::Class, name_constant);
        self.define_variable(name_constant);

        self.classes.push(ClassState { has_superclass: false });
        if self.matches(TokenKind::Less) {
            self.consume(TokenKind::Identifier, "Expect superclass name.");
            self.variable(false);
            if class_name.lexeme == self.previous.lexeme {
                self.error("A class can't inherit from itself.");
            }
            self.begin_scope();
            self.add_local(b"super");
            self.define_variable(0);
            self.named_variable(class_name.lexeme, false);
            self.emit_op(Op::Inherit);
            self.classes.last_mut().expect("class").has_superclass = true;
        }
        self.named_variable(class_name.lexeme, false);
        self.consume(TokenKind::LeftBrace, "Expect '{' before class body.");
        while !self.check(TokenKind::RightBrace) && !self.check(TokenKind::Eof) {
            self.method();
        }
        self.consume(TokenKind::RightBrace, "Expect '}' after class body.");
        self.emit_op(Op::Pop);
        if self.classes.pop().expect("class").has_superclass {
            self.end_scope();
        }
    }

    fn method(&mut self) {
        self.consume(TokenKind::Identifier, "Expect method name.");
        let name = self.previous.lexeme;
        let constant = self.identifier_constant(name);
        let kind = if name == b"init" { FunctionKind::Initializer } else { FunctionKind::Method };
        self.function(kind);
        self.emit_op_arg(Op::Method, constant);
    }

    fn fun_declaration(&mut self) {
        let global = self.parse_variable("Expect function name.");
        self.mark_initialized();
        self.function(FunctionKind::Function);
        self.define_variable(global);
    }

    fn function(&mut self, kind: FunctionKind) {
        self.begin_function(kind);
        self.begin_scope();
        self.consume(TokenKind::LeftParen, "Expect '(' after function name.");
        if !self.check(TokenKind::RightParen) {
            loop {
                self.f().arity += 1;
                if self.f().arity > 255 {
                    self.error_at_current("Can't have more than 255 parameters.");
                }
                let constant = self.parse_variable("Expect parameter name.");
                self.define_variable(constant);
                if !self.matches(TokenKind::Comma) {
                    break;
                }
            }
        }
        self.consume(TokenKind::RightParen, "Expect ')' after parameters.");
        self.consume(TokenKind::LeftBrace, "Expect '{' before function body.");
        self.block();
        let (function, upvalues) = self.end_function();
        let constant = self.make_constant(Value::Function(function));
        self.emit_op_arg(Op::Closure, constant);
        for upvalue in upvalues {
            self.emit(upvalue.is_local as u8);
            self.emit(upvalue.index);
        }
    }

    fn var_declaration(&mut self) {
        let global = self.parse_variable("Expect variable name.");
        if self.matches(TokenKind::Equal) {
            self.expression();
        } else {
            self.emit_op(Op::Nil);
        }
        self.consume(TokenKind::Semicolon, "Expect ';' after variable declaration.");
        self.define_variable(global);
    }

    /// Counts one level of nesting; past the limit, reports it and skips a token (so that
    /// every caller's loop still makes progress) and returns false.
    fn nest(&mut self) -> bool {
        if self.nesting >= MAX_NESTING {
            self.error_at_current("Too much nesting.");
            self.advance();
            return false;
        }
        self.nesting += 1;
        true
    }

    fn statement(&mut self) {
        if self.nest() {
            self.statement_inner();
            self.nesting -= 1;
        }
    }

    fn statement_inner(&mut self) {
        if self.matches(TokenKind::Print) {
            self.expression();
            self.consume(TokenKind::Semicolon, "Expect ';' after value.");
            self.emit_op(Op::Print);
        } else if self.matches(TokenKind::For) {
            self.for_statement();
        } else if self.matches(TokenKind::If) {
            self.if_statement();
        } else if self.matches(TokenKind::Return) {
            self.return_statement();
        } else if self.matches(TokenKind::While) {
            self.while_statement();
        } else if self.matches(TokenKind::LeftBrace) {
            self.begin_scope();
            self.block();
            self.end_scope();
        } else {
            self.expression();
            self.consume(TokenKind::Semicolon, "Expect ';' after expression.");
            self.emit_op(Op::Pop);
        }
    }

    fn block(&mut self) {
        while !self.check(TokenKind::RightBrace) && !self.check(TokenKind::Eof) {
            self.declaration();
        }
        self.consume(TokenKind::RightBrace, "Expect '}' after block.");
    }

    fn for_statement(&mut self) {
        self.begin_scope();
        self.consume(TokenKind::LeftParen, "Expect '(' after 'for'.");
        if self.matches(TokenKind::Semicolon) {
            // No initializer.
        } else if self.matches(TokenKind::Var) {
            self.var_declaration();
        } else {
            self.expression();
            self.consume(TokenKind::Semicolon, "Expect ';' after expression.");
            self.emit_op(Op::Pop);
        }

        let mut loop_start = self.code_len();
        let mut exit_jump = None;
        if !self.matches(TokenKind::Semicolon) {
            self.expression();
            self.consume(TokenKind::Semicolon, "Expect ';' after loop condition.");
            exit_jump = Some(self.emit_jump(Op::JumpIfFalse));
            self.emit_op(Op::Pop);
        }

        if !self.matches(TokenKind::RightParen) {
            let body_jump = self.emit_jump(Op::Jump);
            let increment_start = self.code_len();
            self.expression();
            self.emit_op(Op::Pop);
            self.consume(TokenKind::RightParen, "Expect ')' after for clauses.");
            self.emit_loop(loop_start);
            loop_start = increment_start;
            self.patch_jump(body_jump);
        }

        self.statement();
        self.emit_loop(loop_start);
        if let Some(exit_jump) = exit_jump {
            self.patch_jump(exit_jump);
            self.emit_op(Op::Pop);
        }
        self.end_scope();
    }

    fn if_statement(&mut self) {
        self.consume(TokenKind::LeftParen, "Expect '(' after 'if'.");
        self.expression();
        self.consume(TokenKind::RightParen, "Expect ')' after condition.");
        let then_jump = self.emit_jump(Op::JumpIfFalse);
        self.emit_op(Op::Pop);
        self.statement();
        let else_jump = self.emit_jump(Op::Jump);
        self.patch_jump(then_jump);
        self.emit_op(Op::Pop);
        if self.matches(TokenKind::Else) {
            self.statement();
        }
        self.patch_jump(else_jump);
    }

    fn return_statement(&mut self) {
        if self.f().kind == FunctionKind::Script {
            self.error("Can't return from top-level code.");
        }
        if self.matches(TokenKind::Semicolon) {
            self.emit_return();
        } else {
            if self.f().kind == FunctionKind::Initializer {
                self.error("Can't return a value from an initializer.");
            }
            self.expression();
            self.consume(TokenKind::Semicolon, "Expect ';' after return value.");
            self.emit_op(Op::Return);
        }
    }

    fn while_statement(&mut self) {
        let loop_start = self.code_len();
        self.consume(TokenKind::LeftParen, "Expect '(' after 'while'.");
        self.expression();
        self.consume(TokenKind::RightParen, "Expect ')' after condition.");
        let exit_jump = self.emit_jump(Op::JumpIfFalse);
        self.emit_op(Op::Pop);
        self.statement();
        self.emit_loop(loop_start);
        self.patch_jump(exit_jump);
        self.emit_op(Op::Pop);
    }

    // --- Expressions -------------------------------------------------------------------

    fn expression(&mut self) {
        self.parse_precedence(Prec::Assignment);
    }

    fn parse_precedence(&mut self, precedence: Prec) {
        if self.nest() {
            self.parse_precedence_inner(precedence);
            self.nesting -= 1;
        }
    }

    fn parse_precedence_inner(&mut self, precedence: Prec) {
        self.advance();
        let can_assign = precedence <= Prec::Assignment;
        if !self.prefix(self.previous.kind, can_assign) {
            self.error("Expect expression.");
            return;
        }
        while precedence <= infix_precedence(self.current.kind) {
            self.advance();
            self.infix(self.previous.kind, can_assign);
        }
        if can_assign && self.matches(TokenKind::Equal) {
            self.error("Invalid assignment target.");
        }
    }

    /// Compiles the prefix expression that starts with `kind`; false if there is none.
    fn prefix(&mut self, kind: TokenKind, can_assign: bool) -> bool {
        use TokenKind as K;
        match kind {
            K::LeftParen => {
                self.expression();
                self.consume(K::RightParen, "Expect ')' after expression.");
            }
            K::Minus | K::Bang => {
                self.parse_precedence(Prec::Unary);
                self.emit_op(if kind == K::Minus { Op::Negate } else { Op::Not });
            }
            K::Number => {
                let text = std::str::from_utf8(self.previous.lexeme).unwrap_or("0");
                let n: f64 = text.parse().unwrap_or(0.0);
                self.emit_constant(Value::Number(n));
            }
            K::String => {
                let lexeme = self.previous.lexeme;
                let s = self.intern(&lexeme[1..lexeme.len() - 1]);
                self.emit_constant(Value::String(s));
            }
            K::False => self.emit_op(Op::False),
            K::True => self.emit_op(Op::True),
            K::Nil => self.emit_op(Op::Nil),
            K::Identifier => self.variable(can_assign),
            K::This => {
                if self.classes.is_empty() {
                    self.error("Can't use 'this' outside of a class.");
                } else {
                    self.variable(false);
                }
            }
            K::Super => self.super_(),
            _ => return false,
        }
        true
    }

    fn infix(&mut self, kind: TokenKind, can_assign: bool) {
        use TokenKind as K;
        match kind {
            K::LeftParen => {
                let count = self.argument_list();
                self.emit_op_arg(Op::Call, count);
            }
            K::Dot => self.dot(can_assign),
            K::And => {
                let end_jump = self.emit_jump(Op::JumpIfFalse);
                self.emit_op(Op::Pop);
                self.parse_precedence(Prec::And);
                self.patch_jump(end_jump);
            }
            K::Or => {
                let else_jump = self.emit_jump(Op::JumpIfFalse);
                let end_jump = self.emit_jump(Op::Jump);
                self.patch_jump(else_jump);
                self.emit_op(Op::Pop);
                self.parse_precedence(Prec::Or);
                self.patch_jump(end_jump);
            }
            _ => {
                self.parse_precedence(infix_precedence(kind).next());
                match kind {
                    K::BangEqual => {
                        self.emit_op(Op::Equal);
                        self.emit_op(Op::Not)
                    }
                    K::EqualEqual => self.emit_op(Op::Equal),
                    K::Greater => self.emit_op(Op::Greater),
                    K::GreaterEqual => {
                        self.emit_op(Op::Less);
                        self.emit_op(Op::Not)
                    }
                    K::Less => self.emit_op(Op::Less),
                    K::LessEqual => {
                        self.emit_op(Op::Greater);
                        self.emit_op(Op::Not)
                    }
                    K::Plus => self.emit_op(Op::Add),
                    K::Minus => self.emit_op(Op::Subtract),
                    K::Star => self.emit_op(Op::Multiply),
                    K::Slash => self.emit_op(Op::Divide),
                    _ => unreachable!("no infix rule for {kind:?}"),
                }
            }
        }
    }

    fn argument_list(&mut self) -> u8 {
        let mut count: u8 = 0;
        if !self.check(TokenKind::RightParen) {
            loop {
                self.expression();
                if count == 255 {
                    self.error("Can't have more than 255 arguments.");
                }
                count = count.wrapping_add(1);
                if !self.matches(TokenKind::Comma) {
                    break;
                }
            }
        }
        self.consume(TokenKind::RightParen, "Expect ')' after arguments.");
        count
    }

    fn dot(&mut self, can_assign: bool) {
        self.consume(TokenKind::Identifier, "Expect property name after '.'.");
        let name = self.identifier_constant(self.previous.lexeme);
        if can_assign && self.matches(TokenKind::Equal) {
            self.expression();
            self.emit_op_arg(Op::SetProperty, name);
        } else if self.matches(TokenKind::LeftParen) {
            let count = self.argument_list();
            self.emit_op_arg(Op::Invoke, name);
            self.emit(count);
        } else {
            self.emit_op_arg(Op::GetProperty, name);
        }
    }

    fn variable(&mut self, can_assign: bool) {
        self.named_variable(self.previous.lexeme, can_assign);
    }

    fn named_variable(&mut self, name: &[u8], can_assign: bool) {
        let level = self.fns.len() - 1;
        let (get, set, arg) = if let Some(slot) = self.resolve_local(level, name) {
            (Op::GetLocal, Op::SetLocal, slot)
        } else if let Some(index) = self.resolve_upvalue(level, name) {
            (Op::GetUpvalue, Op::SetUpvalue, index)
        } else {
            let constant = self.identifier_constant(name);
            (Op::GetGlobal, Op::SetGlobal, constant)
        };
        if can_assign && self.matches(TokenKind::Equal) {
            self.expression();
            self.emit_op_arg(set, arg);
        } else {
            self.emit_op_arg(get, arg);
        }
    }

    fn super_(&mut self) {
        match self.classes.last() {
            None => self.error("Can't use 'super' outside of a class."),
            Some(class) if !class.has_superclass => {
                self.error("Can't use 'super' in a class with no superclass.")
            }
            Some(_) => {}
        }
        self.consume(TokenKind::Dot, "Expect '.' after 'super'.");
        self.consume(TokenKind::Identifier, "Expect superclass method name.");
        let name = self.identifier_constant(self.previous.lexeme);
        self.named_variable(b"this", false);
        if self.matches(TokenKind::LeftParen) {
            let count = self.argument_list();
            self.named_variable(b"super", false);
            self.emit_op_arg(Op::SuperInvoke, name);
            self.emit(count);
        } else {
            self.named_variable(b"super", false);
            self.emit_op_arg(Op::GetSuper, name);
        }
    }
}
