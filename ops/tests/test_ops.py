"""The alert rules and the dashboard, judged by Prometheus's own promtool
(Debian's `prometheus` package): rules parse and pass their unit tests,
every dashboard query is valid PromQL, and every Gatehouse metric either
names is one the server registers (src/web/metrics.rs).

Run from the repository root: python3 -m unittest discover -s ops/tests
"""

import json
import pathlib
import re
import shutil
import subprocess
import tempfile
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[2]
RULES = ROOT / "ops" / "prometheus" / "gatehouse-rules.yml"
RULE_TESTS = ROOT / "ops" / "prometheus" / "gatehouse-rules.test.yml"
DASHBOARD = ROOT / "ops" / "grafana" / "gatehouse.json"
METRICS_SRC = ROOT / "src" / "web" / "metrics.rs"
PROMTOOL = shutil.which("promtool")


def registered_metrics():
    """Names passed to Opts::new / *::new("name", "help") in metrics.rs."""
    text = METRICS_SRC.read_text()
    names = re.findall(r'(?:Opts::new|HistogramOpts::new|IntCounter::new|IntGauge::new|IntGauge::with_opts\(\s*Opts::new)\(\s*"([a-z_]+)"', text)
    return {"gatehouse_" + n for n in names}


def referenced_metrics(text):
    names = set(re.findall(r"\bgatehouse_[a-z_]+", text))
    return {re.sub(r"_(bucket|sum|count)$", "", n) for n in names}


def dashboard_queries():
    dash = json.loads(DASHBOARD.read_text())
    for panel in dash["panels"]:
        for target in panel.get("targets", []):
            yield panel["title"], target["expr"]


def promtool(*args):
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=120)


@unittest.skipUnless(PROMTOOL, "promtool (Debian package prometheus) is not installed")
class Rules(unittest.TestCase):
    def test_rules_parse(self):
        done = promtool("check", "rules", str(RULES))
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)

    def test_rules_pass_their_unit_tests(self):
        done = promtool("test", "rules", str(RULE_TESTS))
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)

    def test_every_alert_has_a_runbook_that_exists_and_a_test(self):
        import yaml

        rules = yaml.safe_load(RULES.read_text())
        tested = RULE_TESTS.read_text()
        for group in rules["groups"]:
            for rule in group["rules"]:
                if "alert" not in rule:
                    continue
                with self.subTest(alert=rule["alert"]):
                    runbook = rule["annotations"]["runbook"]
                    self.assertTrue((ROOT / runbook).is_file(), runbook)
                    self.assertIn(f"alertname: {rule['alert']}\n", tested)
                    self.assertIn(rule["labels"]["severity"], {"warning", "critical"})

    def test_dashboard_queries_are_valid_promql(self):
        # promtool has no bare expression check offline: each query becomes
        # a recording rule, with Grafana's variables filled in.
        rules = []
        for i, (title, expr) in enumerate(dashboard_queries()):
            expr = expr.replace("$__rate_interval", "5m").replace("$instance", ".*")
            rules.append({"record": f"dashboard:q{i}", "expr": expr, "labels": {"panel": title}})
        with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
            json.dump({"groups": [{"name": "dashboard", "rules": rules}]}, f)  # JSON is YAML
        try:
            done = promtool("check", "rules", f.name)
            self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        finally:
            pathlib.Path(f.name).unlink()


class Consistency(unittest.TestCase):
    def test_rules_and_dashboard_name_only_metrics_the_server_has(self):
        known = registered_metrics()
        self.assertIn("gatehouse_http_request_duration_seconds", known)  # the parser works
        for source in [RULES, DASHBOARD]:
            with self.subTest(file=source.name):
                unknown = referenced_metrics(source.read_text()) - known
                self.assertEqual(unknown, set())

    def test_dashboard_covers_every_alerted_metric(self):
        alerted = referenced_metrics(RULES.read_text())
        shown = referenced_metrics(DASHBOARD.read_text())
        self.assertEqual(alerted - shown, set())

    def test_dashboard_panels_have_unique_ids_and_do_not_overlap(self):
        dash = json.loads(DASHBOARD.read_text())
        ids = [p["id"] for p in dash["panels"]]
        self.assertEqual(len(ids), len(set(ids)))
        cells = {}
        for p in dash["panels"]:
            g = p["gridPos"]
            self.assertLessEqual(g["x"] + g["w"], 24, p["title"])
            for x in range(g["x"], g["x"] + g["w"]):
                for y in range(g["y"], g["y"] + g["h"]):
                    self.assertNotIn((x, y), cells, f"{p['title']} overlaps {cells.get((x, y))}")
                    cells[(x, y)] = p["title"]
        self.assertEqual(dash["templating"]["list"][0]["type"], "datasource")


if __name__ == "__main__":
    unittest.main()
