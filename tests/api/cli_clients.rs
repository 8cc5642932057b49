//! `gatehouse client …` against a real database, through the real binary.

use crate::binary::{json_out, run, run_async, text};
use crate::helpers::{TestDatabase, base_env, with};
use gatehouse::crypto::{MasterKey, SecretHasher};

#[actix_web::test]
async fn client_lifecycle_through_the_cli() {
    let db = TestDatabase::create().await;
    let env = with(base_env(&db), &[("GATEHOUSE_LOG_FORMAT", "json"), ("GATEHOUSE_LOG_LEVEL", "trace")]);
    assert!(run_async(&env, &["migrate", "up"], None).await.status.success());

    // A machine client: confidential, client_credentials, secret shown once.
    let out =
        run_async(&env, &["client", "create", "--name", "billing", "--scope", "api:read api:write", "--json"], None)
            .await;
    let svc = json_out(&out);
    let id = svc["client_id"].as_str().unwrap().to_owned();
    let secret = svc["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 22);
    assert_eq!(secret.len(), 43, "256 bits");
    assert_eq!(svc["grant_types"], serde_json::json!(["client_credentials"]));
    assert_eq!(svc["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(svc["scope"], "api:read api:write");
    assert!(!text(&out.stderr).contains(&secret), "secret in a log line");

    // Only a keyed hash is stored, under the (dev) master key.
    let (master, _) = MasterKey::load_or_generate(None, &db.dir()).unwrap();
    let hasher = SecretHasher::new(&master);
    let conn = gatehouse::store::connect(&db.url, 1).await.unwrap();
    let row = gatehouse::store::clients::find(&conn, &id).await.unwrap();
    let stored = row.secret_hash.clone().unwrap();
    assert!(!stored.contains(&secret));
    assert!(hasher.verify(&secret, &stored));

    let web = json_out(
        &run_async(
            &env,
            &["client", "create", "--name", "web", "--redirect-uri", "https://app.example.com/cb", "--json"],
            None,
        )
        .await,
    );
    assert_eq!(web["grant_types"], serde_json::json!(["authorization_code", "refresh_token"]));
    assert_eq!(web["scope"], "openid profile email offline_access");

    let native = json_out(
        &run_async(
            &env,
            &["client", "create", "--name", "cli", "--public", "--redirect-uri", "http://127.0.0.1/cb", "--json"],
            None,
        )
        .await,
    );
    assert!(native.get("client_secret").is_none());
    assert_eq!(native["token_endpoint_auth_method"], "none");
    assert_eq!(native["require_pkce"], true);
    let web_id = web["client_id"].as_str().unwrap();
    let off =
        json_out(&run_async(&env, &["client", "update", web_id, "--require-pkce", "false", "--json"], None).await);
    assert_eq!(off["require_pkce"], false);

    // Refusals: validation is exit 1 with the reason, bad values exit 2.
    for (args, reason) in [
        (&["client", "create", "--name", "x", "--redirect-uri", "https://app.example.com/cb#f"][..], "fragment"),
        (&["client", "create", "--name", "x", "--redirect-uri", "http://app.example.com/cb"], "loopback"),
        (&["client", "create", "--name", "x", "--public", "--grant-type", "client_credentials"], "public clients"),
        (&["client", "create", "--name", "x", "--auth-method", "private_key_jwt"], "JWKS URI"),
        (
            &[
                "client",
                "create",
                "--name",
                "x",
                "--public",
                "--redirect-uri",
                "http://127.0.0.1/cb",
                "--require-pkce",
                "false",
            ],
            "require_pkce",
        ),
    ] {
        let o = run_async(&env, args, None).await;
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert!(text(&o.stderr).contains(reason), "{args:?}: {}", text(&o.stderr));
    }
    let o = run_async(&env, &["client", "create", "--name", "x", "--grant-type", "implicit"], None).await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));

    let list = json_out(&run_async(&env, &["client", "list", "--json"], None).await);
    assert_eq!(list["total"], 3);
    let shown = json_out(&run_async(&env, &["client", "show", &id, "--json"], None).await);
    assert!(shown.get("client_secret").is_none(), "never shown again");

    let updated = json_out(&run_async(&env, &["client", "update", &id, "--scope", "api:admin", "--json"], None).await);
    assert_eq!(updated["scope"], "api:admin");
    assert_eq!(updated["version"], 2);
    assert!(updated.get("client_secret").is_none());
    assert!(hasher.verify(&secret, &gatehouse::store::clients::find(&conn, &id).await.unwrap().secret_hash.unwrap()));

    let rotated = json_out(&run_async(&env, &["client", "rotate-secret", &id, "--json"], None).await);
    let new_secret = rotated["client_secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    let stored = gatehouse::store::clients::find(&conn, &id).await.unwrap().secret_hash.unwrap();
    assert!(hasher.verify(new_secret, &stored));
    assert!(!hasher.verify(&secret, &stored), "the old secret stops working");

    let o = run_async(&env, &["client", "rotate-secret", native["client_id"].as_str().unwrap()], None).await;
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("does not authenticate with a secret"));

    let human = run_async(&env, &["client", "list"], None).await;
    assert!(text(&human.stdout).contains("billing"), "{}", text(&human.stdout));

    assert!(run_async(&env, &["client", "delete", &id], None).await.status.success());
    let o = run_async(&env, &["client", "show", &id], None).await;
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("no such client"));

    let actions: Vec<String> = gatehouse::store::audit::recent(&conn, 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.target.as_deref() == Some(id.as_str()))
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["client.deleted", "client.secret_rotated", "client.updated", "client.created"]);
}

#[test]
fn ids_starting_with_a_hyphen_are_not_taken_for_flags() {
    // client_ids and kids are base64url: one in 64 starts with `-`.
    let o = run(&[], &["client", "show", "-abc", "--config", "/nonexistent.toml"], None);
    assert_ne!(o.status.code(), Some(2), "parsed as a flag: {}", text(&o.stderr));
    let o = run(&[], &["keys", "revoke", "-abc", "--config", "/nonexistent.toml"], None);
    assert_ne!(o.status.code(), Some(2), "parsed as a flag: {}", text(&o.stderr));
}
