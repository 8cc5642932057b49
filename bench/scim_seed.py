"""Seeds users over SCIM (default) or pages through them all ("page").
Environment: SCIM_BASE, SCIM_TOKEN, SCIM_USERS. Standard library only."""

import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

BASE = urllib.parse.urlparse(os.environ["SCIM_BASE"])
HEADERS = {"Authorization": "Bearer " + os.environ["SCIM_TOKEN"], "Content-Type": "application/scim+json"}
USERS = int(os.environ.get("SCIM_USERS", "100000"))


def conn():
    return http.client.HTTPConnection(BASE.hostname, BASE.port, timeout=30)


def seed(worker, workers, errors):
    c = conn()
    for i in range(worker, USERS, workers):
        body = {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "user-%07d" % i,
            "externalId": "ext-%d" % i,
            "name": {"givenName": "Given%d" % i, "familyName": "Family%d" % (i % 1000)},
            "emails": [{"value": "user-%07d@example.com" % i, "type": "work", "primary": True}],
        }
        c.request("POST", BASE.path + "/Users", json.dumps(body), HEADERS)
        r = c.getresponse()
        r.read()
        if r.status != 201:
            errors.append(r.status)


def page():
    c = conn()
    start, seen, t0 = 1, 0, time.monotonic()
    while True:
        c.request("GET", "%s/Users?startIndex=%d&count=1000" % (BASE.path, start), headers=HEADERS)
        r = c.getresponse()
        body = json.loads(r.read())
        n = len(body["Resources"])
        seen += n
        if n == 0:
            break
        start += n
    dt = time.monotonic() - t0
    print("paged %d users in %.1f s (%.0f users/s, %d pages)" % (seen, dt, seen / dt, (seen + 999) // 1000))


if __name__ == "__main__":
    if sys.argv[1:] == ["page"]:
        page()
        sys.exit(0)
    errors, workers, t0 = [], 8, time.monotonic()
    threads = [threading.Thread(target=seed, args=(w, workers, errors)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dt = time.monotonic() - t0
    print("created %d users in %.1f s (%.0f/s), %d errors" % (USERS - len(errors), dt, (USERS - len(errors)) / dt, len(errors)))
    sys.exit(1 if errors else 0)
