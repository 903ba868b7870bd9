//! The simulator's own share of a process: marks the code that runs inside a simulated account
//! (each API operation's passage through the account, seeding, hooks) so a benchmark can count
//! the memory and CPU the simulator uses apart from those of the operator calling it.
//!
//! Nothing is recorded unless a benchmark installs a [`ScopeObserver`]; then the values an
//! operation returns are copied out of the simulator's share on the way back, the way a real
//! client allocates the answers it decodes.

use std::cell::Cell;
use std::sync::OnceLock;

/// Runs the simulator's code on behalf of a benchmark (which counts what it spends), and is
/// told of every API operation the simulator answers.
pub trait ScopeObserver: Send + Sync {
    /// Runs `inside`, simulator code, on the current thread.
    fn run_inside(&self, inside: &mut dyn FnMut());
    /// An API operation (`ecs:RegisterTaskDefinition`) reached the account.
    fn operation(&self, _operation: &str) {}
}

thread_local! {
    static INSIDE: Cell<bool> = const { Cell::new(false) };
}

static OBSERVER: OnceLock<&'static dyn ScopeObserver> = OnceLock::new();

/// Installs the process's observer (once; later calls are ignored).
pub fn observe(observer: &'static dyn ScopeObserver) {
    let _ = OBSERVER.set(observer);
}

/// Whether the current thread is running simulator code.
pub fn inside() -> bool {
    INSIDE.with(Cell::get)
}

/// Whether an observer is installed.
pub(crate) fn observed() -> bool {
    OBSERVER.get().is_some()
}

/// Reports an API operation to the observer.
pub(crate) fn operation(key: &str) {
    if let Some(o) = OBSERVER.get() {
        o.operation(key);
    }
}

/// Runs `f` as simulator code.
pub(crate) fn enter<T>(f: impl FnOnce() -> T) -> T {
    let Some(observer) = OBSERVER.get() else {
        return f();
    };
    if inside() {
        return f();
    }
    INSIDE.with(|i| i.set(true));
    let mut f = Some(f);
    let mut out = None;
    observer.run_inside(&mut || out = f.take().map(|f| f()));
    INSIDE.with(|i| i.set(false));
    out.expect("the observer ran the simulator's code")
}

/// `value` as the caller's own: a copy made outside the simulator's share when an observer
/// counts the shares, the value itself otherwise.
pub(crate) fn hand_over<T: Clone>(value: T) -> T {
    if observed() && !inside() {
        let copy = value.clone();
        enter(|| drop(value));
        copy
    } else {
        value
    }
}
