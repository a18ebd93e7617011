//! The thread pool behind every parallel kernel: `threads − 1` worker threads plus the calling
//! thread, which runs tasks too (OpenMP's model, not rayon's).
//!
//! Why not rayon: a rayon call from a thread outside its pool injects the job, wakes a worker,
//! blocks the caller and wakes it again at the end — three threads for two cores, and two
//! wake-ups per parallel op. On a virtual machine a wake-up of an idle CPU costs tens of
//! microseconds, often milliseconds (measured: a two-task `rayon::join` from the main thread
//! took 28 µs back to back and 113–279 µs median, 3 ms at the 90th percentile, after 1 ms of
//! serial work). Here the caller works instead of sleeping, and a worker keeps polling for
//! [`SPIN`] after its last task before it sleeps, so the parallel ops of a training step
//! (a few to a hundred microseconds apart) find it awake, as OpenMP's do.
//!
//! Workers poll only while the pool has no more threads than the machine has CPUs (with more,
//! a polling thread would take a CPU from one doing the work), and a worker left out by
//! [`set_num_threads`] sleeps. A parallel region inside a task, or a call while another
//! thread holds the pool, runs its tasks on the calling thread: correct, only not parallel.

use std::any::Any;
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, Once, OnceLock, TryLockError};
use std::time::{Duration, Instant};

/// How long an idle worker keeps polling for the next region before it sleeps.
const SPIN: Duration = Duration::from_millis(2);

/// The environment variable that sets the number of threads parallel kernels use, the calling
/// thread included (read once, when the first parallel kernel runs; a positive integer, else
/// it is ignored). [`set_num_threads`] overrides it.
pub const THREADS_ENV: &str = "TENSORGRAD_NUM_THREADS";

/// One parallel region: `tasks` calls of `body`, claimed by the threads in blocks (see
/// [`Region::work`]).
struct Region {
    /// The caller's closure with its lifetime erased. Only dereferenced for an index below
    /// `tasks` claimed from `next`, and the caller does not return before every claimed
    /// index is finished, so the closure outlives every call (see [`run`]).
    body: *const (dyn Fn(usize) + Sync),
    tasks: usize,
    /// Threads that may take part (sizes the blocks tasks are claimed in).
    threads: usize,
    next: AtomicUsize,
    finished: AtomicUsize,
    panic: Mutex<Option<Box<dyn Any + Send>>>,
}

// SAFETY: `body` points to a `Sync` closure, called only while the caller keeps it alive
// (see `Region::body`); the other fields are atomics and a mutex.
unsafe impl Send for Region {}
// SAFETY: as above.
unsafe impl Sync for Region {}

impl Region {
    /// Claims and runs tasks until none is left to claim; a panic is kept for the caller, so
    /// this never unwinds.
    ///
    /// Tasks are claimed in contiguous blocks of a share of what is left (OpenMP's `guided`
    /// schedule): neighbouring tasks, which often read neighbouring memory (the columns of a
    /// `sum(0)`), mostly run on one thread, and the shrinking blocks still balance the load.
    /// One task at a time, interleaved between threads, made `sum(0)` of 2048×1024 about 1.5×
    /// slower.
    fn work(&self) {
        let mut start = self.next.load(Ordering::Relaxed);
        loop {
            if start >= self.tasks {
                return;
            }
            let block = ((self.tasks - start) / (2 * self.threads)).max(1);
            match self.next.compare_exchange_weak(
                start,
                start + block,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    for i in start..start + block {
                        self.run_task(i);
                    }
                    self.finished.fetch_add(block, Ordering::Release);
                    start = self.next.load(Ordering::Relaxed);
                }
                Err(now) => start = now,
            }
        }
    }

    /// Runs task `i` (claimed by the caller of this, not yet finished); a panic is kept.
    fn run_task(&self, i: usize) {
        // SAFETY: `i < tasks` was claimed and is not finished yet, so the caller is still
        // inside `run` and the closure is alive (see `Region::body`).
        let body = unsafe { &*self.body };
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| body(i))) {
            self.panic
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get_or_insert(payload);
        }
    }

    /// Waits until every task is finished (after [`Region::work`] returned on this thread,
    /// so every task is claimed; some may still run on other threads).
    fn wait_finished(&self) {
        let mut polls = 0u32;
        while self.finished.load(Ordering::Acquire) < self.tasks {
            polls += 1;
            if polls < 1 << 14 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }
}

/// What the workers watch: the current region and a counter that moves when it changes.
struct Shared {
    generation: AtomicU64,
    /// Workers that take part in regions and wait on `wake` (changed only under the
    /// `current` lock); a region notifies `wake` only when this is not zero.
    sleeping: AtomicUsize,
    current: Mutex<Option<Arc<Region>>>,
    wake: Condvar,
}

struct Pool {
    /// Threads a region uses, the caller included (at most `1 + workers`).
    limit: AtomicUsize,
    /// CPUs available to this process: workers poll only while `limit` is at most this.
    cpus: usize,
    /// Worker threads started so far (only grows; changed under this lock).
    workers: Mutex<usize>,
    shared: Shared,
    /// Held by the thread whose region the workers serve.
    busy: Mutex<()>,
}

impl Pool {
    /// Starts workers until there are `threads − 1` and makes regions use `threads` threads
    /// (fewer if the system refuses to start a thread).
    fn resize(&'static self, threads: usize) {
        let threads = threads.max(1);
        let mut workers = self.workers.lock().unwrap_or_else(|e| e.into_inner());
        while *workers + 1 < threads {
            let index = *workers + 1;
            let spawned = std::thread::Builder::new()
                .name(format!("tensorgrad-{index}"))
                .spawn(move || worker(self, index));
            if spawned.is_err() {
                break;
            }
            *workers += 1;
        }
        // Under the lock the workers check before they sleep, then wake them all: a worker
        // that now takes part must not sleep uncounted (see `worker`).
        let current = self
            .shared
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        self.limit
            .store(threads.min(*workers + 1), Ordering::Relaxed);
        drop(current);
        self.shared.wake.notify_all();
    }
}

thread_local! {
    /// Set while this thread runs a task (or is a worker): nested regions run serially.
    static IN_REGION: Cell<bool> = const { Cell::new(false) };
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    static SIZED: Once = Once::new();
    let pool = POOL.get_or_init(|| Pool {
        limit: AtomicUsize::new(1),
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        workers: Mutex::new(0),
        shared: Shared {
            generation: AtomicU64::new(0),
            sleeping: AtomicUsize::new(0),
            current: Mutex::new(None),
            wake: Condvar::new(),
        },
        busy: Mutex::new(()),
    });
    // The default size (which spawns workers, so it needs the pool in its static) is applied
    // once, and every caller waits for it: a `set_num_threads` racing the first use cannot
    // be overridden by the default afterwards.
    SIZED.call_once(|| {
        let threads = std::env::var(THREADS_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or(pool.cpus);
        pool.resize(threads);
    });
    pool
}

/// A worker (number `index`, from 1): serve each new region while `index < limit`, poll for
/// [`SPIN`] after it, then sleep until woken. It polls only while it takes part and the pool
/// has no more threads than the machine has CPUs: a polling thread on a CPU that another
/// thread needs would take time from the work.
fn worker(pool: &'static Pool, index: usize) {
    let shared = &pool.shared;
    IN_REGION.with(|f| f.set(true));
    let mut seen = 0u64;
    loop {
        let idle_since = Instant::now();
        let mut polls = 0u32;
        while shared.generation.load(Ordering::Acquire) == seen {
            std::hint::spin_loop();
            polls += 1;
            if polls.is_multiple_of(256) {
                let limit = pool.limit.load(Ordering::Relaxed);
                let polling = index < limit && limit <= pool.cpus;
                if !polling || idle_since.elapsed() > SPIN {
                    let guard = shared.current.lock().unwrap_or_else(|e| e.into_inner());
                    if shared.generation.load(Ordering::Acquire) == seen {
                        // Counted only while taking part: a region wakes sleepers only if one
                        // of its threads sleeps; a change of the limit wakes everyone.
                        let counted = index < pool.limit.load(Ordering::Relaxed);
                        if counted {
                            shared.sleeping.fetch_add(1, Ordering::Relaxed);
                        }
                        let guard = shared.wake.wait(guard).unwrap_or_else(|e| e.into_inner());
                        if counted {
                            shared.sleeping.fetch_sub(1, Ordering::Relaxed);
                        }
                        drop(guard);
                    }
                    polls = 0;
                }
            }
        }
        let region = {
            let guard = shared.current.lock().unwrap_or_else(|e| e.into_inner());
            seen = shared.generation.load(Ordering::Acquire);
            guard.clone()
        };
        if let Some(region) = region.filter(|_| index < pool.limit.load(Ordering::Relaxed)) {
            region.work();
        }
    }
}

/// The number of threads parallel kernels use, the calling thread included (PyTorch's
/// `torch.get_num_threads()`): the `TENSORGRAD_NUM_THREADS` environment variable if it was set
/// when the first parallel kernel ran, else the number of CPUs, until [`set_num_threads`]
/// changes it.
///
/// ```
/// assert!(tensorgrad::get_num_threads() >= 1);
/// ```
pub fn get_num_threads() -> usize {
    pool().limit.load(Ordering::Relaxed)
}

/// Makes parallel kernels use `threads` threads, the calling thread included (PyTorch's
/// `torch.set_num_threads`); 0 counts as 1, which runs every kernel on the calling thread.
/// Worker threads are started as needed and kept; lowering the number leaves the extra ones
/// asleep. Results do not depend on the number of threads.
///
/// ```
/// use tensorgrad::Tensor;
/// let x = Tensor::linspace(-1.0, 3.0, 1 << 20).exp();
/// let before = tensorgrad::get_num_threads();
/// tensorgrad::set_num_threads(1);
/// assert_eq!(tensorgrad::get_num_threads(), 1);
/// let serial: f32 = x.sum().item();
/// tensorgrad::set_num_threads(before);
/// assert_eq!(serial, x.sum().item::<f32>()); // bit for bit
/// ```
pub fn set_num_threads(threads: usize) {
    pool().resize(threads);
}

/// Calls `body(i)` for every `i` in `0..tasks`, spread over the pool's threads and the calling
/// thread, and returns when all have finished. Tasks run in no particular order; a panic in
/// one is resumed here after the others finish.
pub(crate) fn run(tasks: usize, body: &(dyn Fn(usize) + Sync)) {
    let serial = |body: &(dyn Fn(usize) + Sync)| (0..tasks).for_each(body);
    if tasks <= 1 || IN_REGION.with(|f| f.get()) {
        return serial(body);
    }
    let pool = pool();
    let threads = pool.limit.load(Ordering::Relaxed);
    if threads < 2 {
        return serial(body);
    }
    let _busy = match pool.busy.try_lock() {
        Ok(guard) => guard,
        Err(TryLockError::WouldBlock) => return serial(body),
        Err(TryLockError::Poisoned(e)) => e.into_inner(),
    };
    let body: *const (dyn Fn(usize) + Sync + '_) = body;
    // SAFETY: only the lifetime is erased. `body` is only called for claimed, unfinished
    // tasks; below, `work` returns only once every task is claimed and never unwinds (a
    // task's panic is caught), and `wait_finished` waits for the claimed tasks still running
    // elsewhere, so no call of `body` outlives this function.
    let body = unsafe {
        std::mem::transmute::<*const (dyn Fn(usize) + Sync + '_), *const (dyn Fn(usize) + Sync)>(
            body,
        )
    };
    let region = Arc::new(Region {
        body,
        tasks,
        threads,
        next: AtomicUsize::new(0),
        finished: AtomicUsize::new(0),
        panic: Mutex::new(None),
    });
    let sleeping = {
        let mut current = pool
            .shared
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *current = Some(Arc::clone(&region));
        pool.shared.generation.fetch_add(1, Ordering::Release);
        pool.shared.sleeping.load(Ordering::Relaxed)
    };
    if sleeping > 0 {
        pool.shared.wake.notify_all();
    }

    IN_REGION.with(|f| f.set(true));
    region.work();
    IN_REGION.with(|f| f.set(false));
    region.wait_finished();
    *pool
        .shared
        .current
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = None;
    let payload = region
        .panic
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    if let Some(payload) = payload {
        panic::resume_unwind(payload);
    }
}

/// Calls `body(i, chunk)` for each `chunk_len`-element chunk of `data` (the last may be
/// shorter), in parallel as [`run`] does: `par_chunks_mut(..).enumerate().for_each(..)`.
pub(crate) fn for_each_chunk_mut<T: Send>(
    data: &mut [T],
    chunk_len: usize,
    body: impl Fn(usize, &mut [T]) + Sync,
) {
    assert!(chunk_len > 0, "pool: chunk length must be positive");
    let len = data.len();
    let base = super::SendPtr(data.as_mut_ptr());
    run(len.div_ceil(chunk_len), &|i| {
        let start = i * chunk_len;
        let end = (start + chunk_len).min(len);
        // SAFETY: `start < end <= len` for every task index `i < ceil(len / chunk_len)`, each
        // index runs once, so the chunks are disjoint parts of `data`, which is borrowed
        // mutably for the whole call.
        let chunk = unsafe { std::slice::from_raw_parts_mut(base.get().add(start), end - start) };
        body(i, chunk);
    });
}

/// [`for_each_chunk_mut`] with the matching chunk of `src` (as long as `data`) beside each:
/// `par_chunks_mut(..).zip(src.par_chunks(..)).enumerate().for_each(..)`.
pub(crate) fn for_each_chunk_pair<T: Send, S: Sync>(
    data: &mut [T],
    src: &[S],
    chunk_len: usize,
    body: impl Fn(usize, &mut [T], &[S]) + Sync,
) {
    assert_eq!(
        data.len(),
        src.len(),
        "pool: paired slices differ in length"
    );
    for_each_chunk_mut(data, chunk_len, |c, chunk| {
        let start = c * chunk_len;
        body(c, chunk, &src[start..start + chunk.len()])
    });
}

/// Calls `body(task)` once for each element of `tasks`, in parallel as [`run`] does (for
/// tasks that own disjoint `&mut` parts of several buffers).
pub(crate) fn for_each_task<X: Send>(tasks: Vec<X>, body: impl Fn(X) + Sync) {
    let slots: Vec<Mutex<Option<X>>> = tasks.into_iter().map(|t| Mutex::new(Some(t))).collect();
    run(slots.len(), &|i| {
        let task = slots[i].lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            body(task);
        }
    });
}

/// `[f(0), f(1), …, f(tasks − 1)]`, the calls spread over the pool as [`run`] does.
pub(crate) fn map_tasks<R: Send>(tasks: usize, f: impl Fn(usize) -> R + Sync) -> Vec<R> {
    let mut out: Vec<Option<R>> = (0..tasks).map(|_| None).collect();
    for_each_chunk_mut(&mut out, 1, |i, slot| slot[0] = Some(f(i)));
    out.into_iter()
        .map(|r| r.expect("pool: every task stores its result"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// Pool tests run one at a time, so their regions find the pool free (a region that finds
    /// it busy runs serially, which would not test the pool).
    fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
        static LOCK: Mutex<()> = Mutex::new(());
        LOCK.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn counters(n: usize) -> Vec<AtomicUsize> {
        (0..n).map(|_| AtomicUsize::new(0)).collect()
    }

    fn all_once(counts: &[AtomicUsize]) -> bool {
        counts.iter().all(|c| c.load(Ordering::Relaxed) == 1)
    }

    /// Runs a region of `tasks` tasks that count their calls; whether each ran exactly once.
    fn runs_each_task_once(tasks: usize) -> bool {
        let counts = counters(tasks);
        run(tasks, &|i| {
            counts[i].fetch_add(1, Ordering::Relaxed);
        });
        all_once(&counts)
    }

    #[test]
    fn every_task_runs_exactly_once() {
        let _serial = one_at_a_time();
        for tasks in [0, 1, 2, 3, 17, 1000].repeat(20) {
            assert!(runs_each_task_once(tasks), "{tasks} tasks");
        }
    }

    #[test]
    fn nested_regions_complete() {
        let _serial = one_at_a_time();
        let counts = counters(64);
        run(8, &|i| {
            run(8, &|j| {
                counts[i * 8 + j].fetch_add(1, Ordering::Relaxed);
            })
        });
        assert!(all_once(&counts));
    }

    #[test]
    fn a_panic_reaches_the_caller_after_the_other_tasks_finish() {
        let _serial = one_at_a_time();
        let done = AtomicUsize::new(0);
        let result = panic::catch_unwind(AssertUnwindSafe(|| {
            run(100, &|i| {
                assert!(i != 37, "task 37 fails");
                done.fetch_add(1, Ordering::Relaxed);
            })
        }));
        let payload = result.expect_err("the panic is resumed in the caller");
        let message = (payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        assert!(message.contains("task 37 fails"), "{message}");
        assert_eq!(done.load(Ordering::Relaxed), 99);
        // The pool still works.
        assert!(runs_each_task_once(50));
    }

    #[test]
    fn callers_on_several_threads_each_get_all_their_tasks() {
        let _serial = one_at_a_time();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..20 {
                        assert!(runs_each_task_once(300));
                    }
                });
            }
        });
    }

    #[test]
    fn chunk_and_task_helpers_cover_their_input() {
        let _serial = one_at_a_time();
        let mut data = vec![0usize; 10];
        let lens = Mutex::new(vec![0usize; 4]);
        for_each_chunk_mut(&mut data, 3, |c, chunk| {
            lens.lock().unwrap()[c] = chunk.len();
            chunk.iter_mut().for_each(|x| *x = c + 1);
        });
        assert_eq!(data, [1, 1, 1, 2, 2, 2, 3, 3, 3, 4]);
        assert_eq!(*lens.lock().unwrap(), [3, 3, 3, 1]);
        assert_eq!(map_tasks(5, |i| i * i), [0, 1, 4, 9, 16]);
        let mut halves = [0u8; 6];
        let tasks: Vec<(usize, &mut [u8])> = halves.chunks_mut(2).enumerate().collect();
        for_each_task(tasks, |(i, part)| part.fill(i as u8 + 7));
        assert_eq!(halves, [7, 7, 8, 8, 9, 9]);
    }

    /// Lowering the thread count to one keeps every task on the caller; raising it again
    /// (past the number of CPUs too, where workers do not poll) brings workers back.
    #[test]
    fn lowering_and_raising_the_thread_count() {
        let _serial = one_at_a_time();
        let before = get_num_threads();
        let threads_used = |tasks: usize| {
            let ids = Mutex::new(HashSet::new());
            let counts = counters(tasks);
            run(tasks, &|i| {
                ids.lock().unwrap().insert(std::thread::current().id());
                counts[i].fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_micros(100));
            });
            assert!(all_once(&counts));
            let distinct = ids.lock().unwrap().len();
            distinct
        };
        set_num_threads(1);
        assert_eq!(get_num_threads(), 1);
        assert_eq!(threads_used(32), 1);
        for threads in [2, pool().cpus + 2] {
            set_num_threads(threads);
            assert_eq!(get_num_threads(), threads);
            assert!(
                (0..200).any(|_| threads_used(32) > 1),
                "{threads} threads: every region ran on one thread"
            );
        }
        set_num_threads(before);
    }

    /// With two or more threads, a region's tasks do not all run on the caller (a few tries:
    /// another test may hold the pool, which makes a region serial).
    #[test]
    fn workers_take_part() {
        let _serial = one_at_a_time();
        if get_num_threads() < 2 {
            return;
        }
        let spread = (0..200).any(|_| {
            let ids = Mutex::new(HashSet::new());
            run(16, &|_| {
                ids.lock().unwrap().insert(std::thread::current().id());
                std::thread::sleep(Duration::from_micros(200));
            });
            let distinct = ids.lock().unwrap().len();
            distinct > 1
        });
        assert!(spread, "every region ran on one thread");
    }
}
