//! Waiting for the org to settle: polls with backoff under a window, told
//! on a terminal once they last long enough (see [`Waiting`]). Nothing
//! sleeps a fixed time.

use std::time::Duration;

use crate::api::Client;

/// Sleep for the current backoff step and grow it (polling only).
pub async fn poll_backoff(wait: &mut Duration) {
    tokio::time::sleep(*wait).await;
    *wait = (*wait * 2).min(Duration::from_secs(2));
}

/// A wait for the org to settle (a list to show a create, a 409 or a 404 to
/// pass, an asynchronous status to end), polled with backoff until its
/// window has passed. A wait that reaches [`Wait::NOTICE_AFTER`] is told
/// once through the client's wait hook (on a terminal, a status line): the
/// object, what is awaited and why, and how long gcctl keeps waiting.
///
/// [`Wait::NOTICE_AFTER`]: crate::api::Wait::NOTICE_AFTER
pub struct Waiting<'a> {
    client: &'a Client,
    address: String,
    why: String,
    started: std::time::Instant,
    window: Duration,
    next: Duration,
    /// The longest pause between two polls.
    max_step: Duration,
    told: bool,
}

impl<'a> Waiting<'a> {
    /// A wait on behalf of `address` (`Kind/name`), for up to `window`,
    /// first polling after `first`; `why` says what is awaited and why.
    pub fn new(
        client: &'a Client,
        address: String,
        why: String,
        window: Duration,
        first: Duration,
    ) -> Self {
        Waiting {
            client,
            address,
            why,
            started: std::time::Instant::now(),
            window,
            next: first,
            max_step: Duration::from_secs(2),
            told: false,
        }
    }

    /// Poll at most every `max` (a flow job polls less often than 2 s).
    #[must_use]
    pub fn max_step(mut self, max: Duration) -> Self {
        self.max_step = max;
        self
    }

    /// Time left before the window ends (zero once it has).
    pub fn left(&self) -> Duration {
        self.window.saturating_sub(self.started.elapsed())
    }

    /// Whether the window has passed.
    pub fn is_over(&self) -> bool {
        self.left().is_zero()
    }

    /// Sleep for the next backoff step (never past the window) and grow it;
    /// tell the wait the first time it reaches two seconds.
    pub async fn pause(&mut self) {
        let step = self.next.min(self.left());
        if !self.told && self.started.elapsed() + step >= crate::api::Wait::NOTICE_AFTER {
            self.told = true;
            self.client.notice(&crate::api::Wait {
                call: self.address.clone(),
                reason: self.why.clone(),
                wait: step,
                attempt: 0,
                gives_up_in: self.left(),
                kind: crate::api::WaitKind::Poll,
            });
        }
        tokio::time::sleep(step).await;
        self.next = (self.next * 2).min(self.max_step);
    }
}
