//! The `RateLimiter` actor: owns the schedule of the failure budgets'
//! Redis link. Every few seconds it pings Redis, so that an outage is
//! reported by `/health/ready` and `/metrics` and a recovery is noticed
//! even when no authentication is failing. The budgets themselves are read
//! on the hot path without a message (sharded maps, see `abuse`).

use super::Ping;
use crate::abuse::shared::SharedBudgets;
use actix::prelude::*;
use std::sync::Arc;
use std::time::Duration;

pub struct RateLimiter {
    /// The one link every shared budget (client, admin, SCIM, login,
    /// second factor) spends through; `None` without Redis.
    pub redis: Option<Arc<SharedBudgets>>,
    pub every: Duration,
}

impl Actor for RateLimiter {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // Start-up probed once before serving; from here on, the schedule.
        if self.redis.is_none() {
            return;
        }
        ctx.run_interval(self.every, |act, ctx| {
            if let Some(link) = act.redis.clone() {
                ctx.spawn(async move { link.probe().await }.into_actor(act));
            }
        });
    }
}

impl Supervised for RateLimiter {}

impl Handler<Ping> for RateLimiter {
    type Result = ();

    fn handle(&mut self, _: Ping, _: &mut Context<Self>) {}
}
