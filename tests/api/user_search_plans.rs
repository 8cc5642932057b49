//! The admin search's two plans (the walk in username order and the
//! driven plan from the rarest set) and the hand-over between them must
//! find exactly what a plain filter over the whole directory finds, page
//! after page. The plan boundaries are tuned down so a small directory
//! crosses each of them; the oracle is a filter over every user in memory.

use crate::helpers::spawn_app;
use gatehouse::store::user_search::{self, Tuning, UserFilter, search_terms};
use sea_orm::{ActiveModelTrait as _, ActiveValue::Set, EntityTrait as _, IntoActiveModel as _};

/// Names whose words are dense (`ann`, `smith`), sparse (`zed`) or shared
/// as prefixes (`an` matches `ann` and `anders`).
const GIVEN: [&str; 5] = ["Ann", "Ann", "Anders", "Bob", "Zed"];
const FAMILY: [&str; 3] = ["Smith", "Smith", "Jones"];

struct Person {
    username: String,
    terms: Vec<String>,
    active: bool,
    admin: bool,
    scim: bool,
    locked: bool,
    second_factor: bool,
}

#[actix_web::test]
async fn every_plan_and_hand_over_finds_what_a_full_scan_finds() {
    let app = spawn_app().await;
    let now = chrono::Utc::now();
    let mut people = Vec::new();
    for i in 0..90usize {
        // Usernames out of creation order, so the walk's order is not the
        // insertion order.
        let username = format!("p{:03}", (i * 37) % 90);
        let display = format!("{} {}", GIVEN[i % GIVEN.len()], FAMILY[(i / 5) % FAMILY.len()]);
        let email = format!("{username}@{}.example", if i % 4 == 0 { "corp" } else { "home" });
        let new = gatehouse::accounts::NewUser {
            username: gatehouse::accounts::Username::parse(&username).unwrap(),
            email: Some(email.clone()),
            display_name: Some(display.clone()),
            password: None,
            is_admin: false,
        };
        let policy = gatehouse::config::Settings::load(None, Vec::<(String, String)>::new()).unwrap().password_policy();
        let hasher = gatehouse::accounts::PasswordHasher::new(1).unwrap();
        let user = gatehouse::accounts::users::create_user(&app.db, &hasher, &policy, new, now).await.unwrap();
        let (active, admin, scim) = (i % 7 != 3, i % 11 == 5, i % 2 == 0);
        let row = entity::users::Entity::find_by_id(user.id.clone()).one(&app.db).await.unwrap().unwrap();
        let mut am = row.into_active_model();
        am.active = Set(active);
        am.is_admin = Set(admin);
        am.scim_managed = Set(scim);
        am.update(&app.db).await.unwrap();
        let locked = i % 13 == 4;
        if locked || i % 13 == 8 {
            // Locked now, or a lockout that has ended.
            let until = if locked { now + chrono::Duration::minutes(5) } else { now - chrono::Duration::minutes(5) };
            entity::device_lockouts::ActiveModel {
                device_id: Set(format!("device-{i}")),
                user_id: Set(user.id.clone()),
                failures: Set(0),
                window_start: Set(now),
                lockouts: Set(1),
                locked_until: Set(Some(until)),
                updated_at: Set(now),
            }
            .insert(&app.db)
            .await
            .unwrap();
        }
        let second_factor = i % 6 == 1;
        if second_factor || i % 6 == 2 {
            // Confirmed, or enrolment never finished.
            entity::mfa_totp::ActiveModel {
                user_id: Set(user.id.clone()),
                secret_sealed: Set("sealed".into()),
                created_at: Set(now),
                confirmed_at: Set(second_factor.then_some(now)),
                pending_for: Set(None),
                last_used_step: Set(None),
                last_used_at: Set(None),
            }
            .insert(&app.db)
            .await
            .unwrap();
        }
        let terms = search_terms(&username, Some(&email), &[Some(display.as_str())]);
        people.push(Person { username, terms, active, admin, scim, locked, second_factor });
    }
    // The bootstrap admin is in the directory too.
    let boot = gatehouse::accounts::users::find_user(&app.db, "admin").await.unwrap();
    people.push(Person {
        terms: search_terms("admin", boot.email.as_deref(), &[boot.display_name.as_deref()]),
        username: "admin".into(),
        active: boot.active,
        admin: true,
        scim: boot.scim_managed,
        locked: false,
        second_factor: false,
    });
    people.sort_by(|a, b| a.username.cmp(&b.username));

    let words = |q: &str| q.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    let filters = [
        UserFilter::default(),
        UserFilter { words: words("ann"), ..Default::default() },
        UserFilter { words: words("an"), ..Default::default() },
        UserFilter { words: words("zed"), ..Default::default() },
        UserFilter { words: words("zed jones"), ..Default::default() },
        UserFilter { words: words("smith p0"), ..Default::default() },
        UserFilter { words: words("p04"), ..Default::default() },
        UserFilter { words: words("nobody"), ..Default::default() },
        UserFilter { active: Some(false), ..Default::default() },
        UserFilter { admin: Some(true), ..Default::default() },
        UserFilter { scim_managed: Some(false), words: words("smith"), ..Default::default() },
        UserFilter { locked: Some(true), ..Default::default() },
        UserFilter { locked: Some(false), words: words("ann"), ..Default::default() },
        UserFilter { second_factor: Some(true), ..Default::default() },
        UserFilter { second_factor: Some(false), active: Some(true), ..Default::default() },
        UserFilter { second_factor: Some(true), words: words("bob"), ..Default::default() },
    ];
    let tunings = [
        Tuning::DEFAULT,
        // Every word drives; the walk never runs for a query.
        Tuning { window: 3, rare: 1000 },
        // The walk always runs and gives up after a few users.
        Tuning { window: 4, rare: 0 },
        Tuning { window: 17, rare: 5 },
    ];
    for f in &filters {
        let expected: Vec<&str> = people
            .iter()
            .filter(|p| f.words.iter().all(|w| p.terms.iter().any(|t| t.starts_with(w.as_str()))))
            .filter(|p| f.active.is_none_or(|a| a == p.active))
            .filter(|p| f.admin.is_none_or(|a| a == p.admin))
            .filter(|p| f.scim_managed.is_none_or(|s| s == p.scim))
            .filter(|p| f.locked.is_none_or(|l| l == p.locked))
            .filter(|p| f.second_factor.is_none_or(|s| s == p.second_factor))
            .map(|p| p.username.as_str())
            .collect();
        for tuning in tunings {
            for limit in [1u64, 4, 50] {
                let mut got: Vec<String> = Vec::new();
                let mut after: Option<String> = None;
                loop {
                    let page =
                        user_search::search_tuned(&app.db, f, after.as_deref(), limit, now, tuning).await.unwrap();
                    assert!(page.len() as u64 <= limit);
                    got.extend(page.iter().map(|u| u.username_normalized.clone()));
                    match page.last() {
                        Some(last) if page.len() as u64 == limit => after = Some(last.username_normalized.clone()),
                        _ => break,
                    }
                }
                assert_eq!(got, expected, "{f:?} {tuning:?} limit {limit}");
            }
        }
        assert!(!expected.is_empty() || f.words == ["nobody"], "{f:?} matches nobody: a weak case");
    }
}
