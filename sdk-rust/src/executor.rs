//! A single-threaded executor for reconciles, driven by the host's entries into the guest.
//!
//! A reconcile is a task: a boxed future polled on `wop_reconcile` until it first waits. An API
//! call registers its token with a waker and returns Pending; the task then sleeps in the
//! executor's map and the entry returns to the host, so a waiting reconcile holds no thread and
//! no wasm frame (which is what lets the host snapshot the module between entries). When the
//! host answers through `wop_on_complete`, [`complete`] stores the answer, wakes the task and
//! runs every woken task until each waits again or finishes.
//!
//! State is per module instance (a wasm guest has one thread): a thread_local, which on wasm32
//! without threads is plain memory and so survives snapshots.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

type TaskId = usize;
type BoxedTask = Pin<Box<dyn Future<Output = ()>>>;

/// The answer to one API call, as `wop_on_complete` delivered it.
pub(crate) struct Completion {
    pub http_status: i32, // or a negative wop_status when there is no HTTP answer
    pub body: String,
}

/// Where a waiting call's answer lands.
#[derive(Default)]
pub(crate) struct Slot {
    pub completion: Option<Completion>,
    pub waker: Option<Waker>,
}

#[derive(Default)]
struct Executor {
    tasks: RefCell<BTreeMap<TaskId, BoxedTask>>,
    ready: RefCell<VecDeque<TaskId>>,
    next_id: Cell<TaskId>,
    waiting: RefCell<BTreeMap<i32, Rc<RefCell<Slot>>>>, // by token
}

thread_local! {
    static EXECUTOR: Executor = Executor::default();
}

/// Starts a task and runs it until it first waits (or ends).
pub(crate) fn spawn(future: impl Future<Output = ()> + 'static) {
    EXECUTOR.with(|e| {
        let id = e.next_id.get();
        e.next_id.set(id.wrapping_add(1));
        e.tasks.borrow_mut().insert(id, Box::pin(future));
        e.ready.borrow_mut().push_back(id);
    });
    run_ready();
}

/// Registers a call in flight under `token`; its answer will go to the returned slot.
pub(crate) fn wait_for(token: i32) -> Rc<RefCell<Slot>> {
    let slot = Rc::new(RefCell::new(Slot::default()));
    EXECUTOR.with(|e| e.waiting.borrow_mut().insert(token, slot.clone()));
    slot
}

/// Forgets a call whose future was dropped before its answer came. Also runs while the
/// executor itself is dropped with tasks still waiting (a native test's thread ending), when
/// there is nothing left to forget.
pub(crate) fn abandon(token: i32) {
    let _ = EXECUTOR.try_with(|e| e.waiting.borrow_mut().remove(&token));
}

/// Delivers the answer to `token` and runs what it wakes. False if no call waits on it.
pub(crate) fn complete(token: i32, completion: Completion) -> bool {
    let slot = EXECUTOR.with(|e| e.waiting.borrow_mut().remove(&token));
    let slot = match slot {
        Some(slot) => slot,
        None => return false,
    };
    let waker = {
        let mut slot = slot.borrow_mut();
        slot.completion = Some(completion);
        slot.waker.take()
    };
    if let Some(waker) = waker {
        waker.wake();
    }
    run_ready();
    true
}

/// Tasks alive (running or waiting), and calls in flight: for the fake host's tests.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn counts() -> (usize, usize) {
    EXECUTOR.with(|e| (e.tasks.borrow().len(), e.waiting.borrow().len()))
}

/// Polls every woken task. No borrow of the executor is held while a task runs, so a task
/// may spawn, start calls, or be re-entered through wop_alloc.
fn run_ready() {
    loop {
        let id = match EXECUTOR.with(|e| e.ready.borrow_mut().pop_front()) {
            Some(id) => id,
            None => return,
        };
        let task = EXECUTOR.with(|e| e.tasks.borrow_mut().remove(&id));
        let mut task = match task {
            Some(task) => task, // else: woken twice, or already finished
            None => continue,
        };
        let waker = task_waker(id);
        if task.as_mut().poll(&mut Context::from_waker(&waker)).is_pending() {
            EXECUTOR.with(|e| e.tasks.borrow_mut().insert(id, task));
        }
    }
}

// A waker is a task id; waking queues the id. Wakers never leave this thread.
const VTABLE: RawWakerVTable = RawWakerVTable::new(clone_waker, wake, wake, drop_waker);

fn task_waker(id: TaskId) -> Waker {
    // SAFETY: the vtable's functions treat the data as a plain integer and never dereference it.
    unsafe { Waker::from_raw(RawWaker::new(id as *const (), &VTABLE)) }
}

unsafe fn clone_waker(data: *const ()) -> RawWaker {
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake(data: *const ()) {
    EXECUTOR.with(|e| e.ready.borrow_mut().push_back(data as TaskId));
}

unsafe fn drop_waker(_: *const ()) {}

/// A future that completes when `token`'s answer arrives.
pub(crate) struct Waiting {
    token: i32,
    slot: Rc<RefCell<Slot>>,
    done: bool,
}

impl Waiting {
    pub(crate) fn new(token: i32) -> Waiting {
        Waiting { token, slot: wait_for(token), done: false }
    }
}

impl Future for Waiting {
    type Output = Completion;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Completion> {
        let mut slot = self.slot.borrow_mut();
        match slot.completion.take() {
            Some(completion) => {
                drop(slot);
                self.done = true;
                Poll::Ready(completion)
            }
            None => {
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if !self.done {
            abandon(self.token);
        }
    }
}
