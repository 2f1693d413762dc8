//! The steps a simulated user takes, as goose transactions. Each one is an async closure
//! over the shared [`LoadContext`]; every request is timed here into the HDR [`Recorder`].

use std::sync::Arc;
use std::time::Duration;

use goose::goose::{GooseUser, Transaction, TransactionError};
use goose::prelude::TransactionResult;
use hyper::body::Bytes;
use hyper::Method;
use tokio::time::Instant;

use super::http1::{Connections, Outgoing, Target};
use super::recorder::{Clock, Phase, Recorder};
use super::replay_window::Answer as ReplayAnswer;
use crate::scenario::StepKind;

/// What every user of one measurement shares.
pub struct LoadContext {
    pub recorder: Arc<Recorder>,
    /// Each replica's address, parsed once: parsing a URL per request would add to the load
    /// client's CPU on its hot path.
    pub replicas: Vec<Target>,
    /// Constant-arrival-rate mode: each user's requests are this far apart.
    pub per_user_interval: Option<Duration>,
    /// Number of users (spreads the users' first intended starts over one interval).
    pub users: usize,
}

/// Per-user state kept in goose's session data.
#[derive(Clone, Default)]
struct Session {
    token: Option<String>,
    /// The refresh token that came with `token`, when the strategy issues them.
    refresh_token: Option<String>,
    /// When the `refresh` step renews `token`: half its lifetime after it was issued.
    renew_at: Option<Instant>,
    /// When this user's next request is due (constant-rate mode).
    next_due: Option<Instant>,
    /// When this user's previous request finished (constant-rate mode): sending later than
    /// both that and the due time is the client's own lateness.
    last_done: Option<Instant>,
    /// When the previous request would have finished had the client sent every request on
    /// time: each request starts at `max(due, previous virtual end)` and takes its measured
    /// service time. Corrected latency is measured on this timeline, so a slow server still
    /// pushes later requests back (coordinated omission) but a late client does not.
    virtual_done: Option<Instant>,
    /// This user's keep-alive connections, one per replica.
    connections: Connections,
}

/// When a constant-rate request was due, and when the client was free to send it.
#[derive(Clone, Copy)]
struct Slot {
    due: Instant,
    /// `max(due, previous request's end)`: sending later than this is the client's own lateness.
    ready: Instant,
    /// `max(due, previous request's virtual end)`: when a punctual client would have sent it.
    virtual_start: Instant,
}

/// A request kind, as named in the results.
#[derive(Clone, Copy)]
enum Request {
    Login,
    /// A login as the user's copy identity (`user-N-copies`), for the tokens that are logged
    /// out and replayed: a per-user cut-off's logout ends every session of its user, and the
    /// user's own session (the one its `me` calls use) must not die with each copy.
    LoginCopy,
    Me,
    Refresh,
    Logout,
    Replay,
}

impl Request {
    fn name(self) -> &'static str {
        match self {
            Request::Login | Request::LoginCopy => "login",
            Request::Me => "me",
            Request::Refresh => "refresh",
            Request::Logout => "logout",
            Request::Replay => "replay",
        }
    }

    fn method(self) -> Method {
        match self {
            Request::Me | Request::Replay => Method::GET,
            Request::Login | Request::LoginCopy | Request::Refresh | Request::Logout => {
                Method::POST
            }
        }
    }

    /// The status a correct server answers.
    fn expected(self) -> u16 {
        crate::results::answers::expected_status(self.name()).expect("every request kind has one")
    }

    fn path(self) -> &'static str {
        match self {
            Request::Login | Request::LoginCopy => "/login",
            Request::Me | Request::Replay => "/api/me",
            Request::Logout => "/logout",
            Request::Refresh => "/refresh",
        }
    }
}

/// What `/login` or `/refresh` handed out.
struct Issued {
    access_token: String,
    refresh_token: Option<String>,
    /// The access token's lifetime (`expires_in`).
    lifetime: Duration,
}

impl Issued {
    /// The tokens in a 200 answer's body.
    fn parse(answer: &Answer) -> Option<Self> {
        if answer.status != 200 {
            return None;
        }
        let body: serde_json::Value = serde_json::from_slice(&answer.body).ok()?;
        Some(Self {
            access_token: body["access_token"].as_str()?.to_string(),
            refresh_token: body["refresh_token"].as_str().map(str::to_string),
            lifetime: Duration::from_secs(body["expires_in"].as_u64().unwrap_or(0)),
        })
    }
}

/// A response: its status and body.
struct Answer {
    status: u16,
    body: Bytes,
    /// The outage phase when the request was sent.
    phase: Phase,
}

impl LoadContext {
    fn replica_of(&self, user: &GooseUser) -> usize {
        user.weighted_users_index % self.replicas.len()
    }

    /// In constant-rate mode, waits for this user's next slot (µs-precise: tokio's own timer
    /// would wake up to 1 ms late) and returns it.
    async fn pace(&self, user: &mut GooseUser) -> Option<Slot> {
        let interval = self.per_user_interval?;
        let index = user.weighted_users_index;
        let session = session(user);
        let due = *session.next_due.get_or_insert_with(|| {
            // Stagger users across one interval so arrivals are evenly spaced overall.
            Instant::now() + interval.mul_f64((index % self.users) as f64 / self.users as f64)
        });
        session.next_due = Some(due + interval);
        let ready = session.last_done.map_or(due, |done| done.max(due));
        let virtual_start = session.virtual_done.map_or(due, |done| done.max(due));
        crate::precise_sleep::sleep_until(due).await;
        Some(Slot { due, ready, virtual_start })
    }

    /// Sends one request to `replica`, timing it (body included) and recording the outcome.
    async fn call(
        &self,
        user: &mut GooseUser,
        request: Request,
        replica: usize,
        token: Option<&str>,
    ) -> Result<Option<Answer>, Box<TransactionError>> {
        let slot = self.pace(user).await;
        let index = user.weighted_users_index;
        let json = match request {
            Request::Login => Some(serde_json::json!({ "username": format!("user-{index}") })),
            Request::LoginCopy => {
                Some(serde_json::json!({ "username": format!("user-{index}-copies") }))
            }
            // The refresh token travels in the body, never as a bearer token.
            Request::Refresh => Some(serde_json::json!({ "refresh_token": token })),
            _ => None,
        }
        .map(|json| json.to_string());
        let token = if matches!(request, Request::Refresh) { None } else { token };
        if let (Request::Logout, Some(token)) = (request, token) {
            // Before it is sent: a logout whose answer is lost may still have revoked it.
            self.recorder.logged_out().note(token);
        }
        let outgoing =
            Outgoing { method: request.method(), path: request.path(), bearer: token, json };
        // Taken out of the session for the exchange (the session is borrowed from `user`).
        let mut connections = std::mem::take(&mut session(user).connections);
        let phase = self.recorder.phase();
        let started = Instant::now();
        let outcome = connections.send(replica, &self.replicas[replica], outgoing).await;
        let done = Instant::now();
        session(user).connections = connections;
        let recorder = &self.recorder;
        if let Some(slot) = slot {
            // The client's own lateness is its own histogram and stays out of the corrected
            // latency, which is measured on the punctual client's timeline (see Session).
            let virtual_done = slot.virtual_start + (done - started);
            let session = session(user);
            session.last_done = Some(done);
            session.virtual_done = Some(virtual_done);
            let lateness = started.saturating_duration_since(slot.ready);
            recorder.latency(Clock::PacingLateness, request.name(), lateness);
            let replay = matches!(request, Request::Replay);
            if !replay && matches!(&outcome, Ok((status, _)) if *status == request.expected()) {
                recorder.latency(Clock::Corrected, request.name(), virtual_done - slot.due);
            }
        }
        if matches!(request, Request::Replay) {
            // Every replay in one histogram, whatever the answer: a revoking store's refusals
            // and `none:`'s acceptances are the same request.
            recorder.replay_latency(done - started);
        }
        match outcome {
            Ok((status, body)) => {
                let clock =
                    if status == request.expected() { Clock::Service } else { Clock::Unexpected };
                if !matches!(request, Request::Replay) {
                    recorder.latency(clock, request.name(), done - started);
                }
                recorder.status(phase, request.name(), status);
                Ok(Some(Answer { status, body, phase }))
            }
            Err(e) => {
                recorder.error(request.name(), e.kind());
                Ok(None)
            }
        }
    }

    /// Logs in on `replica`; what the server gave, if it did.
    async fn login_issued(
        &self,
        user: &mut GooseUser,
        replica: usize,
    ) -> Result<Option<Issued>, Box<TransactionError>> {
        let answer = self.call(user, Request::Login, replica, None).await?;
        Ok(answer.as_ref().and_then(Issued::parse))
    }

    /// Makes `issued` (or nothing) the user's tokens; the access token.
    fn keep(user: &mut GooseUser, issued: Option<Issued>) -> Option<String> {
        let session = session(user);
        session.renew_at = issued.as_ref().map(|i| Instant::now() + i.lifetime / 2);
        session.refresh_token = issued.as_ref().and_then(|i| i.refresh_token.clone());
        session.token = issued.map(|i| i.access_token);
        session.token.clone()
    }

    /// New tokens for the user: `POST /refresh` with its refresh token when it holds one (a
    /// refused refresh falls back to a login), else a login (what a client of a strategy
    /// without refresh tokens does when its access token runs out).
    async fn renew(&self, user: &mut GooseUser) -> Result<Option<String>, Box<TransactionError>> {
        let replica = self.replica_of(user);
        if let Some(refresh) = session(user).refresh_token.take() {
            let answer = self.call(user, Request::Refresh, replica, Some(&refresh)).await?;
            if let Some(issued) = answer.as_ref().and_then(Issued::parse) {
                return Ok(Self::keep(user, Some(issued)));
            }
        }
        let issued = self.login_issued(user, replica).await?;
        Ok(Self::keep(user, issued))
    }

    /// The user's live token, logging in first when it has none.
    async fn live_token(
        &self,
        user: &mut GooseUser,
    ) -> Result<Option<String>, Box<TransactionError>> {
        if let Some(token) = session(user).token.clone() {
            return Ok(Some(token));
        }
        let replica = self.replica_of(user);
        let issued = self.login_issued(user, replica).await?;
        Ok(Self::keep(user, issued))
    }

    /// `GET /api/me`, renewing the token first once half its lifetime has passed (or when it
    /// was refused last time).
    async fn me_refreshing(&self, user: &mut GooseUser) -> TransactionResult {
        let due = session(user).renew_at.is_none_or(|at| Instant::now() >= at);
        let token = if due || session(user).token.is_none() {
            self.renew(user).await?
        } else {
            session(user).token.clone()
        };
        let Some(token) = token else { return Ok(()) };
        let replica = self.replica_of(user);
        if let Some(answer) = self.call(user, Request::Me, replica, Some(&token)).await? {
            if answer.status == 401 {
                // Expired early (`exp` is whole seconds): renew next time.
                session(user).renew_at = None;
            }
        }
        Ok(())
    }

    /// Logs in again without logging out (another device): the new token replaces the one
    /// the user calls with; the old one stays alive, unused, until it expires.
    async fn login_again(&self, user: &mut GooseUser) -> TransactionResult {
        let replica = self.replica_of(user);
        let issued = self.login_issued(user, replica).await?;
        if issued.is_some() {
            Self::keep(user, issued);
        }
        Ok(())
    }

    async fn me(&self, user: &mut GooseUser) -> TransactionResult {
        let Some(token) = self.live_token(user).await? else { return Ok(()) };
        let replica = self.replica_of(user);
        if let Some(answer) = self.call(user, Request::Me, replica, Some(&token)).await? {
            if answer.status == 401 {
                // Expired or lost: log in again next time.
                Self::keep(user, None);
            }
        }
        Ok(())
    }

    async fn relogin(&self, user: &mut GooseUser) -> TransactionResult {
        let replica = self.replica_of(user);
        if let Some(token) = session(user).token.take() {
            self.call(user, Request::Logout, replica, Some(&token)).await?;
        }
        let issued = self.login_issued(user, replica).await?;
        Self::keep(user, issued);
        Ok(())
    }

    /// Logs a fresh token of the user's copy identity in and out on `logout_on`; the copy,
    /// if logout succeeded.
    async fn revoked_copy(
        &self,
        user: &mut GooseUser,
        logout_on: usize,
    ) -> Result<Option<String>, Box<TransactionError>> {
        let answer = self.call(user, Request::LoginCopy, logout_on, None).await?;
        let Some(copy) = answer.as_ref().and_then(Issued::parse).map(|i| i.access_token) else {
            return Ok(None);
        };
        let logout = self.call(user, Request::Logout, logout_on, Some(&copy)).await?;
        Ok(logout.filter(|a| a.status == 204).map(|_| copy))
    }

    async fn replay(&self, user: &mut GooseUser, cross_replica: bool) -> TransactionResult {
        let logout_on = self.replica_of(user);
        let Some(copy) = self.revoked_copy(user, logout_on).await? else { return Ok(()) };
        let replay_on =
            if cross_replica { (logout_on + 1) % self.replicas.len() } else { logout_on };
        let phase = self.recorder.phase();
        let answer = self.call(user, Request::Replay, replay_on, Some(&copy)).await?;
        let status = answer.as_ref().map(|a| a.status);
        self.recorder.replay(answer.map_or(phase, |a| a.phase), ReplayAnswer::of(status));
        Ok(())
    }

    async fn logout_keep_copy(&self, user: &mut GooseUser) -> TransactionResult {
        let replica = self.replica_of(user);
        if let Some(copy) = self.revoked_copy(user, replica).await? {
            self.recorder.keep_copy(copy);
        }
        Ok(())
    }
}

fn session(user: &mut GooseUser) -> &mut Session {
    if user.get_session_data::<Session>().is_none() {
        user.set_session_data(Session::default());
    }
    user.get_session_data_mut::<Session>().expect("session set above")
}

/// The goose transaction for one step kind.
pub fn transaction(kind: StepKind, ctx: Arc<LoadContext>) -> Transaction {
    let function: goose::goose::TransactionFunction = Arc::new(move |user| {
        let ctx = ctx.clone();
        Box::pin(async move {
            match kind {
                StepKind::Me => ctx.me(user).await,
                StepKind::Relogin => ctx.relogin(user).await,
                StepKind::Replay => ctx.replay(user, false).await,
                StepKind::ReplayCrossReplica => ctx.replay(user, true).await,
                StepKind::LogoutKeepCopy => ctx.logout_keep_copy(user).await,
                StepKind::Refresh => ctx.me_refreshing(user).await,
                StepKind::LoginAgain => ctx.login_again(user).await,
            }
        })
    });
    Transaction::new(function).set_name(kind.name())
}
