//! The virtual machine: a stack of values and a stack of call frames, both in the arena's
//! root, so that execution can stop after a slice of work, let the collector run (objects
//! move; only the root survives), and resume where it stopped.

use std::io::Write;

use gc_core::{field, Gc, Lock, Mutation, Trace};

use crate::chunk::Op;
use crate::compiler;
use crate::intern::Interner;
use crate::natives;
use crate::object::{
    BoundMethod, Class, Closure, Globals, Instance, LoxString, Native, NativeFn, Upvalue,
    UpvalueState,
};
use crate::table::{Entries, Table};
use crate::value::Value;

/// The reference's `FRAMES_MAX`.
pub(crate) const FRAMES_MAX: usize = 64;

#[derive(Clone, Copy, Trace)]
pub(crate) struct CallFrame<'gc> {
    pub(crate) closure: Gc<'gc, Closure<'gc>>,
    /// The function's code and constants, copied from it so that resuming a frame after a
    /// return is two loads, not a walk from the closure.
    code: Gc<'gc, [u8]>,
    constants: Gc<'gc, [Value<'gc>]>,
    /// The next instruction, as an offset into the function's code.
    pub(crate) ip: usize,
    /// The stack index of slot zero (the callee or receiver).
    pub(crate) base: usize,
}

impl<'gc> CallFrame<'gc> {
    #[inline(always)]
    fn new(closure: Gc<'gc, Closure<'gc>>, base: usize) -> Self {
        let function = closure.function;
        CallFrame { closure, code: function.code, constants: function.constants, ip: 0, base }
    }
}

/// How a slice of execution ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slice {
    /// The script returned.
    Done,
    /// The fuel ran out; call `run` again (after letting the collector run).
    Yield,
    /// A runtime error was reported; the stacks were reset.
    Error,
}

/// The whole VM state. It is the arena's root.
#[derive(Trace)]
pub(crate) struct Vm<'gc> {
    stack: Vec<Value<'gc>>,
    frames: Vec<CallFrame<'gc>>,
    /// The open upvalues, sorted by stack slot.
    open_upvalues: Vec<Gc<'gc, Upvalue<'gc>>>,
    globals: Gc<'gc, Globals<'gc>>,
    strings: Interner<'gc>,
    init_string: Gc<'gc, LoxString<'gc>>,
    /// Shared by every table until it grows, and by every closure without upvalues.
    empty_entries: Entries<'gc>,
    no_upvalues: Gc<'gc, [Gc<'gc, Upvalue<'gc>>]>,
}

/// What a runtime error reports: the message; the trace comes from the frames.
struct RuntimeError(String);

type Result<T> = std::result::Result<T, RuntimeError>;

impl<'gc> Vm<'gc> {
    pub(crate) fn new(mc: &'gc Mutation<'gc>) -> Vm<'gc> {
        let mut strings = Interner::new(mc);
        let empty_entries = mc.alloc_slice_fill_with(0, |_| unreachable!());
        let globals = Gc::new(mc, Globals { table: Table::new(empty_entries) });
        let init_string = strings.intern(mc, "init");
        let mut vm = Vm {
            stack: Vec::with_capacity(FRAMES_MAX * 256),
            frames: Vec::with_capacity(FRAMES_MAX),
            open_upvalues: Vec::new(),
            globals,
            strings,
            init_string,
            empty_entries,
            no_upvalues: mc.alloc_slice_copy(&[]),
        };
        for &(name, function) in natives::NATIVES {
            vm.define_native(mc, name, function);
        }
        vm
    }

    fn define_native(&mut self, mc: &'gc Mutation<'gc>, name: &'static str, function: NativeFn) {
        let key = self.strings.intern(mc, name);
        let native = Gc::new(mc, Native { function });
        Globals::set(mc, self.globals, key, Value::Native(native));
    }

    /// The number of interned strings.
    pub(crate) fn interned_strings(&self) -> usize {
        self.strings.len()
    }

    /// Compiles `source` and sets up its top-level call. Returns false (errors reported) if
    /// it does not compile.
    pub(crate) fn load(
        &mut self,
        mc: &'gc Mutation<'gc>,
        source: &[u8],
        err: &mut dyn Write,
    ) -> bool {
        let Some(function) = compiler::compile(mc, &mut self.strings, source, err) else {
            return false;
        };
        let closure = Gc::new(mc, Closure { function, upvalues: self.no_upvalues });
        self.stack.clear();
        self.frames.clear();
        self.open_upvalues.clear();
        self.stack.push(Value::Closure(closure));
        self.frames.push(CallFrame::new(closure, 0));
        true
    }

    #[inline(always)]
    fn push(&mut self, value: Value<'gc>) {
        self.stack.push(value);
    }

    #[inline(always)]
    fn pop(&mut self) -> Value<'gc> {
        self.stack.pop().expect("the compiler balances the stack")
    }

    #[inline(always)]
    fn peek(&self, distance: usize) -> Value<'gc> {
        self.stack[self.stack.len() - 1 - distance]
    }

    #[inline(always)]
    fn set_peek(&mut self, distance: usize, value: Value<'gc>) {
        let len = self.stack.len();
        self.stack[len - 1 - distance] = value;
    }

    /// Runs until the script ends, a runtime error, or `fuel` calls and loop iterations
    /// (the only ways execution can go on without bound) have run.
    pub(crate) fn run(
        &mut self,
        mc: &'gc Mutation<'gc>,
        fuel: u32,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> Slice {
        match self.execute(mc, fuel, out) {
            Ok(slice) => slice,
            Err(RuntimeError(message)) => {
                self.report(&message, err);
                Slice::Error
            }
        }
    }

    fn report(&mut self, message: &str, err: &mut dyn Write) {
        let mut text = format!("{message}\n");
        for frame in self.frames.iter().rev() {
            let function = &frame.closure.function;
            let line = function.lines[frame.ip.saturating_sub(1)];
            match function.name {
                Some(name) => text.push_str(&format!("[line {line}] in {}()\n", name.as_str())),
                None => text.push_str(&format!("[line {line}] in script\n")),
            }
        }
        let _ = err.write_all(text.as_bytes());
        self.reset();
    }

    /// Abandons the running program: empties the stacks (the globals stay).
    pub(crate) fn reset(&mut self) {
        self.stack.clear();
        self.frames.clear();
        self.open_upvalues.clear();
    }

    fn execute(
        &mut self,
        mc: &'gc Mutation<'gc>,
        mut fuel: u32,
        out: &mut dyn Write,
    ) -> Result<Slice> {
        let mut frame = *self.frames.last().expect("a script is loaded");
        let mut closure: &'gc Closure<'gc> = frame.closure.as_ref();
        let mut code: &'gc [u8] = frame.code.as_ref();
        let mut constants: &'gc [Value<'gc>] = frame.constants.as_ref();
        let mut base = frame.base;
        let mut ip = frame.ip;

        macro_rules! read_byte {
            () => {{
                let b = code[ip];
                ip += 1;
                b
            }};
        }
        macro_rules! read_short {
            () => {{
                let s = ((code[ip] as usize) << 8) | code[ip + 1] as usize;
                ip += 2;
                s
            }};
        }
        macro_rules! read_string {
            () => {
                match constants[read_byte!() as usize] {
                    Value::String(s) => s,
                    _ => unreachable!("the compiler emits string constants for names"),
                }
            };
        }
        // Stores the instruction pointer into the frame: before anything that may push a
        // frame, report an error, or yield.
        macro_rules! save_ip {
            () => {
                self.frames.last_mut().expect("a frame").ip = ip
            };
        }
        macro_rules! throw {
            ($($arg:tt)*) => {{
                save_ip!();
                return Err(RuntimeError(format!($($arg)*)));
            }};
        }
        // Reloads the cached state of the frame on top (after a call or a return).
        macro_rules! load_frame {
            () => {{
                frame = *self.frames.last().expect("a frame");
                closure = frame.closure.as_ref();
                code = frame.code.as_ref();
                constants = frame.constants.as_ref();
                base = frame.base;
                ip = frame.ip;
            }};
        }
        macro_rules! burn_fuel {
            () => {{
                fuel -= 1;
                if fuel == 0 {
                    save_ip!();
                    return Ok(Slice::Yield);
                }
            }};
        }
        macro_rules! binary_number {
            ($op:tt, $wrap:expr) => {{
                match (self.peek(1), self.peek(0)) {
                    (Value::Number(a), Value::Number(b)) => {
                        self.stack.pop();
                        self.set_peek(0, $wrap(a $op b));
                    }
                    _ => throw!("Operands must be numbers."),
                }
            }};
        }

        loop {
            match Op::from_byte(read_byte!()) {
                Op::Constant => {
                    let value = constants[read_byte!() as usize];
                    self.push(value);
                }
                Op::Nil => self.push(Value::Nil),
                Op::True => self.push(Value::Bool(true)),
                Op::False => self.push(Value::Bool(false)),
                Op::Pop => {
                    self.stack.pop();
                }
                Op::GetLocal => {
                    let slot = read_byte!() as usize;
                    self.push(self.stack[base + slot]);
                }
                Op::SetLocal => {
                    let slot = read_byte!() as usize;
                    self.stack[base + slot] = self.peek(0);
                }
                Op::GetGlobal => {
                    let name = read_string!();
                    match self.globals.table.get(name) {
                        Some(value) => self.push(value),
                        None => throw!("Undefined variable '{}'.", name.as_str()),
                    }
                }
                Op::DefineGlobal => {
                    let name = read_string!();
                    Globals::set(mc, self.globals, name, self.peek(0));
                    self.stack.pop();
                }
                Op::SetGlobal => {
                    let name = read_string!();
                    // Assignment never creates a global: the reference sets, then deletes
                    // the new key and reports; replacing only existing keys is the same.
                    if !self.globals.table.replace(mc, name, self.peek(0)) {
                        throw!("Undefined variable '{}'.", name.as_str());
                    }
                }
                Op::GetUpvalue => {
                    let upvalue = closure.upvalues[read_byte!() as usize];
                    let value = match upvalue.state.get() {
                        UpvalueState::Open(slot) => self.stack[slot],
                        UpvalueState::Closed(value) => value,
                    };
                    self.push(value);
                }
                Op::SetUpvalue => {
                    let upvalue = closure.upvalues[read_byte!() as usize];
                    let value = self.peek(0);
                    match upvalue.state.get() {
                        UpvalueState::Open(slot) => self.stack[slot] = value,
                        UpvalueState::Closed(_) => field!(Gc::write(mc, upvalue), Upvalue, state)
                            .set(UpvalueState::Closed(value)),
                    }
                }
                Op::GetProperty => {
                    let Value::Instance(instance) = self.peek(0) else {
                        throw!("Only instances have properties.");
                    };
                    let name = read_string!();
                    match instance.field(name) {
                        Some(value) => self.set_peek(0, value),
                        None => {
                            if let Err(e) = self.bind_method(mc, instance.class, name) {
                                save_ip!();
                                return Err(e);
                            }
                        }
                    }
                }
                Op::SetProperty => {
                    let Value::Instance(instance) = self.peek(1) else {
                        throw!("Only instances have fields.");
                    };
                    let name = read_string!();
                    let value = self.peek(0);
                    Instance::set_field(mc, instance, name, value);
                    self.stack.pop();
                    self.set_peek(0, value);
                }
                Op::GetSuper => {
                    let name = read_string!();
                    let Value::Class(superclass) = self.pop() else {
                        unreachable!("`super` is always a class")
                    };
                    if let Err(e) = self.bind_method(mc, superclass, name) {
                        save_ip!();
                        return Err(e);
                    }
                }
                Op::Equal => {
                    let b = self.pop();
                    let a = self.peek(0);
                    self.set_peek(0, Value::Bool(a.equals(b)));
                }
                Op::Greater => binary_number!(>, Value::Bool),
                Op::Less => binary_number!(<, Value::Bool),
                Op::Add => match (self.peek(1), self.peek(0)) {
                    (Value::Number(a), Value::Number(b)) => {
                        self.stack.pop();
                        self.set_peek(0, Value::Number(a + b));
                    }
                    (Value::String(a), Value::String(b)) => {
                        let s = self.strings.intern_concat(mc, a.as_str(), b.as_str());
                        self.stack.pop();
                        self.set_peek(0, Value::String(s));
                    }
                    _ => throw!("Operands must be two numbers or two strings."),
                },
                Op::Subtract => binary_number!(-, Value::Number),
                Op::Multiply => binary_number!(*, Value::Number),
                Op::Divide => binary_number!(/, Value::Number),
                Op::Not => {
                    let v = self.peek(0);
                    self.set_peek(0, Value::Bool(v.is_falsey()));
                }
                Op::Negate => match self.peek(0) {
                    Value::Number(n) => self.set_peek(0, Value::Number(-n)),
                    _ => throw!("Operand must be a number."),
                },
                Op::Print => {
                    let value = self.pop();
                    let _ = writeln!(out, "{value}");
                }
                Op::Jump => {
                    let offset = read_short!();
                    ip += offset;
                }
                Op::JumpIfFalse => {
                    let offset = read_short!();
                    if self.peek(0).is_falsey() {
                        ip += offset;
                    }
                }
                Op::Loop => {
                    let offset = read_short!();
                    ip -= offset;
                    burn_fuel!();
                }
                Op::Call => {
                    let count = read_byte!() as usize;
                    save_ip!();
                    // Closures first: the common case, without the out-of-line dispatch.
                    match self.peek(count) {
                        Value::Closure(closure) => self.call(closure, count)?,
                        callee => self.call_value(mc, callee, count)?,
                    }
                    load_frame!();
                    burn_fuel!();
                }
                Op::Invoke => {
                    let name = read_string!();
                    let count = read_byte!() as usize;
                    save_ip!();
                    self.invoke(mc, name, count)?;
                    load_frame!();
                    burn_fuel!();
                }
                Op::SuperInvoke => {
                    let name = read_string!();
                    let count = read_byte!() as usize;
                    save_ip!();
                    let Value::Class(superclass) = self.pop() else {
                        unreachable!("`super` is always a class")
                    };
                    self.invoke_from_class(superclass, name, count)?;
                    load_frame!();
                    burn_fuel!();
                }
                Op::Closure => {
                    let Value::Function(function) = constants[read_byte!() as usize] else {
                        unreachable!("the compiler emits a function constant")
                    };
                    let upvalues = if function.upvalue_count == 0 {
                        self.no_upvalues
                    } else {
                        let mut captured = Vec::with_capacity(function.upvalue_count as usize);
                        for _ in 0..function.upvalue_count {
                            let is_local = read_byte!() == 1;
                            let index = read_byte!() as usize;
                            captured.push(if is_local {
                                self.capture_upvalue(mc, base + index)
                            } else {
                                closure.upvalues[index]
                            });
                        }
                        mc.alloc_slice_copy(&captured)
                    };
                    let new = Gc::new(mc, Closure { function, upvalues });
                    self.push(Value::Closure(new));
                }
                Op::CloseUpvalue => {
                    self.close_upvalues(mc, self.stack.len() - 1);
                    self.stack.pop();
                }
                Op::Return => {
                    let result = self.pop();
                    if !self.open_upvalues.is_empty() {
                        self.close_upvalues(mc, base);
                    }
                    self.frames.pop();
                    if self.frames.is_empty() {
                        self.stack.clear();
                        return Ok(Slice::Done);
                    }
                    self.stack.truncate(base);
                    self.push(result);
                    load_frame!();
                }
                Op::Class => {
                    let name = read_string!();
                    let class = Gc::new(
                        mc,
                        Class {
                            name,
                            methods: Table::new(self.empty_entries),
                            init: Lock::new(None),
                        },
                    );
                    self.push(Value::Class(class));
                }
                Op::Inherit => {
                    let Value::Class(superclass) = self.peek(1) else {
                        throw!("Superclass must be a class.");
                    };
                    let Value::Class(subclass) = self.peek(0) else {
                        unreachable!("the class being declared")
                    };
                    for (name, method) in superclass.methods.iter() {
                        Class::set_method(mc, subclass, name, method);
                    }
                    field!(Gc::write(mc, subclass), Class, init).set(superclass.init.get());
                    self.stack.pop();
                }
                Op::Method => {
                    let name = read_string!();
                    let method = self.peek(0);
                    let Value::Class(class) = self.peek(1) else {
                        unreachable!("methods are defined on the class being declared")
                    };
                    Class::set_method(mc, class, name, method);
                    if Gc::ptr_eq(name, self.init_string) {
                        let Value::Closure(init) = method else { unreachable!("a method") };
                        field!(Gc::write(mc, class), Class, init).set(Some(init));
                    }
                    self.stack.pop();
                }
            }
        }
    }

    fn call_value(
        &mut self,
        mc: &'gc Mutation<'gc>,
        callee: Value<'gc>,
        count: usize,
    ) -> Result<()> {
        match callee {
            Value::Closure(closure) => self.call(closure, count),
            Value::BoundMethod(bound) => {
                self.set_peek(count, bound.receiver);
                self.call(bound.method, count)
            }
            Value::Class(class) => {
                let instance = Gc::new(mc, Instance::new(class, self.empty_entries));
                self.set_peek(count, Value::Instance(instance));
                match class.init.get() {
                    Some(init) => self.call(init, count),
                    None if count != 0 => {
                        Err(RuntimeError(format!("Expected 0 arguments but got {count}.")))
                    }
                    None => Ok(()),
                }
            }
            Value::Native(native) => {
                let args = self.stack.len() - count;
                let result = (native.function)(mc, &self.stack[args..]);
                self.stack.truncate(args - 1);
                self.push(result);
                Ok(())
            }
            _ => Err(RuntimeError("Can only call functions and classes.".into())),
        }
    }

    #[inline(always)]
    fn call(&mut self, closure: Gc<'gc, Closure<'gc>>, count: usize) -> Result<()> {
        let arity = closure.function.arity as usize;
        if count != arity {
            return Err(RuntimeError(format!("Expected {arity} arguments but got {count}.")));
        }
        if self.frames.len() == FRAMES_MAX {
            return Err(RuntimeError("Stack overflow.".into()));
        }
        let base = self.stack.len() - count - 1;
        self.frames.push(CallFrame::new(closure, base));
        Ok(())
    }

    #[inline(always)]
    fn invoke(
        &mut self,
        mc: &'gc Mutation<'gc>,
        name: Gc<'gc, LoxString<'gc>>,
        count: usize,
    ) -> Result<()> {
        let Value::Instance(instance) = self.peek(count) else {
            return Err(RuntimeError("Only instances have methods.".into()));
        };
        if let Some(field) = instance.field(name) {
            self.set_peek(count, field);
            return self.call_value(mc, field, count);
        }
        self.invoke_from_class(instance.class, name, count)
    }

    #[inline(always)]
    fn invoke_from_class(
        &mut self,
        class: Gc<'gc, Class<'gc>>,
        name: Gc<'gc, LoxString<'gc>>,
        count: usize,
    ) -> Result<()> {
        match class.methods.get(name) {
            Some(Value::Closure(method)) => self.call(method, count),
            _ => Err(RuntimeError(format!("Undefined property '{}'.", name.as_str()))),
        }
    }

    /// Replaces the instance on top of the stack by its method `name`, bound to it.
    fn bind_method(
        &mut self,
        mc: &'gc Mutation<'gc>,
        class: Gc<'gc, Class<'gc>>,
        name: Gc<'gc, LoxString<'gc>>,
    ) -> Result<()> {
        let Some(Value::Closure(method)) = class.methods.get(name) else {
            return Err(RuntimeError(format!("Undefined property '{}'.", name.as_str())));
        };
        let bound = Gc::new(mc, BoundMethod { receiver: self.peek(0), method });
        self.set_peek(0, Value::BoundMethod(bound));
        Ok(())
    }

    fn capture_upvalue(&mut self, mc: &'gc Mutation<'gc>, slot: usize) -> Gc<'gc, Upvalue<'gc>> {
        let mut at = self.open_upvalues.len();
        while at > 0 {
            let upvalue = self.open_upvalues[at - 1];
            let UpvalueState::Open(open) = upvalue.state.get() else {
                unreachable!("open upvalues are open")
            };
            if open == slot {
                return upvalue;
            }
            if open < slot {
                break;
            }
            at -= 1;
        }
        let created = Gc::new(mc, Upvalue { state: Lock::new(UpvalueState::Open(slot)) });
        self.open_upvalues.insert(at, created);
        created
    }

    /// Closes every open upvalue designating a slot at or above `from`.
    fn close_upvalues(&mut self, mc: &'gc Mutation<'gc>, from: usize) {
        while let Some(&upvalue) = self.open_upvalues.last() {
            let UpvalueState::Open(slot) = upvalue.state.get() else {
                unreachable!("open upvalues are open")
            };
            if slot < from {
                break;
            }
            let value = self.stack[slot];
            field!(Gc::write(mc, upvalue), Upvalue, state).set(UpvalueState::Closed(value));
            self.open_upvalues.pop();
        }
    }
}
