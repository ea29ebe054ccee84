//! The worker pool for runs with a wall-time limit, and the in-flight slots that bound runs.

use super::*;

pub(super) type RunResult = Result<tp::TVec<tp::TValue>, EngineError>;

/// A run handed to the pool.
pub(super) struct Job {
	pub(super) plan: Arc<Plan>,
	pub(super) inputs: tp::TVec<tp::TValue>,
	/// The run's slot: released by the worker when the run ends, also after a timeout.
	pub(super) slot: Slot,
	/// The caller's end is gone after a timeout; the result is then dropped.
	pub(super) reply: mpsc::SyncSender<RunResult>,
}

/// Persistent worker threads sharing one job queue. Dropping the pool (with the engine) closes
/// the queue: idle workers exit, busy ones after their run.
pub(super) struct Pool {
	pub(super) tx: mpsc::Sender<Job>,
	pub(super) shared: Arc<PoolShared>,
}

pub(super) struct PoolShared {
	pub(super) rx: Mutex<mpsc::Receiver<Job>>,
	/// Live worker threads (busy, abandoned or idle).
	pub(super) live: AtomicUsize,
}

impl Pool {
	pub(super) fn new() -> Self {
		let (tx, rx) = mpsc::channel();
		Self { tx, shared: Arc::new(PoolShared { rx: Mutex::new(rx), live: AtomicUsize::new(0) }) }
	}

	/// Make sure at least `needed` workers live. Called with the number of admitted runs
	/// (including abandoned ones still running), which is at most `max_concurrent_runs`: every
	/// admitted run then has a worker of its own, and a worker stuck in an abandoned run is
	/// replaced when the next run needs it.
	pub(super) fn ensure_workers(&self, needed: usize) -> Result<(), EngineError> {
		let mut live = self.shared.live.load(Ordering::SeqCst);
		while live < needed {
			match self.shared.live.compare_exchange(
				live,
				live + 1,
				Ordering::SeqCst,
				Ordering::SeqCst,
			) {
				Ok(_) => {
					spawn_worker(self.shared.clone()).map_err(|e| {
						self.shared.live.fetch_sub(1, Ordering::SeqCst);
						EngineError::Thread(e.to_string())
					})?;
					live += 1;
				},
				Err(now) => live = now,
			}
		}
		Ok(())
	}
}

/// The name of the engine's run threads. A host process whose panic hook ends the process (a
/// Substrate node's does) must let panics on these threads unwind: every tract call on them
/// is inside `catch_unwind`, and a hostile model must fail its run, not stop the process.
pub const WORKER_THREAD_NAME: &str = "verity-inference";

/// Start one worker; the caller has already counted it in `live`.
pub(super) fn spawn_worker(shared: Arc<PoolShared>) -> std::io::Result<()> {
	std::thread::Builder::new().name(WORKER_THREAD_NAME.into()).spawn(move || {
		let guard = WorkerGuard(shared);
		loop {
			let job = {
				let rx = guard.0.rx.lock().unwrap_or_else(|p| p.into_inner());
				rx.recv()
			};
			let Ok(Job { plan, inputs, slot, reply }) = job else { break };
			let r = plan.run(inputs);
			// Free the slot before replying, so that a caller who runs again right away is not
			// refused for its own finished run.
			drop(slot);
			let _ = reply.send(r);
		}
	})?;
	Ok(())
}

/// Uncounts a worker when its thread ends; if it ends by unwinding, starts a replacement.
pub(super) struct WorkerGuard(Arc<PoolShared>);

impl Drop for WorkerGuard {
	fn drop(&mut self) {
		if std::thread::panicking() {
			// Still counted in `live`: the replacement takes over the count.
			if spawn_worker(self.0.clone()).is_err() {
				self.0.live.fetch_sub(1, Ordering::SeqCst);
			}
		} else {
			self.0.live.fetch_sub(1, Ordering::SeqCst);
		}
	}
}

/// Decrements the in-flight counter when dropped.
pub(super) struct Slot(pub(super) Arc<AtomicUsize>);

impl Drop for Slot {
	fn drop(&mut self) {
		self.0.fetch_sub(1, Ordering::SeqCst);
	}
}
