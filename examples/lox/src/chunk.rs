//! Bytecode: the instruction set, and the buffers a function's code is built in before it
//! is frozen into a `Function` object.

use gc_core::{Gc, Mutation};

use crate::object::{Function, LoxString};
use crate::value::Value;

/// The instruction set: the reference's, one byte per opcode, operands following.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Op {
    Constant,
    Nil,
    True,
    False,
    Pop,
    GetLocal,
    SetLocal,
    GetGlobal,
    DefineGlobal,
    SetGlobal,
    GetUpvalue,
    SetUpvalue,
    GetProperty,
    SetProperty,
    GetSuper,
    Equal,
    Greater,
    Less,
    Add,
    Subtract,
    Multiply,
    Divide,
    Not,
    Negate,
    Print,
    Jump,
    JumpIfFalse,
    Loop,
    Call,
    Invoke,
    SuperInvoke,
    Closure,
    CloseUpvalue,
    Return,
    Class,
    Inherit,
    Method,
}

impl Op {
    const ALL: [Op; 37] = [
        Op::Constant,
        Op::Nil,
        Op::True,
        Op::False,
        Op::Pop,
        Op::GetLocal,
        Op::SetLocal,
        Op::GetGlobal,
        Op::DefineGlobal,
        Op::SetGlobal,
        Op::GetUpvalue,
        Op::SetUpvalue,
        Op::GetProperty,
        Op::SetProperty,
        Op::GetSuper,
        Op::Equal,
        Op::Greater,
        Op::Less,
        Op::Add,
        Op::Subtract,
        Op::Multiply,
        Op::Divide,
        Op::Not,
        Op::Negate,
        Op::Print,
        Op::Jump,
        Op::JumpIfFalse,
        Op::Loop,
        Op::Call,
        Op::Invoke,
        Op::SuperInvoke,
        Op::Closure,
        Op::CloseUpvalue,
        Op::Return,
        Op::Class,
        Op::Inherit,
        Op::Method,
    ];

    /// Every byte's opcode, so that decoding is one load with no bounds check. The compiler
    /// only emits the first 37; the others decode as `Return` and are never reached.
    const DECODE: [Op; 256] = {
        let mut table = [Op::Return; 256];
        let mut i = 0;
        while i < Op::ALL.len() {
            table[i] = Op::ALL[i];
            i += 1;
        }
        table
    };

    /// Decodes an opcode byte.
    #[inline(always)]
    pub(crate) fn from_byte(b: u8) -> Op {
        Op::DECODE[b as usize]
    }
}

/// A function's code while it is being compiled: Rust-owned buffers, frozen into heap
/// objects by [`ChunkBuilder::finish`].
pub(crate) struct ChunkBuilder<'gc> {
    pub(crate) code: Vec<u8>,
    pub(crate) lines: Vec<u32>,
    pub(crate) constants: Vec<Value<'gc>>,
}

impl<'gc> ChunkBuilder<'gc> {
    pub(crate) fn new() -> Self {
        ChunkBuilder { code: Vec::new(), lines: Vec::new(), constants: Vec::new() }
    }

    #[inline]
    pub(crate) fn write(&mut self, byte: u8, line: u32) {
        self.code.push(byte);
        self.lines.push(line);
    }

    /// Adds a constant and returns its index (which may exceed a byte: the compiler reports
    /// that). Like the reference, equal constants are not shared.
    pub(crate) fn add_constant(&mut self, value: Value<'gc>) -> usize {
        self.constants.push(value);
        self.constants.len() - 1
    }

    pub(crate) fn finish(
        self,
        mc: &Mutation<'gc>,
        name: Option<Gc<'gc, LoxString<'gc>>>,
        arity: u32,
        upvalue_count: u32,
    ) -> Gc<'gc, Function<'gc>> {
        let function = Function {
            arity,
            upvalue_count,
            name,
            code: mc.alloc_slice_copy(&self.code),
            lines: mc.alloc_slice_copy(&self.lines),
            constants: mc.alloc_slice_copy(&self.constants),
        };
        Gc::new(mc, function)
    }
}
