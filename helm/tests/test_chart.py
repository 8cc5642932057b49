"""The Helm chart, judged by Helm's own SDK (helm-python-sdk: lint and
render exactly as `helm` does) and the Kubernetes OpenAPI schemas
(kubernetes-validate, strict: unknown fields are errors).

Run: python -m unittest discover -s helm/tests  (from the repository root,
in a venv with helm-python-sdk, kubernetes-validate and PyYAML). With
GATEHOUSE_BIN naming a gatehouse binary, the rendered gatehouse.toml is also
checked by `gatehouse config check` itself.
"""

import copy
import os
import pathlib
import subprocess
import tempfile
import unittest

import helm_python
import kubernetes_validate
import yaml

helm_python.disable_logging()

CHART = pathlib.Path(__file__).resolve().parent.parent / "gatehouse"
KUBE_VERSIONS = ["1.30.0", kubernetes_validate.latest_version()]
MASTER_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
SECRET_DIR = "/run/secrets/gatehouse"


def ci_values(name):
    return yaml.safe_load((CHART / "ci" / f"{name}-values.yaml").read_text())


def render(values, name="gh", namespace="auth", **kw):
    """Every object the chart renders, by (kind, name)."""
    out = helm_python.Chart.load(str(CHART)).render(values, name=name, namespace=namespace, **kw)
    objects = {}
    for path, text in out.items():
        if path.endswith("NOTES.txt"):
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                objects[(doc["kind"], doc["metadata"]["name"])] = doc
    return objects, out


def notes(values):
    out = helm_python.Chart.load(str(CHART)).render(values, name="gh", namespace="auth")
    return out["gatehouse/templates/NOTES.txt"]


def one(objects, kind):
    found = [o for (k, _), o in objects.items() if k == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def kinds(objects):
    return sorted({k for k, _ in objects})


def config_toml(objects, name="gh-gatehouse"):
    return objects[("ConfigMap", name)]["data"]["gatehouse.toml"]


def render_error(values):
    try:
        render(values)
    except helm_python.HelmError as e:
        return str(e)
    raise AssertionError("the render should have failed")


class Lint(unittest.TestCase):
    def test_every_ci_values_file_lints_without_errors_or_warnings(self):
        for f in sorted((CHART / "ci").glob("*-values.yaml")):
            with self.subTest(values=f.name):
                report = helm_python.lint(str(CHART), yaml.safe_load(f.read_text()), strict=True, kube_version="v1.30.0")
                self.assertEqual(report["errors"], [])
                serious = [m for m in report["messages"] if m["severity"] >= 2]
                self.assertEqual(serious, [])

    def test_defaults_alone_lint_but_refuse_to_render_naming_the_missing_setting(self):
        # helm lint is lenient about `required`; an install is not.
        self.assertEqual(helm_python.lint(str(CHART))["errors"], [])
        self.assertIn("issuer is required", render_error(None))


class Validate(unittest.TestCase):
    def test_every_rendered_object_is_valid_kubernetes(self):
        for name in ["single-node", "scale-out", "existing-secret"]:
            objects, _ = render(ci_values(name))
            for (kind, obj_name), obj in objects.items():
                if obj["apiVersion"].startswith("monitoring.coreos.com/"):
                    continue  # a CRD: checked field by field below
                for version in KUBE_VERSIONS:
                    with self.subTest(values=name, kind=kind, name=obj_name, kube=version):
                        kubernetes_validate.validate(obj, version, strict=True)


class SingleNode(unittest.TestCase):
    def setUp(self):
        self.objects, _ = render(ci_values("single-node"))
        self.deploy = one(self.objects, "Deployment")
        self.pod = self.deploy["spec"]["template"]["spec"]
        self.container = self.pod["containers"][0]

    def test_one_replica_recreated_on_a_claim(self):
        self.assertEqual(self.deploy["spec"]["replicas"], 1)
        self.assertEqual(self.deploy["spec"]["strategy"], {"type": "Recreate"})
        pvc = one(self.objects, "PersistentVolumeClaim")
        self.assertEqual(pvc["metadata"]["annotations"]["helm.sh/resource-policy"], "keep")
        data = next(v for v in self.pod["volumes"] if v["name"] == "data")
        self.assertEqual(data["persistentVolumeClaim"]["claimName"], pvc["metadata"]["name"])
        self.assertNotIn("HorizontalPodAutoscaler", kinds(self.objects))
        self.assertNotIn("PodDisruptionBudget", kinds(self.objects))

    def test_replicas_stay_one_whatever_is_asked(self):
        values = ci_values("single-node")
        values.update(replicaCount=5, autoscaling={"enabled": True})
        objects, _ = render(values)
        self.assertEqual(one(objects, "Deployment")["spec"]["replicas"], 1)
        self.assertNotIn("HorizontalPodAutoscaler", kinds(objects))

    def test_migrations_run_in_an_init_container_on_the_same_volume(self):
        init = self.pod["initContainers"]
        self.assertEqual([c["args"] for c in init], [["migrate", "up"]])
        self.assertEqual(init[0]["volumeMounts"], self.container["volumeMounts"])
        self.assertNotIn("Job", kinds(self.objects))

    def test_probes(self):
        self.assertEqual(self.container["readinessProbe"]["httpGet"], {"path": "/health/ready", "port": "http"})
        self.assertEqual(self.container["startupProbe"]["httpGet"], {"path": "/health/ready", "port": "http"})
        self.assertEqual(self.container["livenessProbe"]["httpGet"], {"path": "/health/live", "port": "http"})

    def test_locked_down_security_context(self):
        sc = self.container["securityContext"]
        self.assertTrue(sc["runAsNonRoot"])
        self.assertTrue(sc["readOnlyRootFilesystem"])
        self.assertFalse(sc["allowPrivilegeEscalation"])
        self.assertEqual(sc["capabilities"], {"drop": ["ALL"]})
        self.assertEqual(sc["seccompProfile"], {"type": "RuntimeDefault"})
        self.assertTrue(self.pod["securityContext"]["runAsNonRoot"])
        self.assertNotEqual(self.pod["securityContext"]["runAsUser"], 0)
        self.assertFalse(self.pod["automountServiceAccountToken"])
        # Only mounted volumes are writable: the data, /tmp.
        writable = {m["mountPath"] for m in self.container["volumeMounts"] if not m.get("readOnly")}
        self.assertEqual(writable, {"/var/lib/gatehouse", "/tmp"})

    def test_secrets_are_files_never_environment_values(self):
        mount = next(m for m in self.container["volumeMounts"] if m["name"] == "secrets")
        self.assertEqual(mount["mountPath"], SECRET_DIR)
        self.assertTrue(mount["readOnly"])
        volume = next(v for v in self.pod["volumes"] if v["name"] == "secrets")
        self.assertEqual(volume["secret"]["secretName"], "gh-gatehouse")
        for env in self.container["env"]:
            self.assertNotIn("valueFrom", env)
            self.assertNotIn(MASTER_KEY, str(env))
        toml = config_toml(self.objects)
        self.assertIn(f'master_key_file = "{SECRET_DIR}/master-key"', toml)
        self.assertNotIn(MASTER_KEY, toml)
        secret = one(self.objects, "Secret")
        self.assertEqual(sorted(secret["data"]), ["master-key"])
        self.assertEqual(secret["metadata"]["annotations"]["helm.sh/resource-policy"], "keep")

    def test_production_profile_sqlite_and_metrics_on_their_own_port(self):
        toml = config_toml(self.objects)
        self.assertIn('profile = "production"', toml)
        self.assertNotIn("database_url", toml)  # the SQLite default under data_dir
        self.assertIn('metrics_bind = "0.0.0.0:9090"', toml)
        ports = {p["name"]: p["containerPort"] for p in self.container["ports"]}
        self.assertEqual(ports, {"http": 8080, "metrics": 9090})

    def test_network_policy_admits_metrics_only_from_monitoring(self):
        policy = one(self.objects, "NetworkPolicy")
        metrics_rule = next(r for r in policy["spec"]["ingress"] if r["ports"][0]["port"] == "metrics")
        self.assertEqual(metrics_rule["from"][0]["namespaceSelector"]["matchLabels"], {"kubernetes.io/metadata.name": "monitoring"})

    def test_notes_tell_how_to_get_the_first_admin_password(self):
        text = notes(ci_values("single-node"))
        self.assertIn("Created the first administrator", text)
        self.assertIn("gatehouse user set-password admin --password-stdin", text)
        self.assertIn("gatehouse backup --to", text)


class ScaleOut(unittest.TestCase):
    def setUp(self):
        self.objects, _ = render(ci_values("scale-out"))
        self.deploy = one(self.objects, "Deployment")

    def test_autoscaled_and_disruption_budgeted(self):
        self.assertNotIn("replicas", self.deploy["spec"])  # the HPA owns it
        self.assertEqual(self.deploy["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"], 0)
        hpa = one(self.objects, "HorizontalPodAutoscaler")
        self.assertEqual(hpa["spec"]["scaleTargetRef"]["name"], self.deploy["metadata"]["name"])
        self.assertGreaterEqual(hpa["spec"]["minReplicas"], 2)
        pdb = one(self.objects, "PodDisruptionBudget")
        self.assertEqual(pdb["spec"]["selector"]["matchLabels"], self.deploy["spec"]["selector"]["matchLabels"])
        self.assertNotIn("PersistentVolumeClaim", kinds(self.objects))

    def test_migrations_run_as_a_hook_job_before_install_and_upgrade(self):
        job = one(self.objects, "Job")
        hooks = job["metadata"]["annotations"]
        self.assertEqual(hooks["helm.sh/hook"], "pre-install,pre-upgrade")
        pod = job["spec"]["template"]["spec"]
        self.assertEqual(pod["containers"][0]["args"], ["migrate", "up"])
        self.assertEqual(pod["restartPolicy"], "Never")
        # Its configuration and secrets exist before the release's own.
        for kind in ["ConfigMap", "Secret"]:
            obj = self.objects[(kind, "gh-gatehouse-migrate")]
            self.assertEqual(obj["metadata"]["annotations"]["helm.sh/hook"], "pre-install,pre-upgrade")
            self.assertLess(int(obj["metadata"]["annotations"]["helm.sh/hook-weight"]), int(hooks["helm.sh/hook-weight"]))
        self.assertNotIn("initContainers", self.deploy["spec"]["template"]["spec"])
        # Production keeps auto_migrate off: only the Job migrates.
        self.assertIn('profile = "production"', config_toml(self.objects, "gh-gatehouse-migrate"))
        self.assertNotIn("auto_migrate", config_toml(self.objects))

    def test_postgres_redis_admin_and_extra_settings_reach_the_config(self):
        toml = config_toml(self.objects)
        for line in [
            f'database_url_file = "{SECRET_DIR}/database-url"',
            f'redis_url_file = "{SECRET_DIR}/redis-url"',
            f'admin_token_file = "{SECRET_DIR}/admin-token"',
            'mfa = "required_for_admins"',
            "session_idle_secs = 3600",
            'trusted_proxies = "10.0.0.0/8"',
        ]:
            self.assertIn(line, toml)
        secret = self.objects[("Secret", "gh-gatehouse")]
        self.assertEqual(sorted(secret["data"]), ["admin-token", "database-url", "master-key", "redis-url"])

    def test_extra_env_carries_opentelemetry_variables_and_nothing_else(self):
        values = ci_values("scale-out")
        values["extraEnv"] = [{"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": "http://collector:4318"}]
        objects, _ = render(values)
        env = one(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]["env"]
        self.assertIn({"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": "http://collector:4318"}, env)
        # Settings and secrets have their own places.
        values["extraEnv"] = [{"name": "GATEHOUSE_MASTER_KEY", "value": MASTER_KEY}]
        self.assertIn("/extraEnv/0/name", render_error(values))

    def test_fixed_replicas_without_autoscaling(self):
        values = ci_values("scale-out")
        values["autoscaling"] = {"enabled": False}
        values["replicaCount"] = 4
        objects, _ = render(values)
        self.assertEqual(one(objects, "Deployment")["spec"]["replicas"], 4)
        self.assertNotIn("HorizontalPodAutoscaler", kinds(objects))

    def test_ingress_uses_the_issuer_host_with_tls(self):
        ingress = one(self.objects, "Ingress")
        self.assertEqual(ingress["spec"]["rules"][0]["host"], "id.example.com")
        self.assertEqual(ingress["spec"]["tls"][0]["hosts"], ["id.example.com"])
        self.assertEqual(ingress["spec"]["ingressClassName"], "nginx")
        values = ci_values("scale-out")
        values["ingress"] = {"enabled": False}
        objects, _ = render(values)
        self.assertNotIn("Ingress", kinds(objects))

    def test_service_monitor_scrapes_the_metrics_port(self):
        sm = one(self.objects, "ServiceMonitor")
        self.assertEqual(sm["spec"]["endpoints"][0]["port"], "metrics")
        self.assertEqual(sm["spec"]["selector"]["matchLabels"], self.deploy["spec"]["selector"]["matchLabels"])
        service = one(self.objects, "Service")
        self.assertIn("metrics", [p["name"] for p in service["spec"]["ports"]])

    def test_a_changed_secret_rolls_the_pods(self):
        values = ci_values("scale-out")
        values["secrets"]["adminToken"] = "f" * 32
        objects, _ = render(values)
        before = self.deploy["spec"]["template"]["metadata"]["annotations"]["checksum/secret"]
        after = one(objects, "Deployment")["spec"]["template"]["metadata"]["annotations"]["checksum/secret"]
        self.assertNotEqual(before, after)


class ExistingSecret(unittest.TestCase):
    def setUp(self):
        self.objects, _ = render(ci_values("existing-secret"))

    def test_no_secret_is_rendered_and_every_reader_mounts_the_named_one(self):
        self.assertNotIn("Secret", kinds(self.objects))
        deploy = one(self.objects, "Deployment")
        job = one(self.objects, "Job")
        for pod in [deploy["spec"]["template"]["spec"], job["spec"]["template"]["spec"]]:
            volume = next(v for v in pod["volumes"] if v["name"] == "secrets")
            self.assertEqual(volume["secret"]["secretName"], "gatehouse-secrets")
        self.assertEqual(deploy["spec"]["replicas"], 3)

    def test_bootstrap_password_and_metrics_token_come_from_it(self):
        toml = config_toml(self.objects)
        self.assertIn(f'bootstrap_admin_password_file = "{SECRET_DIR}/bootstrap-admin-password"', toml)
        self.assertIn(f'metrics_token_file = "{SECRET_DIR}/metrics-token"', toml)
        sm = one(self.objects, "ServiceMonitor")
        self.assertEqual(sm["spec"]["endpoints"][0]["authorization"]["credentials"], {"name": "gatehouse-secrets", "key": "metrics-token"})
        self.assertIn("get secret gatehouse-secrets", notes(ci_values("existing-secret")))


class Refusals(unittest.TestCase):
    def test_values_that_cannot_work_fail_the_render_with_a_reason(self):
        base = ci_values("single-node")
        cases = {
            "issuer is required": {k: v for k, v in base.items() if k != "issuer"},
            "secrets.masterKey (or secrets.existingSecret) is required": {**base, "secrets": {}},
            "scaleOut needs PostgreSQL": {**base, "mode": "scaleOut"},
            "redis.enabled is for scaleOut": {**base, "redis": {"enabled": True}, "secrets": {**base["secrets"], "redisUrl": "redis://r:6379"}},
            "issuer must be an https URL": {**base, "issuer": "http://id.example.com"},
            "/issuer": {**base, "issuer": "https://id.example.com/"},
            "/secrets/masterKey": {**base, "secrets": {"masterKey": "c2hvcnQ="}},
            "invalid propertyName 'issuer'": {**base, "config": {"issuer": "https://elsewhere.example"}},
            "/mode": {**base, "mode": "cluster"},
            "/metrics/port": {**base, "metrics": {"port": 8080}},
        }
        for expected, values in cases.items():
            with self.subTest(expected=expected):
                self.assertIn(expected, render_error(copy.deepcopy(values)))


@unittest.skipUnless(os.environ.get("GATEHOUSE_BIN"), "GATEHOUSE_BIN names no gatehouse binary")
class RenderedConfigIsAccepted(unittest.TestCase):
    """`gatehouse config check` on the rendered file, with the Secret's
    files where the chart mounts them (moved into a temporary directory)."""

    def check(self, values_name):
        objects, _ = render(ci_values(values_name))
        values = ci_values(values_name)
        with tempfile.TemporaryDirectory() as tmp:
            secrets = pathlib.Path(tmp, "secrets")
            secrets.mkdir()
            given = {
                "master-key": MASTER_KEY,
                "database-url": "postgres://gatehouse:pw@127.0.0.1:5432/gatehouse",
                "redis-url": "redis://127.0.0.1:6379/0",
                "admin-token": "a" * 32,
                "metrics-token": "m" * 16,
                "bootstrap-admin-password": "correct horse battery staple",
            }
            for key, value in given.items():
                (secrets / key).write_text(value + "\n")
            toml = config_toml(objects).replace(SECRET_DIR, str(secrets)).replace("/var/lib/gatehouse", tmp)
            path = pathlib.Path(tmp, "gatehouse.toml")
            path.write_text(toml)
            env = {k: v for k, v in os.environ.items() if not k.startswith("GATEHOUSE_")}
            done = subprocess.run(
                [os.environ["GATEHOUSE_BIN"], "--config", str(path), "--json", "config", "check"],
                capture_output=True, text=True, env=env, timeout=60,
            )
            self.assertEqual(done.returncode, 0, done.stderr)
            self.assertNotIn(MASTER_KEY, done.stdout + done.stderr)
            self.assertIn(values["issuer"], done.stdout)

    def test_single_node(self):
        self.check("single-node")

    def test_scale_out(self):
        self.check("scale-out")

    def test_existing_secret(self):
        self.check("existing-secret")


if __name__ == "__main__":
    unittest.main()
