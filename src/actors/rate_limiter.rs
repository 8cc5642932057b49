//! The `RateLimiter` actor: owns the schedule of the failure budgets'
//! Redis link. Every few seconds it pings Redis, so that an outage is
//! reported by `/health/ready` and `/metrics` and a recovery is noticed
//! even when no authentication is failing. The budgets themselves are read
//! on the hot path without a message (sharded maps, see `abuse`).

use super::Ping;
use crate::abuse::FailureLimits;
use actix::prelude::*;
use std::sync::Arc;
use std::time::Duration;

pub struct RateLimiter {
    pub limits: Arc<FailureLimits>,
    pub every: Duration,
}

impl Actor for RateLimiter {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        if self.limits.redis_up().is_none() {
            return;
        }
        let first = self.limits.clone();
        ctx.spawn(
            async move {
                first.probe().await;
                if first.redis_up() == Some(false) {
                    tracing::warn!("rate limiter: Redis unreachable at start; using this instance's budgets");
                }
            }
            .into_actor(self),
        );
        ctx.run_interval(self.every, |act, ctx| {
            let limits = act.limits.clone();
            ctx.spawn(async move { limits.probe().await }.into_actor(act));
        });
    }
}

impl Supervised for RateLimiter {}

impl Handler<Ping> for RateLimiter {
    type Result = ();

    fn handle(&mut self, _: Ping, _: &mut Context<Self>) {}
}
